using Ring.Platform.Linux;

namespace Ring;

/// <summary>
/// Holds one role (producer or consumer) of a ring through an OFD lock on the role entry's first byte,
/// taken on a descriptor of its own: the kernel drops the lock when the process dies, which frees the role
/// for a successor without anyone judging liveness by pid.
/// </summary>
internal sealed class RoleLease : IDisposable
{
    private readonly RingSegment _segment;
    private readonly FileDescriptorHandle _lockFile;
    private readonly long _entry;
    private int _disposed;

    private RoleLease(RingSegment segment, RingRole role, FileDescriptorHandle lockFile, long entry)
    {
        _segment = segment;
        Role = role;
        _lockFile = lockFile;
        _entry = entry;
    }

    public RingRole Role { get; }

    public static long EntryOffset(RingRole role) =>
        role == RingRole.Producer ? SegmentLayout.ProducerRoleOffset : SegmentLayout.ConsumerRoleOffset;

    public static RoleLease Acquire(RingSegment segment, RingRole role)
    {
        long entry = EntryOffset(role);
        FileDescriptorHandle lockFile = segment.ReopenFile(LibC.O_RDWR);
        SharedBuffer buffer = segment.Buffer;
        if (!Posix.TryLockByte(lockFile, entry))
        {
            lockFile.Dispose();
            int holder = buffer.ReadInt32Acquire(entry + SegmentLayout.EntryPidOffset);
            throw new RingRoleTakenException(role, holder,
                $"segment '{segment.Name}' already has a live {role.ToString().ToLowerInvariant()} (pid {holder}); an SPSC ring allows one.");
        }
        int pid = Environment.ProcessId;
        buffer.WriteInt32(entry + SegmentLayout.EntryPidOffset, pid);
        buffer.WriteInt64(entry + SegmentLayout.EntryStartTicksOffset, Posix.ProcessStartTicks(pid));
        buffer.WriteInt64(entry + SegmentLayout.EntryAttachNsOffset, RingSegment.UnixNsNow());
        buffer.WriteInt32Release(entry + SegmentLayout.EntryStateOffset, 1); // pairs with Stat's acquire of the state
        segment.SetParticipantRole(role, held: true);
        return new RoleLease(segment, role, lockFile, entry);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _segment.Buffer.WriteInt32Release(_entry + SegmentLayout.EntryStateOffset, 0);
        _segment.SetParticipantRole(Role, held: false);
        _lockFile.Dispose();
    }
}
