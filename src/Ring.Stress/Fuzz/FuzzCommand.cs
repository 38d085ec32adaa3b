using System.CommandLine;

namespace Ring.Stress.Fuzz;

/// <summary>The <c>fuzz</c> subcommand: hostile segment data against every read and write entry point.</summary>
public static class FuzzCommand
{
    /// <summary>Cases per kind that CI runs.</summary>
    public const int CiCases = 20_000;

    public static Command Create()
    {
        Option<int> cases = new("--cases")
        {
            Description = "Cases per kind.",
            HelpName = "N",
            DefaultValueFactory = _ => CiCases,
        };
        cases.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1) r.AddError("--cases must be at least 1.");
        });
        Option<ulong> seed = new("--seed")
        {
            Description = "Seed of the run: case i of a kind has a seed derived from it, printed when the case fails.",
            HelpName = "S",
            DefaultValueFactory = _ => (ulong)(Environment.TickCount64 & int.MaxValue),
        };
        Option<string> kind = new("--kind") { Description = "Ring kinds to fuzz.", DefaultValueFactory = _ => "both" };
        kind.AcceptOnlyFromAmong("spsc", "mpmc", "both");
        Option<ulong?> single = new("--case") { Description = "Replay one case by the seed a failure printed (with its --kind).", HelpName = "SEED" };
        Option<string?> json = new("--json") { Description = "Write the JSON report here.", HelpName = "PATH" };
        Command command = new("fuzz", "Hostile-data fuzzing: corrupts live SPSC and MPMC segments holding messages (random bytes, impossible lengths, positions and sequences) and calls every read and write entry point on fresh endpoints. A case fails when a call hangs past its deadline + 1 s, hands out a span outside the mapping, or throws anything but RingCorruptedException or the documented ArgumentException. Exit 0 when no case failed, 1 otherwise.")
        {
            cases,
            seed,
            kind,
            single,
            json,
        };
        command.SetAction(parsed =>
        {
            string chosen = parsed.GetValue(kind)!;
            RingKind[] kinds = chosen switch
            {
                "spsc" => [RingKind.Spsc],
                "mpmc" => [RingKind.Mpmc],
                _ => [RingKind.Spsc, RingKind.Mpmc],
            };
            string directory = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"ring-fuzz-{Environment.ProcessId}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            HostileFuzz.Settings settings = new(kinds, parsed.GetValue(cases), parsed.GetValue(seed), directory, parsed.GetValue(single));
            Console.WriteLine(settings.Case is { } replay
                ? $"fuzz: replaying case {replay} ({chosen})"
                : $"fuzz: {settings.Cases:N0} cases per kind ({chosen}), seed {settings.Seed}");
            FuzzReport report = HostileFuzz.Run(settings, Console.Out);
            if (report.Failures.Any(f => f.Hung)) Console.WriteLine($"fuzz: left {directory} behind: a hung case still uses it");
            else Directory.Delete(directory, recursive: true);
            if (parsed.GetValue(json) is { } path) File.WriteAllText(path, report.ToJson() + "\n");
            Console.WriteLine($"fuzz: {(report.Ok ? "PASS" : "FAIL")} · {report.Kinds.Sum(k => k.Cases):N0} cases, {report.Kinds.Sum(k => k.Calls):N0} calls, {report.Failures.Count} failed, {report.ElapsedS:0.0} s");
            return report.Ok ? 0 : 1;
        });
        return command;
    }
}
