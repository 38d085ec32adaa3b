using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Ring.Spsc;

/// <summary>The consumer end of an SPSC ring; see <see cref="SpscProtocol"/> for the protocol.</summary>
internal sealed class SpscReader<TPolicy, TMemory> : RingReader, IEndpoint<TMemory>
    where TPolicy : struct, IWaitPolicy
    where TMemory : struct, ISharedMemory
{
    private readonly SpscRing<TMemory> _ring;
    private readonly EventCount<TMemory> _readers;
    private readonly EventCount<TMemory> _writers;

    private long _head; // next record to read; ahead of the published head inside a batch and past peeked messages
    private long _publishedHead;
    private long _cachedTail;
    private long _messagesRead;
    private long _bytesRead;
    private long _emptyEvents;
    private bool _tailFinal; // the tail carried the completion flag: _cachedTail is the last position there will be
    private PeekedMessages _peeked;
    private PeerWatch _producers;
    private EndpointCore<TMemory> _core;

    public SpscReader(RingSegment segment, ParticipantLease<TMemory> lease, TMemory memory, PeerLoss peerLoss)
        : base(segment)
    {
        _ring = new SpscRing<TMemory>(segment, memory);
        _readers = _ring.Readers;
        _writers = _ring.Writers;
        (_head, _cachedTail, _tailFinal) = _ring.ReadPositions(); // a successor continues from the committed head
        _producers = new PeerWatch(peerLoss, RingRole.Producer, segment);
        _publishedHead = _head;
        TMemory b = _ring.Memory;
        _messagesRead = b.ReadInt64(SegmentLayout.MessagesReadOffset);
        _bytesRead = b.ReadInt64(SegmentLayout.BytesReadOffset);
        _emptyEvents = b.ReadInt64(SegmentLayout.EmptyEventsOffset);
        _core = new EndpointCore<TMemory>(segment, lease, _readers, _writers, nameof(RingReader));
    }

    public override int MaxMessageLength => _ring.MaxMessageLength;

    public override bool IsCompleted
    {
        get
        {
            using EndpointCore<TMemory>.Scope call = _core.Enter();
            return HasEnded();
        }
    }

    public override string? CompletionReason
    {
        get
        {
            using EndpointCore<TMemory>.Scope call = _core.Enter();
            bool completed = _tailFinal || RingCompletion.IsFinal(_ring.Memory.ReadInt64Acquire(SegmentLayout.TailOffset)); // pairs with the writer's completing store
            return completed ? RingCompletion.ReadReason(_ring.Memory) : _producers.Reason;
        }
    }

    public override int ProducersAlive => _core.Lease.LiveParticipants(RingRole.Producer, out _);

    ref EndpointCore<TMemory> IEndpoint<TMemory>.Core => ref _core;

    private protected override long GetTimestamp() => _ring.Memory.GetTimestamp();

    public override bool TryRead(Span<byte> destination, out int length)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        if (_peeked.Count > 0) RingThrow.PeekedUnreleased(_peeked.Count);
        if (!TryPeek(out long payloadOffset, out length))
        {
            CountEmpty();
            return false;
        }
        if (destination.Length < length) RingThrow.DestinationTooShort(destination.Length, length);
        Take(payloadOffset, destination[..length]);
        return true;
    }

    private protected override bool TryReadExactly(Span<byte> destination)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        if (_peeked.Count > 0) RingThrow.PeekedUnreleased(_peeked.Count);
        if (!TryPeek(out long payloadOffset, out int length))
        {
            CountEmpty();
            return false;
        }
        if (length != destination.Length) RingThrow.WrongMessageLength(destination.Length, length);
        Take(payloadOffset, destination);
        return true;
    }

    public override int ReadBatch(RingMessageHandler handler, int maxMessages)
    {
        ArgumentNullException.ThrowIfNull(handler);
        HandlerSink sink = new(handler);
        return ReadBatch(ref sink, maxMessages);
    }

    public override int ReadBatch<TState>(ref TState state, RingMessageHandler<TState> handler, int maxMessages)
    {
        ArgumentNullException.ThrowIfNull(handler);
        StateHandlerSink<TState> sink = new(ref state, handler);
        return ReadBatch(ref sink, maxMessages);
    }

    private protected override int PeekBatchCore<TState>(ref TState state, RingPeekHandler<TState> handler, int maxMessages)
    {
        PeekHandlerSink<TState> sink = new(ref state, handler);
        return ReadBatch(ref sink, maxMessages, peek: true);
    }

    private protected override void ReleaseCore(long position)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        if (!_peeked.TryRemoveThrough(position, out int messages, out long bytes)) RingThrow.NotPeeked(position);
        Release(position, messages, bytes);
    }

    private void Take(long payloadOffset, Span<byte> destination)
    {
        _ring.Memory.CopyOut(payloadOffset, destination);
        _head += SegmentLayout.AlignedRecordLength(destination.Length);
        Release(_head, 1, destination.Length);
    }

    /// <summary>
    /// Hands out up to <paramref name="maxMessages"/> messages in place. A read gives their room back at the end; a peek
    /// records each one and leaves the head where it was, so the producer cannot reuse their room before their release.
    /// </summary>
    private int ReadBatch<TSink>(ref TSink sink, int maxMessages, bool peek = false) where TSink : IMessageSink, allows ref struct
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMessages);
        if (!peek && _peeked.Count > 0) RingThrow.PeekedUnreleased(_peeked.Count);
        int count = 0;
        long bytes = 0;
        try
        {
            while (count < maxMessages && !_core.IsDisposed && TryPeek(out long payloadOffset, out int length)) // a handler may dispose the reader
            {
                // Advance first: a message whose handler throws still counts as delivered, not redelivered forever.
                _head += SegmentLayout.AlignedRecordLength(length);
                count++;
                bytes += length;
                if (peek) _peeked.Add(_head, length);
                sink.Handle(_ring.Memory.Span(payloadOffset, length), _head);
            }
        }
        finally
        {
            // The handlers read in place, so the room is given back only after the last one returned.
            if (!peek && _head != _publishedHead) Release(_head, count, bytes);
        }
        if (count == 0) CountEmpty();
        return count;
    }

    public override bool WaitToRead(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        return _core.WaitUntil<TPolicy, DataCondition>(new DataCondition(this), timeout, cancellationToken);
    }

    private protected override ValueTask<bool> WaitToReadAsyncCore(TimeSpan timeout, CancellationToken cancellationToken) =>
        _core.WaitAsync(this, new DataCondition(this), timeout, cancellationToken);

    public override void Dispose()
    {
        if (!_core.TryBeginDispose()) return;
        _core.EndDispose(this);
    }

    /// <summary>
    /// Finds the next message at or after <see cref="_head"/>, stepping over padding; every header field is
    /// read once and checked against the tail before it is used. The loop ends within two records: a padding
    /// record runs to the end of the region and, being shorter than the longest record, is never at index 0,
    /// where the next one starts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryPeek(out long payloadOffset, out int length)
    {
        while (true)
        {
            if (_head == _cachedTail && !RefreshTail())
            {
                payloadOffset = 0;
                length = 0;
                return false;
            }
            long index = _head & _ring.Mask;
            long available = _cachedTail - _head;
            long header = _ring.Memory.ReadInt64(SegmentLayout.DataOffset + index); // below the acquired tail: complete
            int type = (int)(header >> 32);
            length = (int)header;
            if (type == SegmentLayout.RecordTypeMessage)
            {
                if ((uint)length > (uint)_ring.MaxMessageLength
                    || SegmentLayout.AlignedRecordLength(length) > Math.Min(available, _ring.Capacity - index))
                {
                    ThrowBadMessage(length, available);
                }
                payloadOffset = SegmentLayout.DataOffset + index + SegmentLayout.RecordHeaderLength;
                return true;
            }
            long toEnd = _ring.Capacity - index;
            if (type != SegmentLayout.RecordTypePadding)
                _ring.ThrowCorrupted(RingCorruptionRule.RecordType, "record at position {0} has type {1}", _head, type);
            if (toEnd > available)
                _ring.ThrowCorrupted(RingCorruptionRule.PaddingPastTail, "padding at position {0} runs {1} bytes, past the {2} committed", _head, toEnd, available);
            if (toEnd >= _ring.MaxRecordLength)
                _ring.ThrowCorrupted(RingCorruptionRule.PaddingLength, "padding at position {0} runs {1} bytes, but a {2}-byte record would have fit", _head, toEnd, _ring.MaxRecordLength);
            _head += toEnd;
        }
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowBadMessage(int length, long available)
    {
        RingCorruptionRule rule = (uint)length > (uint)_ring.MaxMessageLength ? RingCorruptionRule.RecordLength
            : SegmentLayout.AlignedRecordLength(length) > available ? RingCorruptionRule.RecordPastTail
            : RingCorruptionRule.RecordPastEnd;
        _ring.ThrowCorrupted(rule, $"record at position {_head} claims {length} payload bytes; max {_ring.MaxMessageLength}, {available} committed, {_ring.Capacity - (_head & _ring.Mask)} to the end");
    }

    private bool RefreshTail()
    {
        long tail = _ring.Memory.ReadInt64Acquire(SegmentLayout.TailOffset); // pairs with the writer's release tail store: records below it are complete
        if (RingCompletion.IsFinal(tail))
        {
            _tailFinal = true; // the same load gave the final tail: nothing committed before the completion is above it
            tail &= ~RingCompletion.TailFlag;
        }
        _ring.CheckPositions(_publishedHead, tail);
        if ((ulong)(tail - _head) > (ulong)_ring.Capacity)
            _ring.ThrowCorrupted(RingCorruptionRule.TailBehindRead, "tail {0} moved behind the read position {1}", tail, _head);
        _cachedTail = tail;
        return tail != _head;
    }

    /// <summary>Publishes <paramref name="head"/> (the read position, or a released peek's, behind it) and counts what it gives back.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Release(long head, int messages, long bytes)
    {
        TMemory b = _ring.Memory;
        _messagesRead += messages;
        _bytesRead += bytes;
        b.WriteInt64(SegmentLayout.MessagesReadOffset, _messagesRead);
        b.WriteInt64(SegmentLayout.BytesReadOffset, _bytesRead);
        if (TMemory.Mutation == ProtocolMutation.PublishHeadWithoutFence) b.WriteInt64Release(SegmentLayout.HeadOffset, head);
        else b.WriteInt64Publish(SegmentLayout.HeadOffset, head); // release pairs with the writer's acquire of head; ordered before the waiter check (PublishOrdering)
        _publishedHead = head;
        _writers.NotifyAfterFence(1);
    }

    private void CountEmpty() => _ring.Memory.WriteInt64(SegmentLayout.EmptyEventsOffset, ++_emptyEvents);

    /// <summary>
    /// True once nothing more will come: drained, and the tail was final (completed) or every producer is gone. The
    /// drain is what makes it safe to say: a completion seen with the tail is reported only at that tail.
    /// </summary>
    private bool HasEnded()
    {
        if (TMemory.Mutation == ProtocolMutation.CompletedBeforeDrained && _tailFinal) return true;
        if (_head != _cachedTail || RefreshTail()) return false;
        return _tailFinal || _producers.CheckLost(_ring.Memory, _core.Lease);
    }

    internal override RingCompletedException Ended() =>
        _tailFinal ? RingCompletion.Completed(_ring.SegmentName, RingCompletion.ReadReason(_ring.Memory))
        : new RingPeerLostException(_producers.ReasonOrGone, $"the ring in segment '{_ring.SegmentName}' is drained and {_producers.ReasonOrGone}");

    /// <summary>A message, or the end of the stream.</summary>
    private readonly struct DataCondition(SpscReader<TPolicy, TMemory> reader) : IWaitCondition
    {
        public WaitReadiness Check() =>
            reader._head != reader._cachedTail || reader.RefreshTail() ? WaitReadiness.Ready
            : reader.HasEnded() ? WaitReadiness.Completed
            : WaitReadiness.Waiting;

        public TimeSpan SleepLimit => reader._producers.LimitSleep(Waiter.MaxSleep);
    }
}
