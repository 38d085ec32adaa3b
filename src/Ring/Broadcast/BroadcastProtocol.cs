using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Ring.Spsc;

namespace Ring.Broadcast;

/// <summary>
/// The broadcast protocol: one publisher, any number of subscribers that each read every message, stated once.
/// <para>
/// Records. The data region holds 8-aligned records as in SPSC, with a 16-byte header: payload length, type and the
/// message's sequence (its 0-based index). A record never wraps; a padding record (only the first 8 bytes of a header,
/// it may be 8 bytes long) runs to the end of the region and is published together with the record after it. Tail is
/// the publisher's byte position (only grows; completion rides on it as in SPSC). Each subscriber owns a cursor, its
/// next read position, in its own participant entry; −1 there means it holds nothing up.
/// </para>
/// <para>
/// Reclaim and the seqlock. Before a publish writes the bytes [tail, newTail) it stores Reclaim R = newTail − capacity
/// with a fenced store: every byte position below R may be overwritten from then on (its index is the index of a
/// position being written). Before that it walks Oldest, the start of the oldest record still intact, past every record
/// that starts below the new R and stores it (release), so R ≤ Oldest ≤ Tail. A subscriber copies a record and then,
/// after a load barrier, reads R: if its cursor is still at or above R, no store that overwrites the record can have been
/// visible to the copy (that store comes after the fenced R store, and the copy's loads come before the R load), so the
/// copy is the record as published; otherwise the copy is discarded and the subscriber was lapped. A lapped subscriber
/// reads R, Oldest, the sequence of the message at Oldest, then R again: unchanged below Oldest, the sequence is intact;
/// it resumes there and reports sequence − expected lost messages (<see cref="RingLappedException"/>). Three longest
/// records fit in the ring, so Oldest is below Tail once anything was published.
/// </para>
/// <para>
/// Overflow. Under <see cref="BroadcastOverflow.Overwrite"/> the publisher never waits. Under
/// <see cref="BroadcastOverflow.Block"/> a publish needs newTail − capacity ≤ the lowest cursor of the live subscribers
/// (none: no limit). The publisher caches that gate and scans the cursors again only when the cached gate says full or
/// when SubscriberGeneration changed (read with acquire on every publish). A joining subscriber stores its cursor = T0, a
/// tail it read, with a fenced store, bumps SubscriberGeneration (a full fence), reads the tail again, T, and starts at T.
/// A publish whose generation load missed the bump has its tail store before that load, so by the fences on both sides
/// (a store-buffer pair) the subscriber's load of the tail saw it: such a publish started at or below T and, a record
/// being less than a ring, overwrites only positions below T. Every later publish sees the new generation and scans; a
/// scan that sees T0 ≤ T waits for it (a cursor more than a ring behind, T0 after a long stall, only waits: the
/// subscriber stores T at once). So a live subscriber's records from its join tail on are never overwritten before it
/// has read them, and it reads them in place without the check; history read from Oldest (a late joiner) is not waited
/// for and is read the seqlock way. A dead subscriber (its entry's lock gone) that holds the publisher up is detached:
/// while full, at most every 50 ms, the publisher probes the locks of the entries that hold it up and compare-exchanges
/// a dead one's cursor to −1; its sleeps are at most 100 ms, so a death stops gating within about 250 ms.
/// </para>
/// <para>
/// Sequences. MessagesWritten is stored before each tail store and TailSequence after it; a joiner that reads
/// TailSequence, then the tail, then MessagesWritten, all with acquire, and finds the two counts equal has the tail's
/// sequence exactly (a newer tail would have shown the newer MessagesWritten). Sequences a subscriber reads are
/// contiguous; a gap in a record found intact is corruption.
/// </para>
/// <para>
/// Trust. Tail, R, Oldest, cursors and every record header come from other processes: each is checked (aligned,
/// within the positions a valid history allows, lengths within the maximum, records within the tail and the region)
/// before it indexes anything; a record that fails a check while a subscriber may have been lapped is a lap, not
/// corruption, once R says so. Every walk is bounded by the capacity over the smallest record.
/// </para>
/// </summary>
internal static class BroadcastProtocol
{
    /// <summary>How often a subscriber retries reading Oldest or the tail's sequence while the publisher keeps moving them.</summary>
    public const int MaxAttempts = 64;
}

/// <summary>One broadcast ring's geometry and the reads and checks both ends share.</summary>
internal readonly struct BroadcastRing<TMemory> where TMemory : struct, ISharedMemory
{
    public readonly TMemory Memory;
    public readonly long Capacity;
    public readonly long Mask;
    public readonly int MaxMessageLength;
    public readonly int MaxRecordLength;
    public readonly bool Overwrite;
    public readonly RingSegment Segment;

    /// <summary>
    /// How far ahead of a publish's need R moves under Overwrite: a sixteenth of the ring. A subscriber more than a ring
    /// minus this behind counts as lapped although its records may still be there, and Oldest offers that much less history.
    /// </summary>
    public readonly long ReclaimChunk;

    public BroadcastRing(RingSegment segment, TMemory memory)
    {
        Memory = memory;
        Capacity = segment.Capacity;
        Mask = Capacity - 1;
        MaxMessageLength = segment.MaxMessageLength;
        MaxRecordLength = SegmentLayout.BroadcastAlignedRecordLength(MaxMessageLength);
        Overwrite = segment.Overflow == BroadcastOverflow.Overwrite;
        Segment = segment;
        ReclaimChunk = Capacity / 16 & ~(SegmentLayout.RecordAlignment - 1);
    }

    public string SegmentName => Segment.Name;

    /// <summary>Every subscriber may sleep here: a publish that finds sleepers wakes them all.</summary>
    public EventCount<TMemory> Readers => new(Memory, SegmentLayout.ReadersEventOffset, singleWaiter: false);

    /// <summary>Only the publisher sleeps here.</summary>
    public EventCount<TMemory> Writers => new(Memory, SegmentLayout.WritersEventOffset, singleWaiter: true);

    /// <summary>The tail with the completion flag taken off, checked on its own (non-negative, 8-aligned).</summary>
    public long ReadTail(out bool final)
    {
        long tail = Memory.ReadInt64Acquire(SegmentLayout.TailOffset); // pairs with the publisher's release tail store: records below it are complete
        final = RingCompletion.IsFinal(tail);
        if (final) tail &= ~RingCompletion.TailFlag;
        CheckPosition(tail, "tail");
        return tail;
    }

    /// <summary>Checks a position read from the segment: non-negative and 8-aligned.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CheckPosition(long position, string what)
    {
        if (position < 0 || (position & (SegmentLayout.RecordAlignment - 1)) != 0) ThrowPosition(position, what);
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public void ThrowPosition(long position, string what) =>
        RingThrow.Corrupted(Segment, RingCorruptionRule.BroadcastPosition, "{0} {1} is not a valid position", what, position);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public void ThrowPositions(string what, long low, long high) =>
        RingThrow.Corrupted(Segment, RingCorruptionRule.BroadcastPosition, "{0}: {1} and {2} are out of order", what, low, high);

    /// <summary>
    /// Checks the record that starts at <paramref name="position"/>, below <paramref name="limit"/> (a tail the caller
    /// acquired): null when it is a message or padding record that fits, else the rule it breaks. Reads the header once.
    /// </summary>
    public RingCorruptionRule? CheckRecord(long position, long limit, out int type, out int length)
    {
        long index = position & Mask;
        long available = limit - position;
        long header = Memory.ReadInt64(SegmentLayout.DataOffset + index); // below an acquired tail: complete, unless being overwritten
        type = (int)(header >> 32);
        length = (int)header;
        if (type == SegmentLayout.RecordTypeMessage)
        {
            if ((uint)length > (uint)MaxMessageLength) return RingCorruptionRule.RecordLength;
            int record = SegmentLayout.BroadcastAlignedRecordLength(length);
            if (record > available) return RingCorruptionRule.RecordPastTail;
            if (record > Capacity - index) return RingCorruptionRule.RecordPastEnd;
            return null;
        }
        if (type != SegmentLayout.RecordTypePadding) return RingCorruptionRule.RecordType;
        long toEnd = Capacity - index;
        if (toEnd > available) return RingCorruptionRule.PaddingPastTail;
        if (toEnd >= MaxRecordLength) return RingCorruptionRule.PaddingLength;
        return null;
    }

    /// <summary>Where the record after a checked one starts.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long NextRecord(long position, int type, int length) =>
        type == SegmentLayout.RecordTypeMessage ? position + SegmentLayout.BroadcastAlignedRecordLength(length) : position + Capacity - (position & Mask);

    /// <summary>The sequence field of the message record at <paramref name="position"/>.</summary>
    public long SequenceAt(long position) =>
        Memory.ReadInt64(SegmentLayout.DataOffset + (position & Mask) + SegmentLayout.BroadcastRecordSequenceOffset);

    public long PayloadOffset(long position) => SegmentLayout.DataOffset + (position & Mask) + SegmentLayout.BroadcastRecordHeaderLength;

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public void ThrowRecord(RingCorruptionRule rule, long position) =>
        RingThrow.Corrupted(Segment, rule, "the record at (or the padding before) position {0} breaks it; the largest payload is {1}", position, MaxMessageLength);

    /// <summary>Writes a padding record from <paramref name="index"/> to the end of the region.</summary>
    public void WritePadding(long index) =>
        Memory.WriteInt64(SegmentLayout.DataOffset + index,
            SpscProtocol.PackHeader(SegmentLayout.RecordTypePadding, (int)(Capacity - index - SegmentLayout.RecordHeaderLength)));

    /// <summary>
    /// The first message record at or after <paramref name="position"/> (a record start below <paramref name="tail"/>):
    /// past one padding record at most, checked. Returns the rule broken, or null with the message's position.
    /// </summary>
    public RingCorruptionRule? FindMessage(long position, long tail, out long message, out int length)
    {
        message = position;
        RingCorruptionRule? rule = CheckRecord(position, tail, out int type, out length);
        if (rule is null && type == SegmentLayout.RecordTypePadding)
        {
            message = NextRecord(position, type, length);
            rule = message >= tail ? RingCorruptionRule.PaddingPastTail : CheckRecord(message, tail, out type, out length);
            if (rule is null && type != SegmentLayout.RecordTypeMessage) rule = RingCorruptionRule.PaddingLength; // two paddings in a row
        }
        return rule;
    }

    /// <summary>
    /// The oldest message still intact and its sequence, read the seqlock way (R, Oldest, the record, a load barrier, R
    /// again). <paramref name="position"/> is where the subscriber resumes (Oldest, which may be a padding record before
    /// the message). With nothing published yet it is 0 with sequence 0. False when every attempt raced the publisher.
    /// </summary>
    public bool TryReadOldest(out long position, out long sequence)
    {
        for (int attempt = 0; attempt < BroadcastProtocol.MaxAttempts; attempt++)
        {
            long reclaim = Memory.ReadInt64Acquire(SegmentLayout.ReclaimOffset); // pairs with the publisher's fenced store of R
            long oldest = Memory.ReadInt64Acquire(SegmentLayout.OldestOffset); // pairs with its release store, made before R's: Oldest ≥ this R
            long tail = ReadTail(out _); // after Oldest: at or above it
            CheckPosition(reclaim, "reclaim");
            CheckPosition(oldest, "oldest");
            if (reclaim > oldest || oldest > tail) ThrowPositions("reclaim, oldest and tail", reclaim, oldest);
            if (oldest == tail)
            {
                if (tail != 0) ThrowPositions("oldest is at the tail though messages were published: oldest and tail", oldest, tail);
                position = 0;
                sequence = 0;
                return true;
            }
            RingCorruptionRule? rule = FindMessage(oldest, tail, out long message, out _);
            long found = rule is null ? SequenceAt(message) : -1;
            Memory.LoadFence(); // the record's loads above come before the load of R that validates them
            if (Memory.ReadInt64Acquire(SegmentLayout.ReclaimOffset) > oldest) continue; // overwritten while read: look again
            if (rule is { } broken) ThrowRecord(broken, oldest);
            if (found < 0) ThrowPosition(found, "sequence of the oldest message");
            position = oldest;
            sequence = found;
            return true;
        }
        position = 0;
        sequence = 0;
        return false;
    }

    /// <summary>
    /// The tail and the sequence of the message that will be published there: exact when some try of
    /// <see cref="BroadcastProtocol.MaxAttempts"/> found the publisher not between the two count stores of a publish,
    /// else a lower bound (it may be short by the one publish in flight).
    /// </summary>
    public long ReadTailAndSequence(out long sequence, out bool exact, out bool final)
    {
        long after = 0;
        for (int attempt = 0; attempt < BroadcastProtocol.MaxAttempts; attempt++)
        {
            after = Memory.ReadInt64Acquire(SegmentLayout.TailSequenceOffset); // pairs with the release store after the tail's: the tail is at least that one
            long tail = ReadTail(out final);
            long before = Memory.ReadInt64Acquire(SegmentLayout.MessagesWrittenOffset); // stored before the tail: a newer tail would show a newer count
            if (after < 0) ThrowPosition(after, "tail sequence");
            if (after == before)
            {
                sequence = after;
                exact = true;
                return tail;
            }
        }
        sequence = after;
        exact = false;
        return ReadTail(out final);
    }
}
