using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using Ring.Integrity;
using Xunit.Abstractions;

namespace Ring.Tests.Integrity;

/// <summary>
/// Data integrity under generated interleavings: the sampler draws a scenario and a schedule, the step scheduler
/// runs it, and the history is checked (payloads, nothing lost/duplicated/invented, per-producer order,
/// linearizability, no lost wake-up). A failure is shrunk to a small scenario and schedule and reported with
/// the realised schedule and the history; the report replays through <see cref="ScheduledRun.Execute"/>.
/// </summary>
public sealed class InterleavingPropertyTests(ITestOutputHelper output)
{
    /// <summary>The CI budget per shape; <see cref="Soak.ScaleVariable"/> multiplies it.</summary>
    public const int SchedulesPerShape = 3_000;

    [Theory]
    [InlineData(RingShape.Spsc1P1C)]
    [InlineData(RingShape.Mpmc1P1C)]
    [InlineData(RingShape.Mpmc2P1C)]
    [InlineData(RingShape.Mpmc1P2C)]
    [InlineData(RingShape.Mpmc2P2C)]
    public void ScheduledRuns_CorrectRing_KeepEveryMessageIntactAndInOrder(RingShape shape)
    {
        int schedules = SchedulesPerShape * Soak.Scale;
        long steps = 0;
        Stopwatch clock = Stopwatch.StartNew();
        Check.One(Configuration(schedules), Property(shape, RingVariant.Correct, outcome => steps += outcome.Steps));
        output.WriteLine($"{shape}: {schedules} schedules, {steps:N0} scheduled steps in {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>Replays a failure: set to the "(seed,gamma)" pair FsCheck printed after "Falsifiable, after N tests".</summary>
    public const string ReplayVariable = "RING_INTEGRITY_REPLAY";

    internal static Config Configuration(int maxTest)
    {
        Config config = Config.QuickThrowOnFailure.WithMaxTest(maxTest);
        string? replay = Environment.GetEnvironmentVariable(ReplayVariable);
        if (string.IsNullOrWhiteSpace(replay)) return config;
        string[] parts = replay.Trim().Trim('(', ')').Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || !ulong.TryParse(parts[0], out ulong seed) || !ulong.TryParse(parts[1], out ulong gamma))
            throw new InvalidOperationException($"{ReplayVariable} must be the \"(seed,gamma)\" pair FsCheck printed, not '{replay}'.");
        return config.WithReplay(new Replay(new Rnd(seed, gamma), Microsoft.FSharp.Core.FSharpOption<int>.None));
    }

    /// <summary>
    /// FsCheck draws only the sampler's seed and passes its size on: a replay pair then names the same cases, and the
    /// scenarios and schedules still grow over the run.
    /// </summary>
    private static Gen<ScheduledCase> Cases(RingShape shape) =>
        Gen.Sized(size => Gen.Choose(0, int.MaxValue).Select(seed => ScenarioSampler.Scheduled(shape, new Random(seed), size)));

    internal static Property Property(RingShape shape, RingVariant variant, Action<ScheduledOutcome>? observe = null) =>
        Prop.ForAll(
            Arb.From(Cases(shape), ScenarioSampler.Shrink),
            (ScheduledCase scheduled) =>
            {
                ScheduledOutcome outcome = ScheduledRun.Execute(scheduled, variant);
                observe?.Invoke(outcome);
                if (!outcome.Passed) throw new IntegrityViolationException(outcome.Report);
                return true;
            });
}
