using System.Runtime.CompilerServices;

namespace Ring.Spsc;

/// <summary>The producer end of an SPSC ring; see <see cref="SpscProtocol"/> for the protocol.</summary>
internal sealed class SpscWriter<TPolicy, TMemory> : RingWriter, IEndpoint<TMemory>
    where TPolicy : struct, IWaitPolicy
    where TMemory : struct, ISharedMemory
{
    private readonly SpscRing<TMemory> _ring;
    private readonly EventCount<TMemory> _readers;
    private readonly EventCount<TMemory> _writers;

    private long _tail;
    private long _cachedHead;
    private long _messagesWritten;
    private long _bytesWritten;
    private long _fullEvents;

    // An outstanding claim: nonzero _claimAdvance means one is open.
    private long _claimAdvance;
    private long _claimRecordOffset;
    private int _claimLength;

    // An open batch: its messages lie between _batchTail (the published tail) and _tail; -1 when none is open.
    private long _batchTail = -1;
    private long _batchMessages;
    private long _batchBytes;

    private bool _completed; // by this writer, or found completed at attach: SPSC has no other producer
    private PeerWatch _consumers;
    private EndpointCore<TMemory> _core;

    public SpscWriter(RingSegment segment, ParticipantLease<TMemory> lease, TMemory memory, PeerLoss peerLoss)
        : base(segment)
    {
        _ring = new SpscRing<TMemory>(segment, memory);
        _readers = _ring.Readers;
        _writers = _ring.Writers;
        (_cachedHead, _tail, _completed) = _ring.ReadPositions(); // a successor continues from the committed tail
        _consumers = new PeerWatch(peerLoss, RingRole.Consumer, segment);
        TMemory b = _ring.Memory;
        _messagesWritten = b.ReadInt64(SegmentLayout.MessagesWrittenOffset);
        _bytesWritten = b.ReadInt64(SegmentLayout.BytesWrittenOffset);
        _fullEvents = b.ReadInt64(SegmentLayout.FullEventsOffset);
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
            return _completed ? RingCompletion.ReadReason(_ring.Memory) : _consumers.Reason;
        }
    }

    public override int ConsumersAlive => _core.Lease.LiveParticipants(RingRole.Consumer, out _);

    public override bool TryWrite(ReadOnlySpan<byte> message)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        int recordLength = CheckedRecordLength(message.Length);
        if (_completed) throw Ended();
        if (!TryReserve(recordLength, out long recordOffset, out long advance)) return false;
        TMemory b = _ring.Memory;
        b.WriteInt64(recordOffset, SpscProtocol.PackHeader(SegmentLayout.RecordTypeMessage, message.Length));
        b.CopyIn(recordOffset + SegmentLayout.RecordHeaderLength, message);
        Publish(advance, message.Length);
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
        buffer = _ring.Memory.Span(recordOffset + SegmentLayout.RecordHeaderLength, length);
        return true;
    }

    public override void Commit() => Commit(_claimLength);

    public override void Commit(int length)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        if (_claimAdvance == 0) RingThrow.NoClaim("commit");
        if ((uint)length > (uint)_claimLength)
            RingThrow.CommitLength(length, _claimLength);
        long advance = _claimAdvance - (SegmentLayout.AlignedRecordLength(_claimLength) - SegmentLayout.AlignedRecordLength(length));
        _ring.Memory.WriteInt64(_claimRecordOffset, SpscProtocol.PackHeader(SegmentLayout.RecordTypeMessage, length));
        _claimAdvance = 0;
        Publish(advance, length);
    }

    public override void Abort()
    {
        _core.ThrowIfDisposed();
        if (_claimAdvance == 0) RingThrow.NoClaim("abort");
        _claimAdvance = 0; // the tail never moved, so readers never saw the claimed bytes
    }

    public override bool WaitToWrite(int length, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        int recordLength = CheckedWaitLength(length);
        return _core.WaitUntil<TPolicy, RoomCondition>(new RoomCondition(this, recordLength), timeout, cancellationToken);
    }

    public override bool TryComplete(string? reason = null)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        RingCompletion.ValidateReason(reason);
        if (_claimAdvance != 0 || _batchTail >= 0) RingThrow.ClaimOutstanding();
        if (_completed) return false;
        RingCompletion.CompleteAtTail(_ring.Memory, _tail, reason);
        _completed = true;
        return true;
    }

    internal override RingCompletedException Ended() =>
        _completed ? RingCompletion.Completed(_ring.SegmentName, RingCompletion.ReadReason(_ring.Memory))
        : new RingPeerLostException(_consumers.ReasonOrGone, $"the ring in segment '{_ring.SegmentName}' is full and {_consumers.ReasonOrGone}");

    private protected override ValueTask<bool> WaitToWriteAsyncCore(int length, TimeSpan timeout, CancellationToken cancellationToken) =>
        _core.WaitAsync(this, new RoomCondition(this, CheckedWaitLength(length)), timeout, cancellationToken);

    public override void Dispose()
    {
        if (!_core.TryBeginDispose()) return;
        _claimAdvance = 0;
        _core.EndDispose(this);
    }

    /// <summary>
    /// A wait for room is allowed inside a batch whose records are all published; with unpublished ones it could wait
    /// for room only they hold, which no reader can free.
    /// </summary>
    private int CheckedWaitLength(int length)
    {
        if (_batchTail >= 0 && _claimAdvance == 0)
        {
            if (_tail != _batchTail) RingThrow.UnpublishedBatch();
            if ((uint)length > (uint)_ring.MaxMessageLength) RingThrow.TooLong(length, _ring.SegmentName, _ring.MaxMessageLength);
            return SegmentLayout.AlignedRecordLength(length);
        }
        return CheckedRecordLength(length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int CheckedRecordLength(int length)
    {
        if ((uint)length > (uint)_ring.MaxMessageLength) RingThrow.TooLong(length, _ring.SegmentName, _ring.MaxMessageLength);
        if (_claimAdvance != 0 || _batchTail >= 0) RingThrow.ClaimOutstanding();
        return SegmentLayout.AlignedRecordLength(length);
    }

    /// <summary>How far the tail moves for a record of this length: the record, plus padding if it would wrap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long AdvanceFor(int recordLength)
    {
        long toEnd = _ring.Capacity - (_tail & _ring.Mask);
        return recordLength <= toEnd ? recordLength : toEnd + recordLength;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReserve(int recordLength, out long recordOffset, out long advance)
    {
        advance = AdvanceFor(recordLength);
        if (advance > _ring.Capacity - (_tail - _cachedHead) && !HasRoom(advance))
        {
            _ring.Memory.WriteInt64(SegmentLayout.FullEventsOffset, ++_fullEvents);
            recordOffset = 0;
            return false;
        }
        long index = _tail & _ring.Mask;
        if (advance != recordLength)
        {
            // Padding to the end of the data region; published together with the record by one tail store.
            long padding = _ring.Capacity - index;
            _ring.Memory.WriteInt64(SegmentLayout.DataOffset + index,
                SpscProtocol.PackHeader(SegmentLayout.RecordTypePadding, (int)(padding - SegmentLayout.RecordHeaderLength)));
            index = 0;
        }
        recordOffset = SegmentLayout.DataOffset + index;
        return true;
    }

    /// <summary>Re-reads the consumer's head (only when the cached one says full) and checks it.</summary>
    private bool HasRoom(long advance)
    {
        long head = _ring.Memory.ReadInt64Acquire(SegmentLayout.HeadOffset); // pairs with the reader's publishing (release) head store: it has finished with the bytes below
        _ring.CheckPositions(head, _tail);
        _cachedHead = head;
        long used = _tail - head;
        if (TMemory.Mutation == ProtocolMutation.UsedBytesModuloCapacity) used &= _ring.Mask;
        return advance <= _ring.Capacity - used;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Publish(long advance, int payloadLength)
    {
        _tail += advance;
        PublishTail(1, payloadLength);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PublishTail(long messages, long bytes)
    {
        TMemory b = _ring.Memory;
        b.WriteInt64(SegmentLayout.MessagesWrittenOffset, _messagesWritten += messages);
        b.WriteInt64(SegmentLayout.BytesWrittenOffset, _bytesWritten += bytes);
        if (TMemory.Mutation == ProtocolMutation.PublishTailWithoutFence) b.WriteInt64Release(SegmentLayout.TailOffset, _tail);
        else b.WriteInt64Publish(SegmentLayout.TailOffset, _tail); // release pairs with the reader's acquire of tail; ordered before the waiter check (PublishOrdering)
        _readers.NotifyAfterFence(1);
    }

    private protected override void BeginBatchCore()
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        if (_claimAdvance != 0 || _batchTail >= 0) RingThrow.ClaimOutstanding();
        if (_completed) throw Ended();
        _batchTail = _tail;
    }

    internal override bool TryAppend(ReadOnlySpan<byte> message)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        if (_batchTail < 0) RingThrow.NoClaim("append to: the batch was disposed");
        if ((uint)message.Length > (uint)_ring.MaxMessageLength) RingThrow.TooLong(message.Length, _ring.SegmentName, _ring.MaxMessageLength);
        if (!TryReserve(SegmentLayout.AlignedRecordLength(message.Length), out long recordOffset, out long advance)) return false;
        TMemory b = _ring.Memory;
        if (TMemory.Mutation == ProtocolMutation.BatchTailBeforeRecord) b.WriteInt64Release(SegmentLayout.TailOffset, _tail + advance);
        b.WriteInt64(recordOffset, SpscProtocol.PackHeader(SegmentLayout.RecordTypeMessage, message.Length));
        b.CopyIn(recordOffset + SegmentLayout.RecordHeaderLength, message);
        _tail += advance; // not stored: readers see nothing of the batch until PublishBatch stores the tail
        _batchMessages++;
        _batchBytes += message.Length;
        return true;
    }

    internal override void PublishBatch()
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        if (_batchTail < 0) RingThrow.NoClaim("publish: the batch was disposed");
        if (_tail == _batchTail) return;
        PublishTail(_batchMessages, _batchBytes);
        _batchTail = _tail;
        _batchMessages = 0;
        _batchBytes = 0;
    }

    internal override void EndBatch()
    {
        if (_core.IsDisposed || _batchTail < 0) return;
        _tail = _batchTail; // the unpublished records stay above the tail, where no reader looks, and are written over
        _batchTail = -1;
        _batchMessages = 0;
        _batchBytes = 0;
    }

    private readonly struct RoomCondition(SpscWriter<TPolicy, TMemory> writer, int recordLength) : IWaitCondition
    {
        public WaitReadiness Check()
        {
            long advance = writer.AdvanceFor(recordLength);
            if (writer._completed) return WaitReadiness.Completed;
            if (advance <= writer._ring.Capacity - (writer._tail - writer._cachedHead) || writer.HasRoom(advance)) return WaitReadiness.Ready;
            return writer._consumers.CheckLost(writer._ring.Memory, writer._core.Lease) ? WaitReadiness.Completed : WaitReadiness.Waiting;
        }

        public TimeSpan SleepLimit => writer._consumers.LimitSleep(Waiter.MaxSleep);
    }
}
