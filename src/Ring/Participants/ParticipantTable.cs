using Ring.Platform.Linux;

namespace Ring;

/// <summary>Reading the participant table as a monitor: who is recorded, and who of them is alive.</summary>
internal static class ParticipantTable
{
    /// <summary>
    /// Every entry in use, with liveness from the kernel. <paramref name="probe"/> must be a descriptor of the
    /// segment file that holds no locks of its own: a query through one that does would not report those locks.
    /// <paramref name="broadcastCapacity"/> is the data region's size for a broadcast ring, whose subscribers get their lag; 0 otherwise.
    /// </summary>
    public static List<ParticipantStatus> Read(SharedBuffer buffer, FileDescriptorHandle probe, long broadcastCapacity = 0)
    {
        List<ParticipantStatus> participants = [];
        for (int index = 0; index < SegmentLayout.ParticipantCapacity; index++)
        {
            long entry = SegmentLayout.ParticipantEntryOffset(index);
            if (buffer.ReadInt32Acquire(entry + SegmentLayout.EntryStateOffset) == 0) continue; // pairs with ParticipantLease.Register's release
            ParticipantStatus participant = new(
                buffer.ReadInt32(entry + SegmentLayout.EntryPidOffset),
                (RingRole)(buffer.ReadInt32(entry + SegmentLayout.EntryRolesOffset) & (int)(RingRole.Producer | RingRole.Consumer)),
                UnixTime.FromNs(buffer.ReadInt64(entry + SegmentLayout.EntryAttachNsOffset)) ?? DateTimeOffset.UnixEpoch,
                Posix.IsByteLocked(probe, entry))
            {
                Index = index,
            };
            if (broadcastCapacity > 0 && (participant.Roles & RingRole.Consumer) != 0) participant = WithLag(participant, buffer, entry, broadcastCapacity);
            participants.Add(participant);
        }
        return participants;
    }

    /// <summary>
    /// A broadcast subscriber's distance from the tail, read as a monitor: every value comes from other processes and may
    /// move while it is read, so each is read once, checked, and a position already overwritten gives no message count.
    /// </summary>
    private static ParticipantStatus WithLag(ParticipantStatus subscriber, SharedBuffer buffer, long entry, long capacity)
    {
        subscriber = subscriber with { MessagesLostToLaps = Math.Max(0, buffer.ReadInt64(entry + SegmentLayout.EntryLostToLapsOffset)) };
        long cursor = buffer.ReadInt64Acquire(entry + SegmentLayout.EntryCursorOffset); // pairs with the subscriber's cursor store
        long messagesBelowTail = buffer.ReadInt64Acquire(SegmentLayout.TailSequenceOffset); // stored after the tail: at most the tail's count
        long tail = buffer.ReadInt64Acquire(SegmentLayout.TailOffset) & ~RingCompletion.TailFlag; // pairs with the publisher's tail store
        long behind = tail - cursor;
        if (cursor < 0 || behind < 0 || (cursor & (SegmentLayout.RecordAlignment - 1)) != 0) return subscriber;
        subscriber = subscriber with { BytesBehind = behind };
        if (behind == 0) return subscriber with { MessagesBehind = 0 };
        if (behind > capacity) return subscriber;
        long index = cursor & (capacity - 1);
        // Only the padding's first 8 bytes need fit before the end; a message header there would run past the mapping.
        if (buffer.ReadInt32(SegmentLayout.DataOffset + index + SegmentLayout.RecordTypeOffset) == SegmentLayout.RecordTypePadding) index = 0;
        else if (index + SegmentLayout.BroadcastRecordHeaderLength > capacity) return subscriber;
        long sequence = buffer.ReadInt64(SegmentLayout.DataOffset + index + SegmentLayout.BroadcastRecordSequenceOffset);
        // Pairs with the publisher's fenced Reclaim store: past the cursor, the header just read may be another record's.
        // A monitor's check: without a load barrier before it a stale header can only misreport the lag, never index anything.
        if (buffer.ReadInt64Acquire(SegmentLayout.ReclaimOffset) > cursor) return subscriber;
        return subscriber with { MessagesBehind = Math.Clamp(messagesBelowTail - sequence, 0, behind / SegmentLayout.BroadcastRecordHeaderLength) };
    }

    /// <summary>Participants recorded and none of them alive: every process that used the segment died attached.</summary>
    public static bool IsStale(List<ParticipantStatus> participants) =>
        participants.Count > 0 && participants.TrueForAll(p => !p.IsAlive);
}
