using System.CommandLine;
using System.Text.Json;
using Ring.Bench.Chart;
using Ring.Bench.Compare;

Argument<string> input = new("compare-json") { Description = "The file `Ring.Bench compare --json PATH` wrote." };
Argument<string> output = new("png") { Description = "The PNG to draw, e.g. docs/benchmarks-compare.png." };
RootCommand root = new("Draws a Ring.Bench compare run: per message size, round-trip latency (p50 bars, p99 marks) and one-way "
    + "throughput, coloured by transport family, with the spread across rounds.")
{
    input, output,
};
root.SetAction(parse =>
{
    string from = parse.GetValue(input)!;
    string to = parse.GetValue(output)!;
    try
    {
        List<CompareRecord> records = JsonSerializer.Deserialize(File.ReadAllText(from), CompareJsonContext.Default.ListCompareRecord)
            ?? throw new JsonException("the file holds null");
        CompareChart.Draw(records, to);
        Console.WriteLine($"drew {records.Count} records from {from} to {to}");
        return 0;
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidDataException)
    {
        Console.Error.WriteLine($"chart: error: {e.Message}");
        return 1;
    }
});
return root.Parse(args).Invoke();
