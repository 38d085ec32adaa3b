using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Ring.Mpmc;

/// <summary>A consumer end of an MPMC ring; see <see cref="MpmcProtocol"/> for the protocol.</summary>
internal sealed class MpmcReader<TPolicy, TMemory> : RingReader, IEndpoint<TMemory>
    where TPolicy : struct, IWaitPolicy
    where TMemory : struct, ISharedMemory
{
    private readonly MpmcRing<TMemory> _ring;
    private readonly EventCount<TMemory> _readers;
    private readonly EventCount<TMemory> _writers;
    private StuckPosition _stuck;
    private PeerWatch _producers;
    private EndpointCore<TMemory> _core;

    public MpmcReader(RingSegment segment, ParticipantLease<TMemory> lease, TMemory memory, PeerLoss peerLoss)
        : base(segment)
    {
        _ring = new MpmcRing<TMemory>(segment, memory);
        _readers = _ring.Readers;
        _writers = _ring.Writers;
        _stuck = StuckPosition.None;
        _producers = new PeerWatch(peerLoss, RingRole.Producer, segment);
        _core = new EndpointCore<TMemory>(segment, lease, _readers, _writers, nameof(RingReader));
    }

    public override int MaxMessageLength => _ring.MaxMessageLength;

    public override bool IsCompleted
    {
        get
        {
            using EndpointCore<TMemory>.Scope call = _core.Enter();
            if (TMemory.Mutation == ProtocolMutation.CompletedBeforeDrained) return HasEnded();
            return !HasMessage() && HasEnded(); // the walk consumes trailing skips, so the head can reach a final tail
        }
    }

    public override string? CompletionReason
    {
        get
        {
            using EndpointCore<TMemory>.Scope call = _core.Enter();
            bool completed = RingCompletion.IsFinal(_ring.Memory.ReadInt64Acquire(SegmentLayout.TailOffset)); // pairs with the completer's compare-exchange
            return completed ? RingCompletion.ReadReason(_ring.Memory) : _producers.Reason;
        }
    }

    public override int ProducersAlive => _core.Lease.LiveParticipants(RingRole.Producer, out _);

    ref EndpointCore<TMemory> IEndpoint<TMemory>.Core => ref _core;

    private protected override long GetTimestamp() => _ring.Memory.GetTimestamp();

    public override bool TryRead(Span<byte> destination, out int length)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        if (!TryClaimPosition(destination.Length, out long position, out length))
        {
            _core.Lease.CountEmpty();
            return false;
        }
        long slot = _ring.SlotOffset(position);
        _ring.Memory.CopyOut(slot + SegmentLayout.SlotHeaderLength, destination[..length]);
        Free(position, slot, length);
        return true;
    }

    private protected override bool TryReadExactly(Span<byte> destination)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        if (!TryClaimPosition(destination.Length, out long position, out int length, exact: true))
        {
            _core.Lease.CountEmpty();
            return false;
        }
        long slot = _ring.SlotOffset(position);
        _ring.Memory.CopyOut(slot + SegmentLayout.SlotHeaderLength, destination);
        Free(position, slot, length);
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

    private int ReadBatch<TSink>(ref TSink sink, int maxMessages) where TSink : IMessageSink, allows ref struct
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMessages);
        int count = 0;
        while (count < maxMessages && !_core.IsDisposed && TryClaimPosition(int.MaxValue, out long position, out int length)) // a handler may dispose the reader
        {
            long slot = _ring.SlotOffset(position);
            count++;
            try
            {
                sink.Handle(_ring.Memory.Span(slot + SegmentLayout.SlotHeaderLength, length), position + 1);
            }
            finally
            {
                // A message whose handler throws still counts as delivered; its slot goes back to the producers.
                Free(position, slot, length);
            }
        }
        if (count == 0) _core.Lease.CountEmpty();
        return count;
    }

    public override bool WaitToRead(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        // A message another consumer took first still counts as a chance; the end is false.
        return _core.WaitUntil<TPolicy, MessageCondition>(new MessageCondition(this), timeout, cancellationToken);
    }

    private protected override ValueTask<bool> WaitToReadAsyncCore(TimeSpan timeout, CancellationToken cancellationToken) =>
        _core.WaitAsync(this, new MessageCondition(this), timeout, cancellationToken);

    public override void Dispose()
    {
        if (!_core.TryBeginDispose()) return;
        _core.EndDispose(this);
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowUnfit(int destinationLength, int length, bool exact)
    {
        if (exact) RingThrow.WrongMessageLength(destinationLength, length);
        RingThrow.DestinationTooShort(destinationLength, length);
    }

    /// <summary>
    /// Claims the position at the head once its slot is published (Vyukov's dequeue), consuming skip records on
    /// the way. The length is read and checked before the claim, so a too-short destination leaves the message
    /// in the ring: a published slot cannot change until someone claims it.
    /// </summary>
    private bool TryClaimPosition(int destinationLength, out long position, out int length, bool exact = false)
    {
        TMemory b = _ring.Memory;
        long pos = b.ReadInt64Acquire(SegmentLayout.HeadOffset); // any recent value: the compare-exchange decides
        int steps = _ring.StepBudget;
        while (TryFindMessage(ref pos, ref steps, out long slot))
        {
            length = b.ReadInt32(slot + SegmentLayout.SlotLengthOffset); // ordered after the sequence's acquire load
            if ((uint)length > (uint)_ring.MaxMessageLength)
                _ring.ThrowCorrupted(RingCorruptionRule.SlotLength, "slot for position {0} claims {1} payload bytes; max {2}", pos, length, _ring.MaxMessageLength);
            if (exact ? length != destinationLength : length > destinationLength) ThrowUnfit(destinationLength, length, exact);
            _ring.CheckClaimable(pos, SegmentLayout.HeadOffset);
            _core.Lease.SetReadIntent(pos); // plain store, made visible before the claim by the compare-exchange's fence
            long witnessed = b.CompareExchangeInt64(SegmentLayout.HeadOffset, pos + 1, pos); // full fence: the claim; pairs with other consumers' claims and publishes the intent first
            if (witnessed == pos)
            {
                _stuck.Clear();
                position = pos;
                return true;
            }
            _core.Lease.SetReadIntent(-1); // lost the race: an intent for a position we do not own would shield a dead winner
            pos = witnessed;
        }
        length = 0;
        position = 0;
        return false;
    }

    /// <summary>True when a message (not a skip) is ready at the head; consumes skips and recovers dead claims on the way.</summary>
    private bool HasMessage()
    {
        long pos = _ring.Memory.ReadInt64Acquire(SegmentLayout.HeadOffset); // pairs with consumers' claiming compare-exchange
        int steps = _ring.StepBudget;
        return TryFindMessage(ref pos, ref steps, out _);
    }

    /// <summary>
    /// Walks from <paramref name="pos"/> to the first position whose slot holds a published message, consuming
    /// skips, following a head others moved and completing a dead producer's claim on the way; false when the
    /// ring has nothing for us now or the walk used up <paramref name="steps"/> (<see cref="MpmcRing{TMemory}.StepBudget"/>).
    /// Each sequence is read once; one that no valid history leaves at the head throws.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryFindMessage(ref long pos, ref int steps, out long slot)
    {
        TMemory b = _ring.Memory;
        while (--steps >= 0)
        {
            slot = _ring.SlotOffset(pos);
            long raw = b.ReadInt64Acquire(slot + SegmentLayout.SlotSequenceOffset); // pairs with the producer's fenced publish: length and payload are complete
            if (raw == pos + 1) return true;
            long lag = (raw & ~MpmcProtocol.SkipFlag) - (pos + 1);
            if (lag == 0)
            {
                pos = ConsumeSkip(pos, slot); // the flag is what made raw differ
            }
            else if (lag == -1)
            {
                // Not published yet: empty if nobody claimed the position, otherwise a producer is writing it (or died doing so).
                if ((raw & MpmcProtocol.SkipFlag) != 0)
                    _ring.ThrowCorrupted(RingCorruptionRule.SkipFlag, "slot for position {0} has the free sequence {1} with the skip flag", pos, pos);
                if (!TryPublishSkipAfterDeadProducer(pos)) return false;
            }
            else if (lag < 0)
            {
                // A consumer from a lap ago is still reading (or died reading) this slot.
                if (lag != -_ring.SlotCount) _ring.ThrowCorrupted(RingCorruptionRule.SlotSequence, "slot for position {0} has sequence {1}", pos, raw);
                return false;
            }
            else
            {
                pos = _ring.MovedPast(SegmentLayout.HeadOffset, pos, raw);
            }
        }
        slot = 0;
        return false;
    }

    /// <summary>Claims a skip record at <paramref name="position"/> and frees its slot; returns where to look next.</summary>
    private long ConsumeSkip(long position, long slot)
    {
        TMemory b = _ring.Memory;
        _ring.CheckClaimable(position, SegmentLayout.HeadOffset);
        _core.Lease.SetReadIntent(position);
        long witnessed = b.CompareExchangeInt64(SegmentLayout.HeadOffset, position + 1, position); // full fence: the claim, as in TryClaimPosition
        if (witnessed != position)
        {
            _core.Lease.SetReadIntent(-1);
            return witnessed;
        }
        _stuck.Clear();
        FreeSlot(position, slot);
        return position + 1;
    }

    /// <summary>
    /// Publishes the position as a skip record if a producer claimed it and died before publishing. Cheap until
    /// the same position has been stuck past the threshold: then one scan of the participant table. True when
    /// the slot is published now, by this skip or by the claimer.
    /// </summary>
    private bool TryPublishSkipAfterDeadProducer(long position)
    {
        TMemory b = _ring.Memory;
        if ((b.ReadInt64Acquire(SegmentLayout.TailOffset) & ~RingCompletion.TailFlag) <= position) return false; // pairs with the producers' claims; nobody claimed it: really empty
        if (!_stuck.HasBeenStuck(_ring.Memory, position, MpmcProtocol.StuckThreshold)) return false;
        if (_core.Lease.AnyLiveParticipantIntends(SegmentLayout.EntryWriteIntentOffset, position)) return false; // slow, not dead
        // One compare-exchange from "claimed" to "published skip": if the claimer published before it died, the
        // sequence is no longer the position and its message stands.
        long slot = _ring.SlotOffset(position);
        long witnessed = b.CompareExchangeInt64(slot + SegmentLayout.SlotSequenceOffset, (position + 1) | MpmcProtocol.SkipFlag, position); // races the (dead) claimer's publish and other recoverers: one wins
        if (witnessed == position)
        {
            _ring.CountRecovery(position, RingRole.Producer, lostInDelivery: false);
            return true;
        }
        return (witnessed & ~MpmcProtocol.SkipFlag) == position + 1;
    }

    private void Free(long position, long slot, int length)
    {
        _core.Lease.CountRead(length);
        FreeSlot(position, slot);
    }

    private void FreeSlot(long position, long slot)
    {
        _ring.Memory.WriteInt64Publish(slot + SegmentLayout.SlotSequenceOffset, position + _ring.SlotCount); // release pairs with the producer's acquire of the sequence; ordered before the waiter check (PublishOrdering)
        _writers.NotifyAfterFence(1);
    }

    /// <summary>
    /// True once nothing more will come: the head has reached the final tail of a completed ring (every position
    /// claimed before the completion has been read or skipped), or every producer is gone and the head has
    /// reached the tail.
    /// </summary>
    private bool HasEnded()
    {
        TMemory b = _ring.Memory;
        long tail = b.ReadInt64Acquire(SegmentLayout.TailOffset); // pairs with the completer's compare-exchange and the claims
        long head = b.ReadInt64Acquire(SegmentLayout.HeadOffset); // pairs with the consumers' claims
        if (RingCompletion.IsFinal(tail))
            return TMemory.Mutation == ProtocolMutation.CompletedBeforeDrained || head >= (tail & ~RingCompletion.TailFlag);
        return _producers.CheckLost(b, _core.Lease) && head >= tail;
    }

    internal override RingCompletedException Ended() =>
        RingCompletion.IsFinal(_ring.Memory.ReadInt64Acquire(SegmentLayout.TailOffset)) // pairs with the completer's compare-exchange
            ? RingCompletion.Completed(_ring.SegmentName, RingCompletion.ReadReason(_ring.Memory))
            : new RingPeerLostException(_producers.ReasonOrGone, $"the ring in segment '{_ring.SegmentName}' is drained and {_producers.ReasonOrGone}");

    /// <summary>A message, or the end of the stream.</summary>
    private readonly struct MessageCondition(MpmcReader<TPolicy, TMemory> reader) : IWaitCondition
    {
        public WaitReadiness Check() =>
            reader.HasMessage() ? WaitReadiness.Ready
            : reader.HasEnded() ? WaitReadiness.Completed
            : WaitReadiness.Waiting;

        public TimeSpan SleepLimit => reader._producers.LimitSleep(MpmcProtocol.SleepLimit(reader._stuck));
    }
}
