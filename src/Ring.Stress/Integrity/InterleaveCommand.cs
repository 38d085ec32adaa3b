using System.CommandLine;
using Ring.Integrity;

namespace Ring.Stress.Integrity;

/// <summary>The <c>interleave</c> subcommand: the integrity harness's stress mode on free-running threads.</summary>
public static class InterleaveCommand
{
    public const int CiScenarios = 200;
    public const int CiRunsPerScenario = 1_000;

    public static Command Create()
    {
        Option<int> scenarios = new("--scenarios")
        {
            Description = "Generated scenarios, spread over the shapes SPSC 1P1C and MPMC 1P1C, 2P1C, 1P2C, 2P2C.",
            HelpName = "N",
            DefaultValueFactory = _ => CiScenarios,
        };
        Option<int> runs = new("--runs")
        {
            Description = $"Runs of each scenario on free threads (times {Soak.ScaleVariable}).",
            HelpName = "N",
            DefaultValueFactory = _ => CiRunsPerScenario,
        };
        Option<int> seed = new("--seed")
        {
            Description = "Seed of the scenario generator; a failure report names it, and the same seed regenerates the same scenarios.",
            HelpName = "SEED",
            DefaultValueFactory = _ => Environment.TickCount & int.MaxValue,
        };
        Option<bool> blocking = new("--blocking")
        {
            Description = "Balanced scenarios instead: every wait sleeps at once, consumers read exactly what producers write, all with " +
                $"blocking calls of a {FreeRunStress.BlockingTimeout.TotalSeconds:0} s timeout, in the smallest rings. A call that waits past " +
                $"{FreeRunStress.StallLimit.TotalMilliseconds:0} ms is a probable lost wake-up (an SPSC one: MPMC sleepers wake within 100 ms on their own).",
        };
        Option<string> mutation = FenceMutationOption.Create(
            "With --blocking, run a deliberately broken SPSC ring (every scenario SPSC 1P1C): the tail or the head published without its fence. The run must fail.");
        foreach (Option<int> option in new[] { scenarios, runs })
        {
            option.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<int>() < 1) r.AddError($"{option.Name} must be at least 1.");
            });
        }
        Command command = new("interleave", "Integrity stress: generated scenarios on free-running threads started behind a barrier, each run checked for lost, duplicated, invented, reordered or corrupted messages and for linearizability.")
        {
            scenarios,
            runs,
            seed,
            blocking,
            mutation,
        };
        command.Validators.Add(r =>
        {
            // Without --blocking a lost wake-up passes for a legal timeout: a mutation there could not fail the run.
            if (FenceMutationOption.Variant(r.GetResult(mutation)?.GetValueOrDefault<string>()) != RingVariant.Correct && r.GetResult(blocking)?.GetValueOrDefault<bool>() != true)
                r.AddError("--mutation goes with --blocking.");
        });
        command.SetAction(parsed =>
        {
            FreeRunStress.Settings settings = new(parsed.GetValue(scenarios), parsed.GetValue(runs) * Soak.Scale, parsed.GetValue(seed),
                parsed.GetValue(blocking), FenceMutationOption.Variant(parsed.GetValue(mutation)));
            string mode = settings.Blocking ? $"blocking, {settings.Variant}" : "short waits";
            Console.WriteLine($"interleave: {settings.Scenarios} scenarios × {settings.RunsPerScenario:N0} runs on free threads ({mode}), seed {settings.Seed}; publishing: {PublishOrdering.Describe()}");
            FreeRunStress.Result result = FreeRunStress.Run(settings, Console.Out);
            double rate = result.Runs / Math.Max(result.Elapsed.TotalSeconds, 1e-9);
            Console.WriteLine($"interleave: {(result.Failures == 0 ? "PASS" : "FAIL")} · {result.Runs:N0} runs ({rate:N0}/s; {result.OverlappingRuns * 100.0 / Math.Max(1, result.Runs):F0}% with overlapping calls), {result.Operations:N0} operations checked, {result.Failures} scenario(s) failed, {result.Elapsed.TotalSeconds:F1} s");
            return result.Failures == 0 ? 0 : 1;
        });
        return command;
    }
}
