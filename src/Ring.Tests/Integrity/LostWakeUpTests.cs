using Ring.Integrity;
using Xunit.Abstractions;

namespace Ring.Tests.Integrity;

/// <summary>
/// The lost-wake-up detector on real cores (<see cref="LostWakeUpDetector"/>): it must catch a ring whose
/// publishing store lost its fence, and must see no lost wake-up in the ring as built. The step scheduler cannot
/// do either: it is sequentially consistent. Alone in its collection, so that the two threads have the two cores.
/// </summary>
[Collection(LostWakeUpCollection.Name)]
public sealed class LostWakeUpTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>The budget for catching the mutation; it is usually caught within a second or two.</summary>
    private static readonly TimeSpan CatchBudget = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan RealRingRun = TimeSpan.FromSeconds(4);

    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(WakeDirection.Tail, RingVariant.PublishTailWithoutFence)]
    [InlineData(WakeDirection.Head, RingVariant.PublishHeadWithoutFence)]
    public void LostWakeUp_PublishWithoutFence_IsCaughtWithinBudget(WakeDirection direction, RingVariant mutation)
    {
        LostWakeUpDetector.Result result = LostWakeUpDetector.Run(new(direction, mutation, CatchBudget, StopAtFirstLoss: true, Seed: 1), _dir.DirectoryPath);
        output.WriteLine(result.Describe());
        output.WriteLine(result.FirstLoss ?? "no loss");

        Assert.True(result.LostWakeUps > 0, $"the detector ran the {mutation} ring for {result.Elapsed.TotalSeconds:F1} s and saw no lost wake-up: {result.Describe()}");
    }

    [Theory]
    [InlineData(WakeDirection.Tail)]
    [InlineData(WakeDirection.Head)]
    public void LostWakeUp_RealRing_NeverHappens(WakeDirection direction)
    {
        LostWakeUpDetector.Result result = LostWakeUpDetector.Run(new(direction, RingVariant.Correct, RealRingRun, StopAtFirstLoss: false, Seed: 2), _dir.DirectoryPath);
        output.WriteLine(result.Describe());

        Assert.True(result.LostWakeUps == 0, $"{result.FirstLoss}\n{result.Describe()}");
        // Vacuous unless the sleeper really slept and was woken, round after round.
        Assert.True(result.RoundsSlept >= 1_000, $"the sleeper slept in only {result.RoundsSlept} rounds: the wake-up path was hardly exercised. {result.Describe()}");
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LostWakeUpCollection
{
    public const string Name = "Lost wake-up detector (needs both cores)";
}
