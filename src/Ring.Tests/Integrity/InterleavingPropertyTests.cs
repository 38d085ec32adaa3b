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

    /// <summary>
    /// Found by this property (2P2C, shrunk): a completion, one write still in flight and two blocking readers that
    /// registered after the completer's wake-all. The publish woke one reader, which took the last message; the other
    /// slept on in a drained, completed ring until its sleep limit. The completer now puts the readers' eventcount in
    /// wake-all mode. Without that, this schedule reports the lost wake-up.
    /// </summary>
    [Fact]
    public void ScheduledRun_CompletedMpmcWithTheLastMessageInFlightAndTwoSleepingReaders_WakesBoth()
    {
        Scenario scenario = new(RingShape.Mpmc2P2C, Size: 8, MaxMessageLength: 16, WaitMode.SleepAtOnce,
            [[new(ScenarioOpKind.Complete, 0, 0), new(ScenarioOpKind.TryWrite, 13, 0)], [new(ScenarioOpKind.Write, 12, 72)]],
            [[new(ScenarioOpKind.Read, 0, 127)], [new(ScenarioOpKind.Read, 0, 38)]]);
        int[] choices = [1, 3, 2, 3, 0, 0, 0, 3, 0, 1, 0, 0, 2, 3, 0, 0, 1, 0, 2, 1, 3, 2, 1, 2, 0, 3, 2, 0, 3, 0, 0, 1, 0, 3, 0, 2, 1, 2, 3, 2, 3, 3, 1, 2, 0, 2, 2, 2, 0, 3, 2, 0, 2, 0, 3, 0, 2, 0];

        ScheduledOutcome outcome = ScheduledRun.Execute(new ScheduledCase(scenario, choices, Seed: 1257604842));

        Assert.True(outcome.Passed, outcome.Report);
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
