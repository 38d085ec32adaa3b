namespace Ring.Tests;

/// <summary>The ring contract, run against the single-producer / single-consumer ring.</summary>
public sealed class SpscRingContractTests : RingContractTests
{
    protected override RingUnderTest CreateRing(RingOptions options, WaitStrategy wait = WaitStrategy.SpinThenBlock) =>
        Attach(RingSegment.Create(Segments.NewName("spsc"), options with { Kind = RingKind.Spsc }), wait);

    /// <summary>The budget is the record space itself.</summary>
    protected override RingOptions OptionsFor(long bytes, int maxMessage = 0) =>
        new() { Kind = RingKind.Spsc, Capacity = bytes, MaxMessageLength = maxMessage };

    protected override long Room(RingSegment segment) => segment.Capacity;

    protected override long RoomFor(int length) => SegmentLayout.AlignedRecordLength(length);

    protected override bool ReadBatchFreesRoomPerMessage => false;

    protected override bool SupportsBatches => true;
}
