using Ring.Platform.Linux;

namespace Ring;

/// <summary>Reading the participant table as a monitor: who is recorded, and who of them is alive.</summary>
internal static class ParticipantTable
{
    /// <summary>
    /// Every entry in use, with liveness from the kernel. <paramref name="probe"/> must be a descriptor of the
    /// segment file that holds no locks of its own: a query through one that does would not report those locks.
    /// </summary>
    public static List<ParticipantStatus> Read(SharedBuffer buffer, FileDescriptorHandle probe)
    {
        List<ParticipantStatus> participants = [];
        for (int index = 0; index < SegmentLayout.ParticipantCapacity; index++)
        {
            long entry = SegmentLayout.ParticipantEntryOffset(index);
            if (buffer.ReadInt32Acquire(entry + SegmentLayout.EntryStateOffset) == 0) continue; // pairs with ParticipantLease.Register's release
            participants.Add(new ParticipantStatus(
                buffer.ReadInt32(entry + SegmentLayout.EntryPidOffset),
                (RingRole)(buffer.ReadInt32(entry + SegmentLayout.EntryRolesOffset) & (int)(RingRole.Producer | RingRole.Consumer)),
                UnixTime.FromNs(buffer.ReadInt64(entry + SegmentLayout.EntryAttachNsOffset)) ?? DateTimeOffset.UnixEpoch,
                Posix.IsByteLocked(probe, entry))
            {
                Index = index,
            });
        }
        return participants;
    }

    /// <summary>Participants recorded and none of them alive: every process that used the segment died attached.</summary>
    public static bool IsStale(List<ParticipantStatus> participants) =>
        participants.Count > 0 && participants.TrueForAll(p => !p.IsAlive);
}
