using System.Text;

namespace Ring.Integrity;

/// <summary>One scenario under one schedule through the step scheduler, checked; the report says everything needed to replay it.</summary>
internal static class ScheduledRun
{
    /// <summary>Far above what any generated scenario needs when the ring works (a few hundred to a few thousand steps).</summary>
    public const int MaxSteps = 50_000;

    public static ScheduledOutcome Execute(ScheduledCase scheduled, RingVariant variant = RingVariant.Correct)
    {
        ScenarioRunner? runner = null;
        StepScheduler scheduler = new(scheduled.Choices, scheduled.Seed, MaxSteps, parked => runner!.DiagnoseStall(parked));
        // One thread runs at a time, so a counter bumped on every reading orders events as they really happened,
        // and no two readings tie (a thread's next call starts strictly after its previous one returned).
        long time = 0;
        using (runner = new ScenarioRunner(scheduled.Scenario, EndpointFactories.Scheduled(variant, scheduler), () => ++time))
        {
            runner.BeginRun();
            scheduler.Run(runner.Bodies());
            RunVerdict verdict = runner.Check(scheduler.Failure);
            return new ScheduledOutcome(verdict, verdict.Passed ? "" : Report(scheduled, variant, verdict, scheduler), scheduler.Steps, scheduler.Now);
        }
    }

    private static string Report(ScheduledCase scheduled, RingVariant variant, RunVerdict verdict, StepScheduler scheduler)
    {
        StringBuilder text = new();
        text.Append($"integrity violation ({variant} ring, {scheduler.Steps} steps):\n");
        foreach (string problem in verdict.Problems) text.Append("  - ").Append(problem).Append('\n');
        text.Append($"case: {scheduled}\n");
        text.Append($"realised schedule: {scheduler.FormatSchedule()}\n");
        text.Append("last steps:\n").Append(scheduler.FormatTrace());
        text.Append("history:\n").Append(verdict.FormatHistory());
        return text.ToString();
    }
}

/// <param name="VirtualTime">Where the virtual clock ended, in Stopwatch ticks.</param>
internal sealed record ScheduledOutcome(RunVerdict Verdict, string Report, int Steps, long VirtualTime)
{
    public bool Passed => Verdict.Passed;
}

/// <summary>Thrown by a property when a scheduled run fails; FsCheck shrinks the case and reports this message.</summary>
public sealed class IntegrityViolationException(string report) : Exception(report);
