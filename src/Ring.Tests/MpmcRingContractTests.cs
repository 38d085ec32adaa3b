using System.Numerics;

namespace Ring.Tests;

/// <summary>The ring contract, run against the multi-producer / multi-consumer ring (one writer, one reader here).</summary>
public sealed class MpmcRingContractTests : RingContractTests
{
    protected override RingUnderTest CreateRing(RingOptions options, WaitStrategy wait = WaitStrategy.SpinThenBlock) =>
        Attach(RingSegment.Create(Segments.NewName("mpmc"), options with { Kind = RingKind.Mpmc }), wait);

    /// <summary>As many slots as the budget holds (a power of two, at least two), each cut for the largest message.</summary>
    protected override RingOptions OptionsFor(long bytes, int maxMessage = 0)
    {
        int payload = maxMessage == 0 ? RingOptions.DefaultSlotPayload : maxMessage;
        long fits = bytes / SegmentLayout.SlotStrideFor(payload);
        int slots = (int)Math.Max(SegmentLayout.MinSlotCount, BitOperations.RoundUpToPowerOf2((ulong)fits + 1) >> 1);
        return new RingOptions { Kind = RingKind.Mpmc, SlotCount = slots, MaxMessageLength = maxMessage };
    }

    protected override long Room(RingSegment segment) => segment.SlotCount;

    protected override long RoomFor(int length) => 1;

    protected override bool ReadBatchFreesRoomPerMessage => true;

    protected override bool SupportsBatches => false;

    protected override bool SupportsPeek => false;

    [Fact(Skip = "An MPMC ring offers no peek (PeekBatch_KindWithoutPeek_ThrowsNotSupportedAndReadsGoOn).")]
    public override void PeekBatch_ReaderDisposedWithUnreleasedMessages_TheNextReaderGetsThemAgain() =>
        base.PeekBatch_ReaderDisposedWithUnreleasedMessages_TheNextReaderGetsThemAgain();
}
