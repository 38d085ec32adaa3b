namespace Ring.Tests;

/// <summary>
/// The segment's record of publishers without fences (<see cref="PublishOrdering"/>). Whether a sleeper in another process
/// without membarrier then bounds its sleeps is <c>CrossProcessTests.IdleRead_…</c>; whether the barrier keeps every
/// wake-up is the lost-wake-up detector's (<c>LostWakeUpTests</c>, <c>Ring.Stress wakeups</c>).
/// </summary>
public sealed class PublishOrderingTests : IDisposable
{
    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    [InlineData(RingKind.Broadcast)]
    public void CreateWriter_AnyKind_FlagsTheSegmentExactlyWhenThisProcessPublishesWithoutFence(RingKind kind)
    {
        using RingSegment segment = RingSegment.Create(_dir.NewName(), kind == RingKind.Mpmc ? new RingOptions { Kind = kind, SlotCount = 8 } : new RingOptions { Kind = kind, Capacity = 4096 });
        Assert.False(segment.GetStatus().MembarrierPublishers);

        using RingWriter writer = segment.CreateWriter();

        Assert.Equal(PublishOrdering.WithoutFence, segment.GetStatus().MembarrierPublishers);
    }

    [Fact]
    public void CreateReader_AfterTheWriterLeft_KeepsTheFlagSet()
    {
        // Nothing clears it: a sleeper that registered must never find it unset while a fenceless store may still be in flight.
        using RingSegment segment = RingSegment.Create(_dir.NewName(), new RingOptions { Capacity = 4096 });
        segment.CreateWriter().Dispose();

        using RingReader reader = segment.CreateReader();

        Assert.Equal(PublishOrdering.WithoutFence, segment.GetStatus().MembarrierPublishers);
    }

    [Fact]
    public void Describe_Always_NamesTheMechanismThisProcessUses()
    {
        string description = PublishOrdering.Describe();

        Assert.Contains(PublishOrdering.WithoutFence ? "membarrier" : "full fence", description);
        Assert.Equal(PublishOrdering.WithoutFence, PublishOrdering.FencedBecause is null);
    }
}
