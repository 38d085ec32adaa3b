using System.Runtime.CompilerServices;
using Ring.Platform.Linux;

namespace Ring;

/// <summary>
/// One entry of the participant table, held by an attachment or an endpoint through an OFD lock on the
/// entry's first byte, taken on a descriptor of its own. Whoever holds the lock owns the entry; the kernel
/// drops it when the descriptor closes, including when the process dies, so liveness is the lock and never
/// a pid (pids are reused). An SPSC endpoint also holds its role's entry the same way.
/// <para>
/// The entry carries the endpoint's claim intents and its counters. Only the owner writes them, with plain
/// stores to a 128-byte entry no one else writes, so counting costs no shared cache line.
/// </para>
/// Every access to the entry goes through the endpoint's memory type, so under the step scheduler intents,
/// counters and the liveness scan of recovery are steps like any other.
/// </summary>
internal sealed class ParticipantLease<TMemory> : IDisposable where TMemory : struct, ISharedMemory
{
    private readonly TMemory _buffer;
    private readonly FileDescriptorHandle _lockFile;
    private readonly long _entry;
    private readonly long _roleEntry;
    private long _messagesWritten;
    private long _bytesWritten;
    private long _messagesRead;
    private long _bytesRead;
    private long _fullEvents;
    private long _emptyEvents;
    private int _disposed;

    private ParticipantLease(TMemory buffer, FileDescriptorHandle lockFile, long entry, long roleEntry)
    {
        _buffer = buffer;
        _lockFile = lockFile;
        _entry = entry;
        _roleEntry = roleEntry;
    }

    public int Index => (int)((_entry - SegmentLayout.ParticipantTableOffset) / SegmentLayout.ParticipantEntrySize);

    /// <summary>The offset of this lease's participant entry.</summary>
    public long Entry => _entry;

    /// <summary>Whether another participant's entry is held (its process alive): one lock query through this lease's descriptor.</summary>
    public bool IsHeld(long entry) => Posix.IsByteLocked(_lockFile, entry);

    /// <summary>
    /// Takes a free (or dead) participant entry, and for an exclusive role the role entry too.
    /// </summary>
    /// <exception cref="RingRoleTakenException">An exclusive role is held by a live endpoint.</exception>
    public static ParticipantLease<TMemory> Register(RingSegment segment, RingRole role, bool exclusiveRole, TMemory buffer)
    {
        FileDescriptorHandle lockFile = segment.ReopenFile(LibC.O_RDWR);
        long roleEntry = -1;
        bool roleHeld = false;
        try
        {
            int pid = Environment.ProcessId;
            long startTicks = Posix.ProcessStartTicks(pid);
            long now = UnixTime.NowNs();
            if (exclusiveRole)
            {
                roleEntry = role == RingRole.Producer ? SegmentLayout.ProducerRoleOffset : SegmentLayout.ConsumerRoleOffset;
                if (!Posix.TryLockByte(lockFile, roleEntry))
                {
                    int holder = buffer.ReadInt32Acquire(roleEntry + SegmentLayout.EntryPidOffset); // for the message only; may be a moment stale
                    throw new RingRoleTakenException(role, holder,
                        $"segment '{segment.Name}' already has a live {role.ToString().ToLowerInvariant()} (pid {holder}); {(segment.Kind == RingKind.Broadcast ? "a broadcast ring allows one publisher" : "an SPSC ring allows one")}.");
                }
                roleHeld = true;
                WriteIdentity(buffer, roleEntry, pid, startTicks, now);
                buffer.WriteInt32Release(roleEntry + SegmentLayout.EntryStateOffset, 1); // pairs with Stat's acquire of the state
            }
            for (int index = 0; index < SegmentLayout.ParticipantCapacity; index++)
            {
                long entry = SegmentLayout.ParticipantEntryOffset(index);
                if (!Posix.TryLockByte(lockFile, entry)) continue;
                if (buffer.ReadInt32Acquire(entry + SegmentLayout.EntryStateOffset) != 0) RetireCounters(buffer, entry); // left by a dead process
                WriteIdentity(buffer, entry, pid, startTicks, now);
                buffer.WriteInt32(entry + SegmentLayout.EntryRolesOffset, (int)role);
                buffer.WriteInt64(entry + SegmentLayout.EntryWriteIntentOffset, -1);
                buffer.WriteInt64(entry + SegmentLayout.EntryReadIntentOffset, -1);
                buffer.WriteInt64(entry + SegmentLayout.EntryCursorOffset, -1); // not gating a broadcast publisher until its subscriber joins
                buffer.WriteInt64(entry + SegmentLayout.EntryLostToLapsOffset, 0);
                for (int counter = SegmentLayout.EntryMessagesWrittenOffset; counter <= SegmentLayout.EntryEmptyEventsOffset; counter += sizeof(long))
                {
                    buffer.WriteInt64(entry + counter, 0);
                }
                buffer.WriteInt32Release(entry + SegmentLayout.EntryStateOffset, 1); // pairs with the acquire of readers of the table
                buffer.WriteInt64(SegmentLayout.LastAttachNsOffset, now);
                return new ParticipantLease<TMemory>(buffer, lockFile, entry, roleEntry);
            }
            throw new RingException($"segment '{segment.Path}' has {SegmentLayout.ParticipantCapacity} live participants already; detach one first.");
        }
        catch
        {
            if (roleHeld) buffer.WriteInt32Release(roleEntry + SegmentLayout.EntryStateOffset, 0); // pairs with Stat's acquire of the state
            lockFile.Dispose();
            throw;
        }
    }

    /// <summary>Plain store: the claiming compare-exchange that follows is a full fence and publishes it first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetWriteIntent(long position) => _buffer.WriteInt64(_entry + SegmentLayout.EntryWriteIntentOffset, position);

    /// <summary>Plain store: the claiming compare-exchange that follows is a full fence and publishes it first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetReadIntent(long position) => _buffer.WriteInt64(_entry + SegmentLayout.EntryReadIntentOffset, position);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CountWrite(int bytes)
    {
        _buffer.WriteInt64(_entry + SegmentLayout.EntryMessagesWrittenOffset, ++_messagesWritten);
        _buffer.WriteInt64(_entry + SegmentLayout.EntryBytesWrittenOffset, _bytesWritten += bytes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CountRead(int bytes)
    {
        _buffer.WriteInt64(_entry + SegmentLayout.EntryMessagesReadOffset, ++_messagesRead);
        _buffer.WriteInt64(_entry + SegmentLayout.EntryBytesReadOffset, _bytesRead += bytes);
    }

    public void CountFull() => _buffer.WriteInt64(_entry + SegmentLayout.EntryFullEventsOffset, ++_fullEvents);

    public void CountEmpty() => _buffer.WriteInt64(_entry + SegmentLayout.EntryEmptyEventsOffset, ++_emptyEvents);

    /// <summary>
    /// True when a live participant (its lock held) has <paramref name="position"/> as its intent of the given
    /// kind. One scan of the table and a lock query per match: used only for a position stuck past the
    /// recovery threshold. The query goes through this lease's descriptor, which sees every other holder's lock.
    /// </summary>
    public bool AnyLiveParticipantIntends(int intentOffset, long position)
    {
        for (int index = 0; index < SegmentLayout.ParticipantCapacity; index++)
        {
            long entry = SegmentLayout.ParticipantEntryOffset(index);
            if (entry == _entry) continue;
            if (_buffer.ReadInt32Acquire(entry + SegmentLayout.EntryStateOffset) == 0) continue; // pairs with Register's release
            if (_buffer.ReadInt64Acquire(entry + intentOffset) != position) continue; // the owner's plain store, published by its claiming compare-exchange
            if (Posix.IsByteLocked(_lockFile, entry)) return true;
        }
        return false;
    }

    /// <summary>
    /// How many other participants with <paramref name="role"/> are alive (lock held), and the pid of one recorded
    /// with that role that is not (0 if none): one scan of the table and a lock query per candidate, for the slow
    /// path and for <c>ProducersAlive</c>/<c>ConsumersAlive</c>.
    /// </summary>
    public int LiveParticipants(RingRole role, out int deadPid)
    {
        int alive = 0;
        deadPid = 0;
        for (int index = 0; index < SegmentLayout.ParticipantCapacity; index++)
        {
            long entry = SegmentLayout.ParticipantEntryOffset(index);
            if (entry == _entry) continue;
            if (_buffer.ReadInt32Acquire(entry + SegmentLayout.EntryStateOffset) == 0) continue; // pairs with Register's release
            if ((_buffer.ReadInt32(entry + SegmentLayout.EntryRolesOffset) & (int)role) == 0) continue;
            if (Posix.IsByteLocked(_lockFile, entry)) alive++;
            else deadPid = _buffer.ReadInt32(entry + SegmentLayout.EntryPidOffset);
        }
        return alive;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        RetireCounters(_buffer, _entry);
        _buffer.WriteInt32Release(_entry + SegmentLayout.EntryStateOffset, 0); // pairs with the acquire of readers of the table
        if (_roleEntry >= 0) _buffer.WriteInt32Release(_roleEntry + SegmentLayout.EntryStateOffset, 0); // pairs with Stat's acquire
        _buffer.WriteInt64(SegmentLayout.LastDetachNsOffset, UnixTime.NowNs());
        _lockFile.Dispose(); // drops the locks: the entries are free
    }

    /// <summary>Moves an entry's counters into the header's totals, so they outlive the entry.</summary>
    private static void RetireCounters(TMemory buffer, long entry)
    {
        Retire(buffer, entry + SegmentLayout.EntryMessagesWrittenOffset, SegmentLayout.MessagesWrittenOffset);
        Retire(buffer, entry + SegmentLayout.EntryBytesWrittenOffset, SegmentLayout.BytesWrittenOffset);
        Retire(buffer, entry + SegmentLayout.EntryMessagesReadOffset, SegmentLayout.MessagesReadOffset);
        Retire(buffer, entry + SegmentLayout.EntryBytesReadOffset, SegmentLayout.BytesReadOffset);
        Retire(buffer, entry + SegmentLayout.EntryFullEventsOffset, SegmentLayout.FullEventsOffset);
        Retire(buffer, entry + SegmentLayout.EntryEmptyEventsOffset, SegmentLayout.EmptyEventsOffset);
    }

    private static void Retire(TMemory buffer, long from, long to)
    {
        long value = buffer.ReadInt64Acquire(from); // the owner's (or a dead owner's) own counter; only the retirer touches it now
        if (value <= 0) return; // a negative count is garbage from another process: not worth corrupting the total with
        buffer.FetchAddInt64(to, value);
        buffer.WriteInt64(from, 0);
    }

    private static void WriteIdentity(TMemory buffer, long entry, int pid, long startTicks, long now)
    {
        buffer.WriteInt32(entry + SegmentLayout.EntryPidOffset, pid);
        buffer.WriteInt64(entry + SegmentLayout.EntryStartTicksOffset, startTicks);
        buffer.WriteInt64(entry + SegmentLayout.EntryAttachNsOffset, now);
    }
}
