using System.CommandLine;
using System.Globalization;
using Ring.Bench.Common;

namespace Ring.Bench.Fanout;

/// <summary>The <c>fanout</c> command and the hidden <c>fanout-child</c> subscriber process it starts.</summary>
internal static class FanoutCommands
{
    public const string ChildCommandName = "fanout-child";
    public const string TransportOptionName = "--transport";
    public const string SizeOptionName = "--size";
    public const string EndpointOptionName = "--endpoint";
    public const string ReportOptionName = "--report";
    private const int MinSize = sizeof(long);
    private const int MaxSize = 1 << 16;
    private const int MaxSubscribers = 16;

    public static Command CreateFanout()
    {
        Option<string> subscribers = new("--subscribers")
        {
            Description = $"Comma-separated subscriber counts, 1 to {MaxSubscribers}.",
            DefaultValueFactory = _ => "1,2,4",
        };
        subscribers.Validators.Add(result =>
        {
            if (ParseList(result.GetValueOrDefault<string>(), 1, MaxSubscribers) is null)
                result.AddError($"--subscribers must be a comma-separated list of counts from 1 to {MaxSubscribers}.");
        });
        Option<string> sizes = new("--sizes")
        {
            Description = $"Comma-separated message sizes in bytes, {MinSize} to {MaxSize}.",
            DefaultValueFactory = _ => "64",
        };
        sizes.Validators.Add(result =>
        {
            if (ParseList(result.GetValueOrDefault<string>(), MinSize, MaxSize) is null)
                result.AddError($"--sizes must be a comma-separated list of sizes from {MinSize} to {MaxSize} bytes.");
        });
        Option<string> transports = new("--transports")
        {
            Description = "Comma-separated transports, in this order: " + string.Join(",", FanoutTransport.All.Select(t => t.Name)) + " (default: all).",
            DefaultValueFactory = _ => string.Join(",", FanoutTransport.All.Select(t => t.Name)),
        };
        transports.Validators.Add(result =>
        {
            if (ParseTransports(result.GetValueOrDefault<string>()) is null)
                result.AddError("--transports must be a comma-separated list of: " + string.Join(", ", FanoutTransport.All.Select(t => t.Name)) + ".");
        });
        Option<bool> quick = new("--quick") { Description = "2 rounds of 0.25 s streams after 1 s warm-ups: about a minute." };
        Option<string> json = new("--json") { Description = "Also write the medians and each round's publisher rate as JSON to this file." };
        Command fanout = new("fanout", "One publisher, N subscriber processes, every message to every subscriber: a Ring broadcast ring against N SPSC rings and N pipes, in the same run.")
        {
            subscribers, sizes, transports, quick, json,
        };
        fanout.SetAction(parse =>
        {
            bool isQuick = parse.GetValue(quick);
            return FanoutParent.Run(new FanoutSettings(
                ParseList(parse.GetValue(subscribers), 1, MaxSubscribers)!,
                ParseList(parse.GetValue(sizes), MinSize, MaxSize)!,
                ParseTransports(parse.GetValue(transports))!,
                Rounds: isQuick ? 2 : 3,
                StreamDuration: TimeSpan.FromSeconds(isQuick ? 0.25 : 2),
                WarmupTime: TimeSpan.FromSeconds(isQuick ? 1 : 2),
                parse.GetValue(json)));
        });
        return fanout;
    }

    public static Command CreateChild()
    {
        Option<string> transport = new(TransportOptionName) { Required = true };
        Option<int> size = new(SizeOptionName) { Required = true };
        Option<string> endpoint = new(EndpointOptionName) { Required = true };
        Option<string> report = new(ReportOptionName) { Required = true };
        Command child = new(ChildCommandName, "A fanout subscriber; started by 'fanout'.")
        {
            transport, size, endpoint, report,
        };
        child.Hidden = true;
        child.SetAction(parse =>
        {
            try
            {
                return FanoutChild.Run(FanoutTransport.Parse(parse.GetValue(transport)!), parse.GetValue(size), parse.GetValue(endpoint)!, parse.GetValue(report)!);
            }
            catch (BenchFailure e)
            {
                Console.Error.WriteLine($"fanout-child: error: {e.Message}");
                return 1;
            }
        });
        return child;
    }

    private static List<FanoutTransport>? ParseTransports(string? text)
    {
        List<FanoutTransport> transports = [];
        foreach (string part in (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            FanoutTransport? transport = FanoutTransport.All.FirstOrDefault(t => t.Name == part);
            if (transport is null) return null;
            transports.Add(transport);
        }
        return transports.Count == 0 ? null : transports.Distinct().ToList();
    }

    private static List<int>? ParseList(string? text, int min, int max)
    {
        List<int> values = [];
        foreach (string part in (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < min || value > max) return null;
            values.Add(value);
        }
        return values.Count == 0 ? null : values.Distinct().ToList();
    }
}
