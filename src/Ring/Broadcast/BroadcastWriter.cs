using System.Diagnostics;
using System.Runtime.CompilerServices;
using Ring.Spsc;

namespace Ring.Broadcast;

/// <summary>The publisher of a broadcast ring; see <see cref="BroadcastProtocol"/> for the protocol.</summary>
internal sealed class BroadcastWriter<TPolicy, TMemory> : RingWriter, IEndpoint<TMemory>
    where TPolicy : struct, IWaitPolicy
    where TMemory : struct, ISharedMemory
{
    private const long NoGate = long.MaxValue;

    private readonly BroadcastRing<TMemory> _ring;
    private readonly EventCount<TMemory> _readers;
    private readonly EventCount<TMemory> _writers;

    private long _tail;
    private long _reclaim;
    private long _oldest;
    private long _messagesWritten; // also the sequence of the next message
    private long _bytesWritten;
    private long _fullEvents;

    // Block: the lowest live cursor as of the last scan (NoGate: none), the subscriber generation that scan saw, and
    // when the locks of the subscribers holding the publisher up were last probed.
    private long _gate = NoGate;
    private int _generation;
    private long _lastProbe;

    // An outstanding claim: nonzero _claimAdvance means one is open.
    private long _claimAdvance;
    private long _claimRecordOffset;
    private int _claimLength;

    private bool _completed;
    private EndpointCore<TMemory> _core;

    public BroadcastWriter(RingSegment segment, ParticipantLease<TMemory> lease, TMemory memory)
        : base(segment)
    {
        _ring = new BroadcastRing<TMemory>(segment, memory);
        _readers = _ring.Readers;
        _writers = _ring.Writers;
        TMemory b = _ring.Memory;
        // A successor continues from the committed tail; a predecessor that died mid-publish left R and Oldest no
        // further than the records it overwrote, all below the committed ones.
        _tail = _ring.ReadTail(out _completed);
        _reclaim = b.ReadInt64Acquire(SegmentLayout.ReclaimOffset); // pairs with a predecessor's fenced store
        _oldest = b.ReadInt64Acquire(SegmentLayout.OldestOffset); // pairs with a predecessor's release store
        _ring.CheckPosition(_reclaim, "reclaim");
        _ring.CheckPosition(_oldest, "oldest");
        if (_reclaim > _oldest || _oldest > _tail || _tail - _oldest > _ring.Capacity) _ring.ThrowPositions("reclaim, oldest and tail", _reclaim, _tail);
        _messagesWritten = NextSequence();
        // Both counts equal again (a predecessor may have died between them), so joiners read the tail's sequence.
        b.WriteInt64(SegmentLayout.MessagesWrittenOffset, _messagesWritten);
        b.WriteInt64Release(SegmentLayout.TailSequenceOffset, _messagesWritten); // pairs with a joiner's acquire
        _bytesWritten = b.ReadInt64(SegmentLayout.BytesWrittenOffset);
        _fullEvents = b.ReadInt64(SegmentLayout.FullEventsOffset);
        _generation = b.ReadInt32Acquire(SegmentLayout.SubscriberGenerationOffset); // pairs with the joiners' atomic add
        if (!_ring.Overwrite) Scan();
        _core = new EndpointCore<TMemory>(segment, lease, _writers, _readers, nameof(RingWriter));
    }

    public override int MaxMessageLength => _ring.MaxMessageLength;

    ref EndpointCore<TMemory> IEndpoint<TMemory>.Core => ref _core;

    private protected override long GetTimestamp() => _ring.Memory.GetTimestamp();

    public override bool IsCompleted => _completed;

    public override string? CompletionReason
    {
        get
        {
            using EndpointCore<TMemory>.Scope call = _core.Enter();
            return _completed ? RingCompletion.ReadReason(_ring.Memory) : null; // a publisher is never held up by lost subscribers
        }
    }

    public override int ConsumersAlive => _core.Lease.LiveParticipants(RingRole.Consumer, out _);

    public override bool TryWrite(ReadOnlySpan<byte> message)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        int recordLength = CheckedRecordLength(message.Length);
        if (_completed) throw Ended();
        if (!TryReserve(recordLength, out long recordOffset, out long advance)) return false;
        _ring.Memory.CopyIn(recordOffset + SegmentLayout.BroadcastRecordHeaderLength, message);
        Publish(advance, recordOffset, message.Length);
        return true;
    }

    public override bool TryClaim(int length, out Span<byte> buffer)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        int recordLength = CheckedRecordLength(length);
        if (_completed) throw Ended();
        if (!TryReserve(recordLength, out long recordOffset, out long advance))
        {
            buffer = default;
            return false;
        }
        _claimAdvance = advance;
        _claimRecordOffset = recordOffset;
        _claimLength = length;
        buffer = _ring.Memory.Span(recordOffset + SegmentLayout.BroadcastRecordHeaderLength, length);
        return true;
    }

    public override void Commit() => Commit(_claimLength);

    public override void Commit(int length)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        if (_claimAdvance == 0) RingThrow.NoClaim("commit");
        if ((uint)length > (uint)_claimLength)
            RingThrow.CommitLength(length, _claimLength);
        long advance = _claimAdvance - (SegmentLayout.BroadcastAlignedRecordLength(_claimLength) - SegmentLayout.BroadcastAlignedRecordLength(length));
        _claimAdvance = 0;
        Publish(advance, _claimRecordOffset, length);
    }

    public override void Abort()
    {
        _core.ThrowIfDisposed();
        if (_claimAdvance == 0) RingThrow.NoClaim("abort");
        _claimAdvance = 0; // the tail never moved; R may have, which only makes subscribers check sooner
    }

    public override bool WaitToWrite(int length, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        int recordLength = CheckedRecordLength(length);
        return _core.WaitUntil<TPolicy, RoomCondition>(new RoomCondition(this, recordLength), timeout, cancellationToken);
    }

    public override bool TryComplete(string? reason = null)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        RingCompletion.ValidateReason(reason);
        if (_claimAdvance != 0) RingThrow.ClaimOutstanding();
        if (_completed) return false;
        RingCompletion.CompleteAtTail(_ring.Memory, _tail, reason);
        _completed = true;
        return true;
    }

    /// <summary>Only completion ends a publisher: with no live subscriber it is never full.</summary>
    internal override RingCompletedException Ended() => RingCompletion.Completed(_ring.SegmentName, RingCompletion.ReadReason(_ring.Memory));

    private protected override ValueTask<bool> WaitToWriteAsyncCore(int length, TimeSpan timeout, CancellationToken cancellationToken) =>
        _core.WaitAsync(this, new RoomCondition(this, CheckedRecordLength(length)), timeout, cancellationToken);

    public override void Dispose()
    {
        if (!_core.TryBeginDispose()) return;
        _claimAdvance = 0;
        _core.EndDispose(this);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int CheckedRecordLength(int length)
    {
        if ((uint)length > (uint)_ring.MaxMessageLength) RingThrow.TooLong(length, _ring.SegmentName, _ring.MaxMessageLength);
        if (_claimAdvance != 0) RingThrow.ClaimOutstanding();
        return SegmentLayout.BroadcastAlignedRecordLength(length);
    }

    /// <summary>How far the tail moves for a record of this length: the record, plus padding if it would wrap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long AdvanceFor(int recordLength)
    {
        long toEnd = _ring.Capacity - (_tail & _ring.Mask);
        return recordLength <= toEnd ? recordLength : toEnd + recordLength;
    }

    private bool TryReserve(int recordLength, out long recordOffset, out long advance)
    {
        advance = AdvanceFor(recordLength);
        if (!_ring.Overwrite && !HasRoom(_tail + advance))
        {
            _ring.Memory.WriteInt64(SegmentLayout.FullEventsOffset, ++_fullEvents);
            recordOffset = 0;
            return false;
        }
        Reclaim(_tail + advance);
        long index = _tail & _ring.Mask;
        if (advance != recordLength)
        {
            // Padding to the end of the data region; published together with the record by one tail store.
            _ring.WritePadding(index);
            index = 0;
        }
        recordOffset = SegmentLayout.DataOffset + index;
        return true;
    }

    /// <summary>
    /// Block: whether a publish up to <paramref name="newTail"/> leaves every live subscriber's unread records alone.
    /// Scans the cursors again when a subscriber joined since the last scan or the cached gate says full; while full,
    /// probes the subscribers that hold the publisher up, at most every <see cref="PeerWatch.Interval"/>, and detaches the dead.
    /// </summary>
    private bool HasRoom(long newTail)
    {
        if (TMemory.Mutation == ProtocolMutation.PublisherIgnoresGate) return true;
        int generation = _ring.Memory.ReadInt32Acquire(SegmentLayout.SubscriberGenerationOffset); // pairs with a joiner's atomic add, made after its fenced cursor store
        if (generation != _generation)
        {
            _generation = generation;
            Scan();
        }
        long limit = newTail - _ring.Capacity;
        if (limit <= _gate) return true;
        Scan();
        if (limit <= _gate) return true;
        if (!ProbeDue() || !DetachDead(limit)) return false;
        Scan();
        return limit <= _gate;
    }

    /// <summary>Sets <see cref="_gate"/> to the lowest cursor of the live subscriber entries, each checked.</summary>
    private void Scan()
    {
        TMemory b = _ring.Memory;
        long gate = NoGate;
        for (int index = 0; index < SegmentLayout.ParticipantCapacity; index++)
        {
            long cursor = GatingCursor(b, SegmentLayout.ParticipantEntryOffset(index));
            if (cursor >= 0 && cursor < gate) gate = cursor;
        }
        _gate = gate;
    }

    /// <summary>The cursor of a subscriber entry in use, checked; −1 when the entry holds nothing up.</summary>
    private long GatingCursor(TMemory b, long entry)
    {
        if (b.ReadInt32Acquire(entry + SegmentLayout.EntryStateOffset) == 0) return -1; // pairs with Register's release
        if ((b.ReadInt32(entry + SegmentLayout.EntryRolesOffset) & (int)RingRole.Consumer) == 0) return -1;
        long cursor = b.ReadInt64Acquire(entry + SegmentLayout.EntryCursorOffset); // pairs with the subscriber's fenced cursor store
        if (cursor == -1) return -1;
        // A cursor may be more than a ring behind (a joiner's first store after a stall): it only waits. Never ahead.
        if (cursor < 0 || (cursor & (SegmentLayout.RecordAlignment - 1)) != 0 || cursor > _tail) _ring.ThrowPosition(cursor, "a subscriber's cursor");
        return cursor;
    }

    private bool ProbeDue()
    {
        long now = _ring.Memory.GetTimestamp();
        if (_lastProbe != 0 && Stopwatch.GetElapsedTime(_lastProbe, now) < PeerWatch.Interval) return false;
        _lastProbe = now;
        return true;
    }

    /// <summary>Detaches every dead subscriber whose cursor is below <paramref name="limit"/>: true when one was.</summary>
    private bool DetachDead(long limit)
    {
        TMemory b = _ring.Memory;
        bool detached = false;
        for (int index = 0; index < SegmentLayout.ParticipantCapacity; index++)
        {
            long entry = SegmentLayout.ParticipantEntryOffset(index);
            long cursor = GatingCursor(b, entry);
            if (cursor < 0 || cursor >= limit || _core.Lease.IsHeld(entry)) continue;
            // Only that dead cursor: an entry taken over meanwhile has its lock held and its own cursor.
            detached |= b.CompareExchangeInt64(entry + SegmentLayout.EntryCursorOffset, -1, cursor) == cursor;
        }
        return detached;
    }

    /// <summary>
    /// Moves Oldest past the records that start below <paramref name="newTail"/> − capacity and stores it, then R with a
    /// fence, before any store of the publish overwrites those records (the seqlock, <see cref="BroadcastProtocol"/>).
    /// Under Overwrite R runs a chunk ahead of what the publish needs, so its fence, the Oldest store and the line they
    /// dirty for every subscriber come once per chunk, not once per message. Under Block it stays exact: a live
    /// subscriber's lag in Stat is read from the record at its cursor, which R must not pass while it is intact.
    /// </summary>
    private void Reclaim(long newTail)
    {
        long needed = newTail - _ring.Capacity;
        if (needed <= _reclaim) return;
        long reclaim = _ring.Overwrite ? Math.Min(needed + _ring.ReclaimChunk, _tail) : needed; // the walk below reads only published records
        long oldest = _oldest;
        while (oldest < reclaim) // each step moves at least 8 bytes and stays below the tail
        {
            if (_ring.CheckRecord(oldest, _tail, out int type, out int length) is { } rule) _ring.ThrowRecord(rule, oldest);
            oldest = _ring.NextRecord(oldest, type, length);
        }
        TMemory b = _ring.Memory;
        if (oldest != _oldest) b.WriteInt64Release(SegmentLayout.OldestOffset, _oldest = oldest); // pairs with the subscribers' acquire, which follows their acquire of R
        b.WriteInt64Fenced(SegmentLayout.ReclaimOffset, _reclaim = reclaim); // the fence orders R before the stores that overwrite the bytes below it
    }

    /// <summary>The sequence of the next message: one past the newest message below the tail, walking from Oldest.</summary>
    private long NextSequence()
    {
        long next = 0;
        for (long position = _oldest; position < _tail;)
        {
            if (_ring.CheckRecord(position, _tail, out int type, out int length) is { } rule) _ring.ThrowRecord(rule, position);
            if (type == SegmentLayout.RecordTypeMessage) next = _ring.SequenceAt(position) + 1;
            position = _ring.NextRecord(position, type, length);
        }
        if (next < 0 || (next == 0 && _tail != 0)) _ring.ThrowPosition(next - 1, "sequence of the newest message");
        return next;
    }

    private void Publish(long advance, long recordOffset, int payloadLength)
    {
        TMemory b = _ring.Memory;
        b.WriteInt64(recordOffset, SpscProtocol.PackHeader(SegmentLayout.RecordTypeMessage, payloadLength));
        b.WriteInt64(recordOffset + SegmentLayout.BroadcastRecordSequenceOffset, _messagesWritten);
        _tail += advance;
        b.WriteInt64(SegmentLayout.MessagesWrittenOffset, ++_messagesWritten); // before the tail, TailSequence after it: the joiners' seqlock
        b.WriteInt64(SegmentLayout.BytesWrittenOffset, _bytesWritten += payloadLength);
        b.WriteInt64Publish(SegmentLayout.TailOffset, _tail); // release pairs with the subscribers' acquire of tail; ordered before the waiter check (PublishOrdering)
        b.WriteInt64Release(SegmentLayout.TailSequenceOffset, _messagesWritten); // pairs with a joiner's acquire
        _readers.NotifyAfterFence(int.MaxValue);
    }

    private readonly struct RoomCondition(BroadcastWriter<TPolicy, TMemory> writer, int recordLength) : IWaitCondition
    {
        public WaitReadiness Check() =>
            writer._completed ? WaitReadiness.Completed
            : writer._ring.Overwrite || writer.HasRoom(writer._tail + writer.AdvanceFor(recordLength)) ? WaitReadiness.Ready
            : WaitReadiness.Waiting;

        /// <summary>Short enough to probe the subscribers holding the publisher up, so a dead one stops gating within ~250 ms.</summary>
        public TimeSpan SleepLimit => PeerWatch.SleepLimit;
    }
}
