using System.Globalization;

namespace Ring.Broadcast;

/// <summary>A subscriber of a broadcast ring; see <see cref="BroadcastProtocol"/> for the protocol.</summary>
internal sealed class BroadcastReader<TPolicy, TMemory> : RingReader, IEndpoint<TMemory>
    where TPolicy : struct, IWaitPolicy
    where TMemory : struct, ISharedMemory
{
    private readonly BroadcastRing<TMemory> _ring;
    private readonly EventCount<TMemory> _readers;
    private readonly EventCount<TMemory> _writers;
    private readonly long _cursorOffset;
    private readonly long _joinTail; // Block: from here on the publisher waits for this subscriber; below (history) it does not
    private readonly byte[]? _copy; // where a batch copies a record that may be overwritten, to check it before its handler sees it

    private long _cursor; // the next record to read; ahead of the published cursor inside a batch and past peeked messages
    private long _publishedCursor;
    private long _cachedTail;
    private long _expected; // the sequence of the next message: exact once _expectedKnown, a lower bound before
    private bool _expectedKnown;
    private long _lost; // messages lost to a lap a batch found, thrown by the next call
    private long _lostToLaps; // every message this subscriber lost, shown by Stat
    private readonly long _lostToLapsOffset;
    private bool _tailFinal;
    private PeekedMessages _peeked;
    private PeerWatch _producers;
    private EndpointCore<TMemory> _core;

    public BroadcastReader(RingSegment segment, ParticipantLease<TMemory> lease, TMemory memory, PeerLoss peerLoss, SubscribeFrom from)
        : base(segment)
    {
        _ring = new BroadcastRing<TMemory>(segment, memory);
        _readers = _ring.Readers;
        _writers = _ring.Writers;
        _cursorOffset = lease.Entry + SegmentLayout.EntryCursorOffset;
        _lostToLapsOffset = lease.Entry + SegmentLayout.EntryLostToLapsOffset;
        TMemory b = _ring.Memory;
        // Join: a cursor the publisher will wait for, then the bump that makes it scan, then the tail to start at.
        b.WriteInt64Fenced(_cursorOffset, _ring.ReadTail(out _)); // pairs with the publisher's acquire of the cursor in its scan
        b.FetchAddInt32(SegmentLayout.SubscriberGenerationOffset, 1); // full fence: the tail read below sees every publish that missed this bump
        _cachedTail = _ring.ReadTailAndSequence(out _expected, out _expectedKnown, out _tailFinal);
        _joinTail = _cachedTail;
        _cursor = _cachedTail;
        if (from == SubscribeFrom.Oldest && _ring.TryReadOldest(out long oldest, out long sequence) && oldest < _joinTail)
        {
            // History is read the seqlock way. If the publisher laps it faster than it can be found, the subscriber starts at the tail.
            _cursor = oldest;
            _expected = sequence;
            _expectedKnown = true;
        }
        _copy = _ring.Overwrite || _cursor < _joinTail ? new byte[_ring.MaxMessageLength] : null;
        _producers = new PeerWatch(peerLoss, RingRole.Producer, segment);
        _core = new EndpointCore<TMemory>(segment, lease, _readers, _writers, nameof(RingReader));
        PublishCursor(_cursor);
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
            bool completed = _tailFinal || RingCompletion.IsFinal(_ring.Memory.ReadInt64Acquire(SegmentLayout.TailOffset)); // pairs with the publisher's completing store
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
        return TryCopy(destination, exact: false, out length);
    }

    private protected override bool TryReadExactly(Span<byte> destination)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        if (_peeked.Count > 0) RingThrow.PeekedUnreleased(_peeked.Count);
        return TryCopy(destination, exact: true, out _);
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
        if (!_peeked.TryRemoveThrough(position, out _, out _)) RingThrow.NotPeeked(position);
        // A lap under Overwrite may have moved the cursor past this position: what is published then is only for Stat.
        PublishCursor(position);
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
        _core.EndDispose(this); // the entry goes with the lease: the publisher's next scan finds it free and stops waiting for it
    }

    /// <summary>Whether the record at the cursor may have been overwritten: always under Overwrite, only in the history otherwise.</summary>
    private bool MayBeOverwritten => _ring.Overwrite || _cursor < _joinTail;

    /// <summary>
    /// Copies the next message into <paramref name="destination"/> and checks the copy is the record as published. A
    /// length that does not fit is reported only for a record found intact; a lap is thrown at once.
    /// </summary>
    private bool TryCopy(Span<byte> destination, bool exact, out int length)
    {
        ThrowPendingLap();
        for (int attempt = 0; attempt < BroadcastProtocol.MaxAttempts; attempt++)
        {
            if (!TryNext(out long position, out length, out long sequence))
            {
                ThrowPendingLap();
                break;
            }
            bool fits = exact ? destination.Length == length : destination.Length >= length;
            if (fits) _ring.Memory.CopyOut(_ring.PayloadOffset(position), destination[..length]);
            if (!IsIntact())
            {
                if (!Lap()) break;
                ThrowPendingLap();
                continue; // nothing lost: read on from Oldest
            }
            if (!fits)
            {
                if (exact) RingThrow.WrongMessageLength(destination.Length, length);
                RingThrow.DestinationTooShort(destination.Length, length);
            }
            Take(position, length, sequence);
            PublishCursor(_cursor);
            return true;
        }
        length = 0;
        _core.Lease.CountEmpty();
        return false;
    }

    /// <summary>
    /// Hands out up to <paramref name="maxMessages"/> messages. A read publishes the cursor at the end; a peek records each
    /// message and leaves the published cursor where it was, so a Block publisher waits at the first unreleased one.
    /// </summary>
    private int ReadBatch<TSink>(ref TSink sink, int maxMessages, bool peek = false) where TSink : IMessageSink, allows ref struct
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMessages);
        if (!peek && _peeked.Count > 0) RingThrow.PeekedUnreleased(_peeked.Count);
        ThrowPendingLap();
        int count = 0;
        try
        {
            int laps = 0;
            while (count < maxMessages && !_core.IsDisposed && TryNext(out long position, out int length, out long sequence)) // a handler may dispose the reader
            {
                ReadOnlySpan<byte> message;
                if (MayBeOverwritten)
                {
                    Span<byte> copy = _copy.AsSpan(0, length);
                    _ring.Memory.CopyOut(_ring.PayloadOffset(position), copy);
                    if (!IsIntact())
                    {
                        if (!Lap() || _lost > 0 || ++laps == BroadcastProtocol.MaxAttempts) break; // the lap is thrown by the next call
                        continue;
                    }
                    message = copy;
                }
                else
                {
                    message = _ring.Memory.Span(_ring.PayloadOffset(position), length); // in place: the publisher waits for this subscriber
                }
                // Advance first: a message whose handler throws still counts as delivered, not redelivered forever.
                Take(position, length, sequence);
                count++;
                if (peek) _peeked.Add(_cursor, length);
                sink.Handle(message, _cursor);
            }
        }
        finally
        {
            // In place, the room is given back only after the last handler returned.
            if (!peek && _cursor != _publishedCursor && !_core.IsDisposed) PublishCursor(_cursor);
        }
        if (count == 0)
        {
            ThrowPendingLap();
            _core.Lease.CountEmpty();
        }
        return count;
    }

    /// <summary>
    /// The next message record at the cursor (past a padding record), its header checked; false when there is none now.
    /// A lap found on the way repositions the cursor and, if messages were lost, throws — except in a batch, which
    /// leaves the throw to the next call (<see cref="_lost"/>).
    /// </summary>
    private bool TryNext(out long position, out int length, out long sequence)
    {
        for (int attempt = 0; attempt < BroadcastProtocol.MaxAttempts; attempt++)
        {
            if (_lost > 0 || (_cursor == _cachedTail && !RefreshTail())) break;
            if (_cachedTail - _cursor <= _ring.Capacity)
            {
                RingCorruptionRule? rule = _ring.FindMessage(_cursor, _cachedTail, out position, out length);
                if (rule is null)
                {
                    sequence = _ring.SequenceAt(position);
                    return true;
                }
                if (IsIntact()) _ring.ThrowRecord(rule.Value, _cursor);
            }
            if (!Lap()) break; // more than a ring behind, or a header torn by an overwrite
        }
        position = 0;
        length = 0;
        sequence = 0;
        return false;
    }

    /// <summary>
    /// After the record's loads, whether the publisher had not yet started to overwrite it: the cursor (the record, or the
    /// padding before it) is still at or above R. Always true where the publisher waits for this subscriber.
    /// </summary>
    private bool IsIntact()
    {
        if (!MayBeOverwritten) return true;
        _ring.Memory.LoadFence(); // the record's loads come before the load of R that validates them
        return _cursor >= _ring.Memory.ReadInt64Acquire(SegmentLayout.ReclaimOffset); // pairs with the publisher's fenced store of R, made before it overwrites anything below R
    }

    /// <summary>
    /// The cursor was overwritten: resumes at the oldest message still intact and records how many were lost (0: only
    /// padding was). False when the publisher moved Oldest on under every attempt to read it: nothing now.
    /// </summary>
    private bool Lap()
    {
        if (!MayBeOverwritten)
            _ring.ThrowPosition(_cursor, "overwritten under the cursor of a subscriber the publisher waits for:");
        if (!_ring.TryReadOldest(out long oldest, out long sequence)) return false;
        long lost = sequence - _expected;
        if (lost < 0 || oldest <= _cursor)
            RingThrow.Corrupted(_ring.Segment, RingCorruptionRule.SequenceGap, "the oldest message has sequence {0}, the subscriber expected {1}", sequence, _expected);
        _cursor = oldest;
        _expected = sequence;
        _expectedKnown = true;
        _lost = lost;
        _ring.Memory.WriteInt64(_lostToLapsOffset, _lostToLaps += lost); // own entry, plain: only Stat reads it
        PublishCursor(_cursor);
        RefreshTail(); // the tail Oldest was read against may be newer than the cached one
        return true;
    }

    private void ThrowPendingLap()
    {
        if (_lost == 0) return;
        long lost = _lost;
        _lost = 0;
        throw new RingLappedException(lost, string.Format(CultureInfo.InvariantCulture,
            "the subscriber of segment '{0}' fell a ring behind and lost {1} messages; it goes on from the oldest still there", _ring.SegmentName, lost));
    }

    private void Take(long position, int length, long sequence)
    {
        if (_expectedKnown && sequence != _expected)
            RingThrow.Corrupted(_ring.Segment, RingCorruptionRule.SequenceGap, "the message at position {0} has sequence {1}, the subscriber expected {2}", position, sequence, _expected);
        _expected = sequence + 1;
        _expectedKnown = true;
        _cursor = position + SegmentLayout.BroadcastAlignedRecordLength(length);
        _core.Lease.CountRead(length);
    }

    /// <summary>
    /// Block: a fenced store (the publisher may be asleep waiting for it) of the cursor (or a released peek's position), or of the join tail while still in
    /// the history, which the publisher does not wait for. Overwrite: a release store, for <c>Stat</c> only.
    /// </summary>
    private void PublishCursor(long cursor)
    {
        if (_ring.Overwrite)
        {
            _ring.Memory.WriteInt64Release(_cursorOffset, cursor); // pairs with Stat's acquire
        }
        else
        {
            _ring.Memory.WriteInt64Publish(_cursorOffset, Math.Max(cursor, _joinTail)); // release pairs with the publisher's acquire in its scan; ordered before the waiter check (PublishOrdering)
            _writers.NotifyAfterFence(1);
        }
        _publishedCursor = cursor;
    }

    private bool RefreshTail()
    {
        long tail = _ring.ReadTail(out bool final);
        if (final) _tailFinal = true; // the same load gave the final tail: nothing committed before the completion is above it
        if (tail < _cursor)
            RingThrow.Corrupted(_ring.Segment, RingCorruptionRule.TailBehindRead, "tail {0} moved behind the read position {1}", tail, _cursor);
        _cachedTail = tail;
        return tail != _cursor;
    }

    /// <summary>True once nothing more will come: drained, and the tail was final (completed) or the publisher is gone.</summary>
    private bool HasEnded()
    {
        if (_lost > 0 || _cursor != _cachedTail || RefreshTail()) return false;
        return _tailFinal || _producers.CheckLost(_ring.Memory, _core.Lease);
    }

    internal override RingCompletedException Ended() =>
        _tailFinal ? RingCompletion.Completed(_ring.SegmentName, RingCompletion.ReadReason(_ring.Memory))
        : new RingPeerLostException(_producers.ReasonOrGone, $"the ring in segment '{_ring.SegmentName}' is drained and {_producers.ReasonOrGone}");

    /// <summary>A message (or a lap to report), or the end of the stream.</summary>
    private readonly struct DataCondition(BroadcastReader<TPolicy, TMemory> reader) : IWaitCondition
    {
        public WaitReadiness Check() =>
            reader._lost > 0 || reader._cursor != reader._cachedTail || reader.RefreshTail() ? WaitReadiness.Ready
            : reader.HasEnded() ? WaitReadiness.Completed
            : WaitReadiness.Waiting;

        public TimeSpan SleepLimit => reader._producers.LimitSleep(Waiter.MaxSleep);
    }
}
