using Ring.Broadcast;
using Ring.Mpmc;
using Ring.Platform.Linux;

namespace Ring;

/// <summary>
/// <c>Stat</c>: the header, the counters and the participants of a segment, read as a monitor. Every field is
/// read with acquire and pairs with its writer's store, but the fields are read a moment apart, so the snapshot
/// is consistent field by field, not as a whole. The metrics (<see cref="RingMetrics"/>) read the same fields
/// one at a time through the same methods.
/// </summary>
internal static class StatusSnapshot
{
    public static SegmentStatus Take(RingSegment segment, Posix.FileInfo file, List<ParticipantStatus> participants)
    {
        SharedBuffer b = segment.Buffer;
        SegmentHeader header = segment.Header;
        (long head, long tail, bool completed) = Positions(b, header.Kind);
        long messagesWritten = Total(b, SegmentLayout.MessagesWrittenOffset, SegmentLayout.EntryMessagesWrittenOffset);
        long messagesRead = Total(b, SegmentLayout.MessagesReadOffset, SegmentLayout.EntryMessagesReadOffset);
        bool mpmc = header.Kind == RingKind.Mpmc;
        long inUse = InUse(header, head, tail);
        EventCount<SharedBuffer> readers = new(b, SegmentLayout.ReadersEventOffset);
        EventCount<SharedBuffer> writers = new(b, SegmentLayout.WritersEventOffset);
        return new SegmentStatus
        {
            Name = segment.Name,
            Path = segment.Path,
            Kind = header.Kind,
            FileLength = header.FileLength,
            Capacity = header.Capacity,
            SlotCount = header.SlotCount,
            MaxMessageLength = header.MaxMessageLength,
            BytesInRing = mpmc ? inUse * header.SlotStride : inUse,
            MessagesInRing = MessagesInRing(segment, head, inUse, messagesWritten, messagesRead),
            CreatorPid = header.CreatorPid,
            OwnerUid = file.OwnerUid,
            Mode = file.Mode & (UnixFileMode)0x1FF,
            CreatedAt = UnixTime.FromNs(header.CreatedNs) ?? DateTimeOffset.UnixEpoch,
            LastAttachAt = UnixTime.FromNs(b.ReadInt64Acquire(SegmentLayout.LastAttachNsOffset)),
            LastDetachAt = UnixTime.FromNs(b.ReadInt64Acquire(SegmentLayout.LastDetachNsOffset)),
            Participants = participants,
            IsStale = ParticipantTable.IsStale(participants),
            IsCompleted = completed,
            CompletionReason = completed ? RingCompletion.ReadReason(b) : null,
            ReadersWaiting = readers.Waiters,
            WritersWaiting = writers.Waiters,
            MessagesWritten = messagesWritten,
            BytesWritten = Total(b, SegmentLayout.BytesWrittenOffset, SegmentLayout.EntryBytesWrittenOffset),
            MessagesRead = messagesRead,
            BytesRead = Total(b, SegmentLayout.BytesReadOffset, SegmentLayout.EntryBytesReadOffset),
            FullEvents = Total(b, SegmentLayout.FullEventsOffset, SegmentLayout.EntryFullEventsOffset),
            EmptyEvents = Total(b, SegmentLayout.EmptyEventsOffset, SegmentLayout.EntryEmptyEventsOffset),
            Sleeps = Sleeps(b),
            Wakes = Wakes(b),
            Recoveries = b.ReadInt64Acquire(SegmentLayout.RecoveriesOffset),
            LostInDelivery = b.ReadInt64Acquire(SegmentLayout.LostInDeliveryOffset),
            MembarrierPublishers = b.ReadInt32Acquire(SegmentLayout.MembarrierPublishersOffset) != 0, // pairs with the fenced compare-exchange at attach
        };
    }

    /// <summary>
    /// A counter's ring-wide total: the header's (the totals of endpoints that have left, or the SPSC endpoints' own)
    /// plus every participant entry in use, where live MPMC endpoints count.
    /// </summary>
    public static long Total(SharedBuffer b, int headerOffset, int entryOffset)
    {
        long sum = b.ReadInt64Acquire(headerOffset);
        for (int index = 0; index < SegmentLayout.ParticipantCapacity; index++)
        {
            long entry = SegmentLayout.ParticipantEntryOffset(index);
            if (b.ReadInt32Acquire(entry + SegmentLayout.EntryStateOffset) == 0) continue; // pairs with ParticipantLease.Register's release
            sum += b.ReadInt64Acquire(entry + entryOffset);
        }
        return sum;
    }

    /// <summary>Sleeps of readers and writers together.</summary>
    public static long Sleeps(SharedBuffer b) =>
        new EventCount<SharedBuffer>(b, SegmentLayout.ReadersEventOffset).Sleeps + new EventCount<SharedBuffer>(b, SegmentLayout.WritersEventOffset).Sleeps;

    /// <summary>Wakes of readers and writers together.</summary>
    public static long Wakes(SharedBuffer b) =>
        new EventCount<SharedBuffer>(b, SegmentLayout.ReadersEventOffset).Wakes + new EventCount<SharedBuffer>(b, SegmentLayout.WritersEventOffset).Wakes;

    /// <summary><see cref="SegmentStatus.MessagesInRing"/>, read on its own.</summary>
    public static long MessagesInRing(RingSegment segment)
    {
        SharedBuffer b = segment.Buffer;
        (long head, long tail, _) = Positions(b, segment.Kind);
        return MessagesInRing(segment, head, InUse(segment.Header, head, tail),
            Total(b, SegmentLayout.MessagesWrittenOffset, SegmentLayout.EntryMessagesWrittenOffset),
            Total(b, SegmentLayout.MessagesReadOffset, SegmentLayout.EntryMessagesReadOffset));
    }

    /// <summary>The tail, and where what a reader could still read starts: the head, or a broadcast ring's Oldest.</summary>
    private static (long Head, long Tail, bool Completed) Positions(SharedBuffer b, RingKind kind)
    {
        long head = b.ReadInt64Acquire(kind == RingKind.Broadcast ? SegmentLayout.OldestOffset : SegmentLayout.HeadOffset);
        long tail = b.ReadInt64Acquire(SegmentLayout.TailOffset);
        bool completed = RingCompletion.IsFinal(tail);
        return (head, completed ? tail & ~RingCompletion.TailFlag : tail, completed);
    }

    /// <summary>Positions count bytes in an SPSC ring and slots in an MPMC ring; the values come from other processes.</summary>
    private static long InUse(SegmentHeader header, long head, long tail) =>
        Math.Clamp(tail - head, 0, header.Kind == RingKind.Mpmc ? header.SlotCount : header.Capacity);

    /// <summary>
    /// SPSC counts can drift by one per producer or consumer killed between counting and publishing; an empty ring
    /// (head = tail) is still reported as empty. MPMC looks at each slot in use, at most the slot count. Broadcast
    /// counts the messages still intact, from the one at Oldest on: what a late joiner from Oldest could read.
    /// </summary>
    private static long MessagesInRing(RingSegment segment, long head, long inUse, long messagesWritten, long messagesRead) =>
        segment.Kind == RingKind.Mpmc ? PublishedMessages(segment, head, inUse)
        : segment.Kind == RingKind.Broadcast ? IntactMessages(segment, messagesWritten)
        : inUse == 0 ? 0 : Math.Max(1, messagesWritten - messagesRead);

    /// <summary>
    /// Broadcast: messages written minus the sequence at Oldest, read the way a lapped subscriber reads it; 0 when the
    /// publisher moved Oldest under every look, or when the values make no sense (a monitor reports, it does not fail).
    /// </summary>
    private static long IntactMessages(RingSegment segment, long messagesWritten)
    {
        try
        {
            return new BroadcastRing<SharedBuffer>(segment, segment.Buffer).TryReadOldest(out _, out long oldest)
                ? Math.Max(0, messagesWritten - oldest)
                : 0;
        }
        catch (RingCorruptedException)
        {
            return 0;
        }
    }

    /// <summary>MPMC: the positions from the head on whose slot is published with a message (not a skip, not a claim in progress).</summary>
    private static long PublishedMessages(RingSegment segment, long head, long positions)
    {
        MpmcRing<SharedBuffer> ring = new(segment, segment.Buffer);
        long published = 0;
        for (long position = head; position < head + positions; position++)
        {
            long sequence = ring.Memory.ReadInt64Acquire(ring.SlotOffset(position) + SegmentLayout.SlotSequenceOffset); // pairs with the producer's publishing store
            if (sequence == position + 1) published++;
        }
        return published;
    }
}
