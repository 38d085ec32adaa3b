using Ring.Mpmc;

namespace Ring.Tests;

/// <summary>
/// Every check an endpoint applies to a value read from the segment, violated on its own: each test leaves a
/// live ring valid except for the one value a hostile process changed (written through the mapping, as that
/// process would) and expects the <see cref="RingCorruptedException"/> that names the rule.
/// </summary>
public sealed class UntrustedValueTests : IDisposable
{
    // SPSC: 256 bytes of records, messages up to 32 bytes, so the longest record is 40 bytes.
    private const long Capacity = 256;
    private const int MaxMessage = 32;

    // MPMC: 16 slots of 32 payload bytes, 48 bytes each with the slot header.
    private const int Slots = 16;
    private const int Stride = 48;

    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private LiveRing Spsc() =>
        new(RingSegment.Create(_dir.NewName("spsc"), new RingOptions { Capacity = Capacity, MaxMessageLength = MaxMessage }));

    private LiveRing Mpmc() =>
        new(RingSegment.Create(_dir.NewName("mpmc"), new RingOptions { Kind = RingKind.Mpmc, SlotCount = Slots, MaxMessageLength = MaxMessage }));

    private static void AssertRule(RingCorruptionRule rule, Action call)
    {
        RingCorruptedException error = Assert.Throws<RingCorruptedException>(call);
        Assert.Equal(rule, error.Rule);
        Assert.Contains(rule.ToString(), error.Message, StringComparison.Ordinal);
    }

    private static long RecordOffset(long position) => SegmentLayout.DataOffset + (position & (Capacity - 1));

    private static long SlotOffset(long position) => SegmentLayout.DataOffset + (position & (Slots - 1)) * Stride;

    /// <summary>
    /// A ring with a writer and a reader attached while it is empty, so the reader's first read re-reads the
    /// tail; the test writes, then plays the hostile process with <see cref="Poke"/>.
    /// </summary>
    private sealed class LiveRing(RingSegment segment) : IDisposable
    {
        public RingSegment Segment { get; } = segment;
        public RingWriter Writer { get; } = segment.CreateWriter();
        public RingReader Reader { get; } = segment.CreateReader();

        public void Poke(long offset, long value) => Segment.Buffer.WriteInt64(offset, value);

        public void Poke(long offset, int value) => Segment.Buffer.WriteInt32(offset, value);

        public bool Read() => Reader.TryRead(new byte[MaxMessage], out _);

        public void Write(int length) => Assert.True(Writer.TryWrite(new byte[length]));

        /// <summary>Writes and reads records until head and tail are both at <paramref name="position"/> (before the first wrap).</summary>
        public void MoveTo(long position)
        {
            for (long at = 0; at < position;)
            {
                int record = (int)Math.Min(position - at, SegmentLayout.AlignedRecordLength(MaxMessage));
                Write(record - SegmentLayout.RecordHeaderLength);
                Assert.True(Read());
                at += record;
            }
            Assert.False(Read()); // the reader has caught up with the tail it cached
        }

        public void Dispose()
        {
            Writer.Dispose();
            Reader.Dispose();
            Segment.Dispose();
        }
    }

    // ---- SPSC positions ----

    [Fact]
    public void TryRead_TailMoreThanCapacityAheadOfHead_ThrowsPositionDistance()
    {
        using LiveRing ring = Spsc();
        ring.Write(1);

        ring.Poke(SegmentLayout.TailOffset, Capacity + 16);

        AssertRule(RingCorruptionRule.PositionDistance, () => ring.Read());
    }

    [Fact]
    public void TryWrite_HeadPastTail_ThrowsPositionDistance()
    {
        using LiveRing ring = Spsc();
        while (ring.Writer.TryWrite("x"u8)) { } // full: the next write re-reads the head

        ring.Poke(SegmentLayout.HeadOffset, Capacity + 8);

        AssertRule(RingCorruptionRule.PositionDistance, () => ring.Write(1));
    }

    [Fact]
    public void TryRead_TailMisaligned_ThrowsPositionAlignment()
    {
        using LiveRing ring = Spsc();
        ring.Write(1);

        ring.Poke(SegmentLayout.TailOffset, 12L);

        AssertRule(RingCorruptionRule.PositionAlignment, () => ring.Read());
    }

    [Fact]
    public void TryWrite_HeadMisaligned_ThrowsPositionAlignment()
    {
        using LiveRing ring = Spsc();
        while (ring.Writer.TryWrite("x"u8)) { }

        ring.Poke(SegmentLayout.HeadOffset, 4L);

        AssertRule(RingCorruptionRule.PositionAlignment, () => ring.Write(1));
    }

    [Theory]
    [InlineData(RingRole.Producer)]
    [InlineData(RingRole.Consumer)]
    public void CreateEndpoint_NegativeHead_ThrowsNegativePosition(RingRole role)
    {
        using RingSegment segment = RingSegment.Create(_dir.NewName("spsc"), new RingOptions { Capacity = Capacity, MaxMessageLength = MaxMessage });
        segment.Buffer.WriteInt64(SegmentLayout.HeadOffset, -16); // 16 bytes behind a tail of 0, aligned: only the sign is wrong

        AssertRule(RingCorruptionRule.NegativePosition, () => (role == RingRole.Producer ? (IDisposable)segment.CreateWriter() : segment.CreateReader()).Dispose());
    }

    [Fact]
    public void ReadBatch_TailMovedBackBelowTheRecordsJustRead_ThrowsTailBehindRead()
    {
        using LiveRing ring = Spsc();
        ring.Write(1);

        // Inside the batch the head is still 0 in the segment: a tail of 0 is a valid distance from it, but
        // behind the record this reader has already taken.
        AssertRule(RingCorruptionRule.TailBehindRead, () => ring.Reader.ReadBatch(_ => ring.Poke(SegmentLayout.TailOffset, 0L), maxMessages: 2));
    }

    // ---- SPSC records ----

    [Fact]
    public void TryRead_RecordTypeUnknown_ThrowsRecordType()
    {
        using LiveRing ring = Spsc();
        ring.Write(1);

        ring.Poke(RecordOffset(0) + SegmentLayout.RecordTypeOffset, 3);

        AssertRule(RingCorruptionRule.RecordType, () => ring.Read());
    }

    [Theory]
    [InlineData(MaxMessage + 1)] // the record would still end inside the committed bytes
    [InlineData(-1)]
    public void TryRead_RecordLengthOutsideZeroToMax_ThrowsRecordLength(int length)
    {
        using LiveRing ring = Spsc();
        ring.Write(MaxMessage);
        ring.Write(MaxMessage);

        ring.Poke(RecordOffset(0) + SegmentLayout.RecordLengthOffset, length);

        AssertRule(RingCorruptionRule.RecordLength, () => ring.Read());
    }

    [Fact]
    public void TryRead_RecordLongerThanTheCommittedBytes_ThrowsRecordPastTail()
    {
        using LiveRing ring = Spsc();
        ring.Write(8); // a 16-byte record, all that is committed

        ring.Poke(RecordOffset(0) + SegmentLayout.RecordLengthOffset, 16);

        AssertRule(RingCorruptionRule.RecordPastTail, () => ring.Read());
    }

    [Fact]
    public void TryRead_RecordRunningPastTheEndOfTheRegion_ThrowsRecordPastEnd()
    {
        using LiveRing ring = Spsc();
        ring.MoveTo(240);
        ring.Write(0);  // 8 bytes at 240
        ring.Write(16); // padding at 248, then 24 bytes at index 0: 40 committed

        ring.Poke(RecordOffset(240) + SegmentLayout.RecordLengthOffset, 16); // 24 bytes: within the tail, past the end

        AssertRule(RingCorruptionRule.RecordPastEnd, () => ring.Read());
    }

    [Fact]
    public void TryRead_PaddingRunningPastTheTail_ThrowsPaddingPastTail()
    {
        using LiveRing ring = Spsc();
        ring.MoveTo(240);
        ring.Write(0); // 8 bytes committed; a padding here would run 16

        ring.Poke(RecordOffset(240) + SegmentLayout.RecordTypeOffset, SegmentLayout.RecordTypePadding);

        AssertRule(RingCorruptionRule.PaddingPastTail, () => ring.Read());
    }

    [Fact]
    public void TryRead_PaddingWhereTheLongestRecordFits_ThrowsPaddingLength()
    {
        using LiveRing ring = Spsc();
        ring.MoveTo(208);
        ring.Write(MaxMessage); // 40 bytes at 208
        ring.Write(MaxMessage); // padding at 248, then 40 bytes at index 0: 88 committed

        // A padding at 208 would run 48 bytes to the end, inside the tail, but a 40-byte record fits there.
        ring.Poke(RecordOffset(208) + SegmentLayout.RecordTypeOffset, SegmentLayout.RecordTypePadding);

        AssertRule(RingCorruptionRule.PaddingLength, () => ring.Read());
    }

    // The boundaries of the rules above: each test sits on the edge a wrong comparison would move.

    [Fact]
    public void TryRead_PaddingOfTheLongestRecordsLength_ThrowsPaddingLength()
    {
        using LiveRing ring = Spsc();
        ring.MoveTo(216);
        ring.Write(MaxMessage); // 40 bytes at 216, to the end
        ring.Write(MaxMessage); // 40 bytes at index 0

        // A writer pads only when the record does not fit, so a padding is always shorter than the longest record.
        ring.Poke(RecordOffset(216) + SegmentLayout.RecordTypeOffset, SegmentLayout.RecordTypePadding);

        AssertRule(RingCorruptionRule.PaddingLength, () => ring.Read());
    }

    [Fact]
    public void TryRead_PaddingEndingAtTheTail_SkipsIt()
    {
        using LiveRing ring = Spsc();
        ring.MoveTo(240);
        ring.Write(0); // 8 bytes at 240
        ring.Write(0); // 8 bytes at 248: 16 committed, to the end

        ring.Poke(RecordOffset(240) + SegmentLayout.RecordTypeOffset, SegmentLayout.RecordTypePadding);

        Assert.False(ring.Read()); // a 16-byte padding within the 16 committed bytes is well formed: nothing after it
    }

    [Fact]
    public void TryRead_RecordOfTheLongestLengthPastTheTail_ThrowsRecordPastTail()
    {
        using LiveRing ring = Spsc();
        ring.Write(8); // a 16-byte record, all that is committed

        ring.Poke(RecordOffset(0) + SegmentLayout.RecordLengthOffset, MaxMessage); // a valid length, 40 bytes of record

        AssertRule(RingCorruptionRule.RecordPastTail, () => ring.Read());
    }

    [Fact]
    public void TryRead_RecordEndingAtTheTailButPastTheEnd_ThrowsRecordPastEnd()
    {
        using LiveRing ring = Spsc();
        ring.MoveTo(240);
        ring.Write(0);  // 8 bytes at 240
        ring.Write(16); // padding at 248, then 24 bytes at index 0: 40 committed

        ring.Poke(RecordOffset(240) + SegmentLayout.RecordLengthOffset, MaxMessage); // 40 bytes: exactly the committed ones

        AssertRule(RingCorruptionRule.RecordPastEnd, () => ring.Read());
    }

    [Fact]
    public void TryWrite_NegativeHeadExactlyACapacityBehind_ThrowsNegativePosition()
    {
        using LiveRing ring = Spsc();
        for (int i = 0; i < 15; i++) ring.Write(1); // 15 × 16 bytes
        ring.Write(0); // tail 248: the next 16-byte record does not fit, so the write re-reads the head

        ring.Poke(SegmentLayout.HeadOffset, -8L); // tail − head is exactly the capacity, aligned, but negative

        AssertRule(RingCorruptionRule.NegativePosition, () => ring.Write(1));
    }

    // ---- MPMC slots ----

    [Theory]
    [InlineData(MaxMessage + 1)]
    [InlineData(-1)]
    public void TryRead_SlotLengthOutsideZeroToMax_ThrowsSlotLength(int length)
    {
        using LiveRing ring = Mpmc();
        ring.Write(1);

        ring.Poke(SlotOffset(0) + SegmentLayout.SlotLengthOffset, length);

        AssertRule(RingCorruptionRule.SlotLength, () => ring.Read());
    }

    [Fact]
    public void TryRead_RingConsistentAtNegativePositions_ThrowsNegativePosition()
    {
        using LiveRing ring = Mpmc();
        ring.Write(1);

        // The message at position −16 instead of 0: slot 0, published for it; only the sign of the positions is wrong.
        ring.Poke(SegmentLayout.HeadOffset, -16L);
        ring.Poke(SegmentLayout.TailOffset, -15L);
        ring.Poke(SlotOffset(0) + SegmentLayout.SlotSequenceOffset, -15L);

        AssertRule(RingCorruptionRule.NegativePosition, () => ring.Read());
    }

    [Fact]
    public void TryWrite_RingConsistentAtNegativePositions_ThrowsNegativePosition()
    {
        using LiveRing ring = Mpmc();

        // An empty ring at position −16 instead of 0: slot 0 free for it.
        ring.Poke(SegmentLayout.HeadOffset, -16L);
        ring.Poke(SegmentLayout.TailOffset, -16L);
        ring.Poke(SlotOffset(0) + SegmentLayout.SlotSequenceOffset, -16L);

        AssertRule(RingCorruptionRule.NegativePosition, () => ring.Write(1));
    }

    [Fact]
    public void TryRead_SequenceNoHistoryLeavesAtTheHead_ThrowsSlotSequence()
    {
        using LiveRing ring = Mpmc();
        ring.Write(1);

        ring.Poke(SlotOffset(0) + SegmentLayout.SlotSequenceOffset, -4L); // head 0 accepts 1, 0, 1 − 16, or more than 1 with a moved head

        AssertRule(RingCorruptionRule.SlotSequence, () => ring.Read());
    }

    [Fact]
    public void TryWrite_SequenceNoHistoryLeavesAtTheTail_ThrowsSlotSequence()
    {
        using LiveRing ring = Mpmc();
        ring.Write(1);

        ring.Poke(SlotOffset(1) + SegmentLayout.SlotSequenceOffset, -4L); // tail 1 accepts 1, 1 − 15, 1 − 16, or more than 1 with a moved tail

        AssertRule(RingCorruptionRule.SlotSequence, () => ring.Write(1));
    }

    [Fact]
    public void TryRead_SequenceAheadWithTheHeadUnmoved_ThrowsSequenceAhead()
    {
        using LiveRing ring = Mpmc();
        ring.Write(1);

        ring.Poke(SlotOffset(0) + SegmentLayout.SlotSequenceOffset, 1L + Slots); // position 16's message, with the head still at 0

        AssertRule(RingCorruptionRule.SequenceAhead, () => ring.Read());
    }

    [Fact]
    public void TryWrite_SequenceAheadWithTheTailUnmoved_ThrowsSequenceAhead()
    {
        using LiveRing ring = Mpmc();
        ring.Write(1);

        ring.Poke(SlotOffset(1) + SegmentLayout.SlotSequenceOffset, 2L); // position 1 published, with the tail still at 1

        AssertRule(RingCorruptionRule.SequenceAhead, () => ring.Write(1));
    }

    [Fact]
    public void TryRead_SkipFlagOnTheFreeSequence_ThrowsSkipFlagOnEveryReadPath()
    {
        // The hostile-peer repro: a skip flag on slot 0's free sequence while the tail says position 0 was claimed.
        using LiveRing ring = Mpmc();
        ring.Write(1);
        ring.Write(1);

        ring.Poke(SlotOffset(0) + SegmentLayout.SlotSequenceOffset, 0 | MpmcProtocol.SkipFlag);

        AssertRule(RingCorruptionRule.SkipFlag, () => ring.Read());
        // Waiting reads too: they used to spin at 100 % CPU once the position had looked stuck for 50 ms.
        AssertRule(RingCorruptionRule.SkipFlag, () => ring.Reader.WaitToRead(TimeSpan.FromSeconds(5)));
        AssertRule(RingCorruptionRule.SkipFlag, () => ring.Reader.TryRead(new byte[MaxMessage], out _, MpmcProtocol.StuckThreshold * 3));
    }

    [Fact]
    public void TryWrite_SkipFlagOnTheFreeSequence_ThrowsSkipFlag()
    {
        using LiveRing ring = Mpmc();
        ring.Write(1);

        ring.Poke(SlotOffset(1) + SegmentLayout.SlotSequenceOffset, 1 | MpmcProtocol.SkipFlag);

        AssertRule(RingCorruptionRule.SkipFlag, () => ring.Write(1));
    }

    [Fact]
    public void TryWrite_SkipFlagOnTheFreeSequenceALapBehind_ThrowsSkipFlag()
    {
        using LiveRing ring = Mpmc();
        for (int i = 0; i < Slots; i++)
        {
            ring.Write(1);
            Assert.True(ring.Read());
        }

        // Tail 16: sequence 0 would be a producer of position 0 still writing; with the flag no history makes it.
        ring.Poke(SlotOffset(0) + SegmentLayout.SlotSequenceOffset, 0 | MpmcProtocol.SkipFlag);

        AssertRule(RingCorruptionRule.SkipFlag, () => ring.Write(1));
    }
}
