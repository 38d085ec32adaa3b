using Ring.Mpmc;
using Ring.Platform.Linux;

namespace Ring;

/// <summary>
/// <c>Stat</c>: the header, the counters and the participants of a segment, read as a monitor. Every field is
/// read with acquire and pairs with its writer's store, but the fields are read a moment apart, so the snapshot
/// is consistent field by field, not as a whole.
/// </summary>
internal static class StatusSnapshot
{
    public static SegmentStatus Take(RingSegment segment, Posix.FileInfo file, List<ParticipantStatus> participants)
    {
        SharedBuffer b = segment.Buffer;
        SegmentHeader header = segment.Header;
        long head = b.ReadInt64Acquire(SegmentLayout.HeadOffset);
        long tail = b.ReadInt64Acquire(SegmentLayout.TailOffset);
        bool completed = RingCompletion.IsFinal(tail);
        if (completed) tail &= ~RingCompletion.TailFlag;
        long Total(int headerOffset, int entryOffset)
        {
            long sum = b.ReadInt64Acquire(headerOffset);
            foreach (ParticipantStatus p in participants) sum += b.ReadInt64Acquire(SegmentLayout.ParticipantEntryOffset(p.Index) + entryOffset);
            return sum;
        }
        long messagesWritten = Total(SegmentLayout.MessagesWrittenOffset, SegmentLayout.EntryMessagesWrittenOffset);
        long messagesRead = Total(SegmentLayout.MessagesReadOffset, SegmentLayout.EntryMessagesReadOffset);
        bool mpmc = header.Kind == RingKind.Mpmc;
        // Positions count bytes in an SPSC ring and slots in an MPMC ring; the values come from other processes.
        long inUse = Math.Clamp(tail - head, 0, mpmc ? header.SlotCount : header.Capacity);
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
            // SPSC counts can drift by one per producer or consumer killed between counting and publishing;
            // an empty ring (head = tail) is still reported as empty.
            MessagesInRing = mpmc ? PublishedMessages(segment, head, inUse) : inUse == 0 ? 0 : Math.Max(1, messagesWritten - messagesRead),
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
            BytesWritten = Total(SegmentLayout.BytesWrittenOffset, SegmentLayout.EntryBytesWrittenOffset),
            MessagesRead = messagesRead,
            BytesRead = Total(SegmentLayout.BytesReadOffset, SegmentLayout.EntryBytesReadOffset),
            FullEvents = Total(SegmentLayout.FullEventsOffset, SegmentLayout.EntryFullEventsOffset),
            EmptyEvents = Total(SegmentLayout.EmptyEventsOffset, SegmentLayout.EntryEmptyEventsOffset),
            Sleeps = readers.Sleeps + writers.Sleeps,
            Wakes = readers.Wakes + writers.Wakes,
            Recoveries = b.ReadInt64Acquire(SegmentLayout.RecoveriesOffset),
            LostInDelivery = b.ReadInt64Acquire(SegmentLayout.LostInDeliveryOffset),
        };
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
