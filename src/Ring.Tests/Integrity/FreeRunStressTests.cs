using Ring.Integrity;

namespace Ring.Tests.Integrity;

public sealed class FreeRunStressTests
{
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

    [Fact]
    public void Generate_SameSeedAndIndex_GivesTheSameScenario()
    {
        Assert.Equal(FreeRunStress.Generate(RingShape.Mpmc1P2C, 11, 5).ToString(), FreeRunStress.Generate(RingShape.Mpmc1P2C, 11, 5).ToString());
        Assert.NotEqual(FreeRunStress.Generate(RingShape.Mpmc1P2C, 11, 5).ToString(), FreeRunStress.Generate(RingShape.Mpmc1P2C, 11, 6).ToString());
    }
}
