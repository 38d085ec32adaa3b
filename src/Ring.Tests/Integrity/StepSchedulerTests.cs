using Ring.Integrity;

namespace Ring.Tests.Integrity;

public sealed class StepSchedulerTests
{
    [Theory]
    [InlineData(RingShape.Spsc1P1C)]
    [InlineData(RingShape.Mpmc2P2C)]
    public void Execute_SameCaseTwice_GivesTheSameRunStepForStep(RingShape shape)
    {
        foreach (ScheduledCase scheduled in Sample(shape, new Random(42), 30).Take(20))
        {
            ScheduledOutcome first = ScheduledRun.Execute(scheduled);
            ScheduledOutcome second = ScheduledRun.Execute(scheduled);

            Assert.True(first.Passed, first.Report);
            Assert.Equal(first.Steps, second.Steps);
            Assert.Equal(first.Verdict.FormatHistory(int.MaxValue), second.Verdict.FormatHistory(int.MaxValue));
        }
    }

    [Fact]
    public void Execute_FailingCaseReplayed_FailsTheSameWay()
    {
        ScheduledCase failing = Sample(RingShape.Spsc1P1C, new Random(7), 8).Take(3_000)
            .First(c => !ScheduledRun.Execute(c, RingVariant.SkipRecheckBeforeSleep).Passed);

        ScheduledOutcome first = ScheduledRun.Execute(failing, RingVariant.SkipRecheckBeforeSleep);
        ScheduledOutcome replay = ScheduledRun.Execute(failing, RingVariant.SkipRecheckBeforeSleep);

        Assert.False(first.Passed);
        Assert.Contains("lost wake-up", first.Report);
        Assert.Equal(first.Report, replay.Report);
    }

    [Fact]
    public void Execute_EveryThreadAsleepWithNothingToDo_FiresTheEarliestTimeoutInsteadOfReportingAStall()
    {
        // The consumer's blocking read times out on an empty ring: legitimate, so the run passes and virtual time jumps.
        Scenario scenario = new(RingShape.Spsc1P1C, 64, 8, WaitMode.SleepAtOnce,
            [[new ScenarioOp(ScenarioOpKind.TryWrite, 8, 0)]],
            [[new ScenarioOp(ScenarioOpKind.TryRead, 0, 0), new ScenarioOp(ScenarioOpKind.Read, 0, 200), new ScenarioOp(ScenarioOpKind.Read, 0, 200)]]);

        ScheduledOutcome outcome = ScheduledRun.Execute(new ScheduledCase(scenario, [], 1));

        Assert.True(outcome.Passed, outcome.Report);
        Assert.False(outcome.Verdict.History.Last(op => op.Thread == 1).Succeeded);
        Assert.True(outcome.VirtualTime >= 200 * StepScheduler.TicksPerStep, $"virtual time ended at {outcome.VirtualTime} ticks");
    }

    private static IEnumerable<ScheduledCase> Sample(RingShape shape, Random random, int size)
    {
        while (true) yield return ScenarioSampler.Scheduled(shape, random, size);
    }
}
