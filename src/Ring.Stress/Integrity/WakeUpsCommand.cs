using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ring.Integrity;

namespace Ring.Stress.Integrity;

/// <summary>The <c>wakeups</c> subcommand: the lost-wake-up detector on real cores, for as long as asked.</summary>
public static class WakeUpsCommand
{
    public static Command Create()
    {
        Option<string> direction = new("--direction")
        {
            Description = "Which end sleeps: tail (a reader on an empty ring), head (a writer on a full ring), or both in turn.",
            HelpName = "tail|head|both",
            DefaultValueFactory = _ => "both",
        };
        direction.AcceptOnlyFromAmong("tail", "head", "both");
        Option<string> mutation = FenceMutationOption.Create("Run a deliberately broken ring: the tail or the head published without its fence. The detector must catch it.");
        Option<double> seconds = new("--seconds")
        {
            Description = "How long each direction runs.",
            HelpName = "S",
            DefaultValueFactory = _ => 10,
        };
        seconds.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() <= 0) r.AddError("--seconds must be positive.");
        });
        Option<bool> stopAtFirst = new("--stop-at-first") { Description = "End a direction at its first lost wake-up." };
        Option<int> seed = new("--seed")
        {
            Description = "Seed of the signaller's random delays.",
            HelpName = "SEED",
            DefaultValueFactory = _ => Environment.TickCount & int.MaxValue,
        };
        Option<int> jitter = new("--jitter")
        {
            Description = "The signaller spins 0 to this many SpinWait(1) steps before each publish.",
            HelpName = "STEPS",
            DefaultValueFactory = _ => LostWakeUpDetector.DefaultJitterSteps,
        };
        Option<FileInfo?> json = new("--json") { Description = "Also write the results as JSON to this file.", HelpName = "PATH" };
        Command command = new("wakeups", "Lost-wake-up detector on real cores: a sleeper that sleeps at once and a signaller that publishes across its register-and-re-check window, round after round; a round where the sleeper slept, nobody woke it and the message or room waited past 100 ms is a lost wake-up. Exits 1 if any was seen.")
        {
            direction,
            mutation,
            seconds,
            stopAtFirst,
            seed,
            jitter,
            json,
        };
        command.SetAction(parsed =>
        {
            string which = parsed.GetValue(direction)!;
            RingVariant variant = FenceMutationOption.Variant(parsed.GetValue(mutation));
            WakeDirection[] directions = which switch
            {
                "tail" => [WakeDirection.Tail],
                "head" => [WakeDirection.Head],
                _ => [WakeDirection.Tail, WakeDirection.Head],
            };
            string directory = Path.Combine("/dev/shm", $"ring-wakeups-{Environment.ProcessId}");
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            List<LostWakeUpDetector.Result> results = [];
            Console.WriteLine($"wakeups: publishing: {PublishOrdering.Describe()}");
            try
            {
                foreach (WakeDirection d in directions)
                {
                    LostWakeUpDetector.Settings settings = new(d, variant, TimeSpan.FromSeconds(parsed.GetValue(seconds)), parsed.GetValue(stopAtFirst), parsed.GetValue(seed), parsed.GetValue(jitter));
                    LostWakeUpDetector.Result result = LostWakeUpDetector.Run(settings, directory);
                    results.Add(result);
                    Console.WriteLine(result.Describe());
                    if (result.FirstLoss is not null) Console.WriteLine($"  first: {result.FirstLoss}");
                }
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
            if (parsed.GetValue(json) is { } file)
            {
                List<WakeUpsJson> rows = results.ConvertAll(r => new WakeUpsJson(
                    r.Direction.ToString().ToLowerInvariant(), r.Variant.ToString(), r.Rounds, r.RoundsSlept, r.LostWakeUps,
                    r.FirstLossAfter?.TotalSeconds, r.MaxHealthyDelay.TotalMicroseconds, r.Elapsed.TotalSeconds));
                File.WriteAllText(file.FullName, JsonSerializer.Serialize(rows, WakeUpsJsonContext.Default.ListWakeUpsJson) + "\n");
            }
            return results.Exists(r => r.LostWakeUps > 0) ? 1 : 0;
        });
        return command;
    }
}

/// <summary>One direction's result in <c>wakeups --json</c>.</summary>
public sealed record WakeUpsJson(
    string Direction,
    string Mutation,
    long Rounds,
    long RoundsSlept,
    long LostWakeups,
    double? FirstLossAfterS,
    double MaxHealthyDelayUs,
    double ElapsedS);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(List<WakeUpsJson>))]
public sealed partial class WakeUpsJsonContext : JsonSerializerContext;
