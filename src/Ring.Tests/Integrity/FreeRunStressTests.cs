using System.Diagnostics;
using Ring.Integrity;
using Xunit.Abstractions;

namespace Ring.Tests.Integrity;

/// <summary>
/// The free-thread stress mode on real cores. In the lost-wake-up detector's collection: the blocking runs judge how long
/// each call waited, and must have the two cores to themselves while they do.
/// </summary>
[Collection(LostWakeUpCollection.Name)]
public sealed class FreeRunStressTests(ITestOutputHelper output)
{
    /// <summary>
    /// The budget for catching the mutation. Only a run's last publish can lose a wake-up for good, and a run
    /// meets that race once in a few thousand: on a loaded two-core machine the first catch came after 2 to 3 s.
    /// </summary>
    private static readonly TimeSpan CatchBudget = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(RingShape.Spsc1P1C)]
    [InlineData(RingShape.Mpmc2P2C)]
    public void RunScenario_CorrectRingOnFreeThreads_PassesEveryRun(RingShape shape)
    {
        Scenario scenario = FreeRunStress.Generate(shape, seed: 3, index: 0);

        (long runs, _, long operations, string? report) = FreeRunStress.RunScenario(scenario, runs: 200);

        Assert.True(report is null, report);
        Assert.Equal(200, runs);
        Assert.True(operations >= 200 * (scenario.Producers.Sum(p => p.Length) + scenario.Consumers.Sum(c => c.Length)), $"{operations} operations recorded in {runs} runs");
    }

    public static TheoryData<RingShape> Shapes { get; } = new(Enum.GetValues<RingShape>());

    [Theory, MemberData(nameof(Shapes))]
    public void RunScenario_CorrectRingBlocking_PassesEveryRunWithoutAStall(RingShape shape)
    {
        for (int index = 0; index < 4; index++)
        {
            Scenario scenario = FreeRunStress.Generate(shape, seed: 5, index, blocking: true);

            (long runs, _, long operations, string? report) = FreeRunStress.RunScenario(scenario, runs: 200);

            Assert.True(report is null, report);
            Assert.Equal(200, runs);
            Assert.True(operations >= 200 * scenario.Consumers.Sum(c => c.Length) * 2, $"{operations} operations recorded in {runs} runs");
        }
    }

    [Fact]
    public void Generate_Blocking_BalancesBlockingWritesWithBlockingReads()
    {
        foreach (RingShape shape in Enum.GetValues<RingShape>())
        {
            for (int index = 0; index < 50; index++)
            {
                Scenario scenario = FreeRunStress.Generate(shape, seed: 1, index, blocking: true);

                Assert.True(scenario.Balanced);
                Assert.Equal(WaitMode.SleepAtOnce, scenario.Wait);
                int writes = scenario.Producers.Sum(ops => ops.Count(op => op.Kind == ScenarioOpKind.Write));
                Assert.True(writes > 0, scenario.ToString());
                Assert.Equal(writes, scenario.Consumers.Sum(ops => ops.Count(op => op.Kind == ScenarioOpKind.Read)));
                Assert.All(scenario.Producers.SelectMany(ops => ops), op => Assert.Contains(op.Kind, new[] { ScenarioOpKind.Write, ScenarioOpKind.ClaimAbort }));
                Assert.All(scenario.Consumers.SelectMany(ops => ops), op => Assert.Equal(ScenarioOpKind.Read, op.Kind));
            }
        }
    }

    [Fact]
    public void RunScenario_TailPublishedWithoutFence_IsCaughtAsALostWakeUp()
    {
        Stopwatch clock = Stopwatch.StartNew();
        long runs = 0;
        string? report = null;
        for (int index = 0; report is null && clock.Elapsed < CatchBudget; index++)
        {
            Scenario scenario = FreeRunStress.Generate(RingShape.Spsc1P1C, seed: 1, index, blocking: true);
            (long done, _, _, report) = FreeRunStress.RunScenario(scenario, runs: 1_000, RingVariant.PublishTailWithoutFence);
            runs += done;
        }
        output.WriteLine($"{runs:N0} runs, {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine(report ?? "not caught");

        Assert.True(report is not null, $"{runs:N0} blocking runs of the ring without its tail fence in {clock.Elapsed.TotalSeconds:F1} s saw no lost wake-up");
        Assert.Contains("probable lost wake-up", report);
    }

    [Fact]
    public void Generate_SameSeedAndIndex_GivesTheSameScenario()
    {
        Assert.Equal(FreeRunStress.Generate(RingShape.Mpmc1P2C, 11, 5).ToString(), FreeRunStress.Generate(RingShape.Mpmc1P2C, 11, 5).ToString());
        Assert.NotEqual(FreeRunStress.Generate(RingShape.Mpmc1P2C, 11, 5).ToString(), FreeRunStress.Generate(RingShape.Mpmc1P2C, 11, 6).ToString());
    }
}
