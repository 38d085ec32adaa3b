namespace Ring.Tests;

/// <summary>The ring contract, run against the broadcast ring: one publisher, one subscriber, the publisher blocking.</summary>
public sealed class BroadcastRingContractTests : RingContractTests
{
    protected override RingUnderTest CreateRing(RingOptions options, WaitStrategy wait = WaitStrategy.SpinThenBlock) =>
        Attach(RingSegment.Create(Segments.NewName("broadcast"), options with { Kind = RingKind.Broadcast, Overflow = BroadcastOverflow.Block }), wait);

    /// <summary>
    /// The budget is the record space, doubled until the largest message fits: a broadcast ring's is capacity/8 − 8,
    /// 8 bytes short of SPSC's.
    /// </summary>
    protected override RingOptions OptionsFor(long bytes, int maxMessage = 0)
    {
        long capacity = bytes;
        while (maxMessage > SegmentLayout.BroadcastMaxMessageLengthFor(capacity)) capacity *= 2;
        return new RingOptions { Kind = RingKind.Broadcast, Capacity = capacity, MaxMessageLength = maxMessage };
    }

    protected override long Room(RingSegment segment) => segment.Capacity;

    protected override long RoomFor(int length) => SegmentLayout.BroadcastAlignedRecordLength(length);

    protected override bool ReadBatchFreesRoomPerMessage => false;

    protected override bool SupportsBatches => false;

    protected override bool StatusCountsUnreadMessages => false;

    [Fact(Skip = "A new subscriber starts where SubscribeFrom says, not at a gone subscriber's unreleased messages; BroadcastRingTests covers a late subscriber from the oldest message.")]
    public override void PeekBatch_ReaderDisposedWithUnreleasedMessages_TheNextReaderGetsThemAgain() =>
        base.PeekBatch_ReaderDisposedWithUnreleasedMessages_TheNextReaderGetsThemAgain();

    [Fact(Skip = "A broadcast reader created later subscribes at the live tail; BroadcastRingTests covers a late subscriber from the oldest message and the end of a completed ring.")]
    public override void CreateReader_AfterCompletion_ReadsWhatIsLeftThenSeesTheEnd() => base.CreateReader_AfterCompletion_ReadsWhatIsLeftThenSeesTheEnd();

    [Fact(Skip = "A broadcast publisher with no live subscriber is never full, so it never waits for a lost consumer: it publishes on.")]
    public override void Write_PeerLossComplete_FullRingAndTheConsumerDetached_ThrowsRingPeerLostException() =>
        base.Write_PeerLossComplete_FullRingAndTheConsumerDetached_ThrowsRingPeerLostException();

    [Fact(Skip = "A broadcast publisher with no subscriber is never full: there is no full ring to keep waiting on.")]
    public override void TryWrite_PeerLossComplete_FullRingAndNoConsumerEverAttached_KeepsWaiting() =>
        base.TryWrite_PeerLossComplete_FullRingAndNoConsumerEverAttached_KeepsWaiting();
}
