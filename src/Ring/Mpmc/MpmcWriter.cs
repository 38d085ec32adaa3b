using System.Runtime.CompilerServices;

namespace Ring.Mpmc;

/// <summary>A producer end of an MPMC ring; see <see cref="MpmcProtocol"/> for the protocol.</summary>
internal sealed class MpmcWriter<TPolicy, TMemory> : RingWriter, IEndpoint<TMemory>
    where TPolicy : struct, IWaitPolicy
    where TMemory : struct, ISharedMemory
{
    private readonly MpmcRing<TMemory> _ring;
    private readonly EventCount<TMemory> _readers;
    private readonly EventCount<TMemory> _writers;

    private long _claimPosition = -1;
    private int _claimLength;
    private StuckPosition _stuck;
    private PeerWatch _consumers;
    private EndpointCore<TMemory> _core;

    public MpmcWriter(RingSegment segment, ParticipantLease<TMemory> lease, TMemory memory, PeerLoss peerLoss)
        : base(segment)
    {
        _ring = new MpmcRing<TMemory>(segment, memory);
        _readers = _ring.Readers;
        _writers = _ring.Writers;
        _stuck = StuckPosition.None;
        _consumers = new PeerWatch(peerLoss, RingRole.Consumer, segment);
        _core = new EndpointCore<TMemory>(segment, lease, _writers, _readers, nameof(RingWriter));
    }

    public override bool IsCompleted
    {
        get
        {
            using EndpointCore<TMemory>.Scope call = _core.Enter();
            return RingCompletion.IsFinal(_ring.Memory.ReadInt64Acquire(SegmentLayout.TailOffset)); // pairs with the completer's compare-exchange
        }
    }

    public override string? CompletionReason
    {
        get
        {
            using EndpointCore<TMemory>.Scope call = _core.Enter();
            bool completed = RingCompletion.IsFinal(_ring.Memory.ReadInt64Acquire(SegmentLayout.TailOffset)); // pairs with the completer's compare-exchange
            return completed ? RingCompletion.ReadReason(_ring.Memory) : _consumers.Reason;
        }
    }

    public override int ConsumersAlive => _core.Lease.LiveParticipants(RingRole.Consumer, out _);

    public override int MaxMessageLength => _ring.MaxMessageLength;

    ref EndpointCore<TMemory> IEndpoint<TMemory>.Core => ref _core;

    private protected override long GetTimestamp() => _ring.Memory.GetTimestamp();

    public override bool TryWrite(ReadOnlySpan<byte> message)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        CheckLength(message.Length);
        if (!TryClaimPosition(out long position)) return false;
        long slot = _ring.SlotOffset(position);
        TMemory b = _ring.Memory;
        b.WriteInt32(slot + SegmentLayout.SlotLengthOffset, message.Length);
        b.CopyIn(slot + SegmentLayout.SlotHeaderLength, message);
        Publish(position, slot, message.Length);
        return true;
    }

    public override bool TryClaim(int length, out Span<byte> buffer)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        CheckLength(length);
        if (!TryClaimPosition(out long position))
        {
            buffer = default;
            return false;
        }
        _claimPosition = position;
        _claimLength = length;
        buffer = _ring.Memory.Span(_ring.SlotOffset(position) + SegmentLayout.SlotHeaderLength, length);
        return true;
    }

    public override void Commit() => Commit(_claimLength);

    public override void Commit(int length)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        if (_claimPosition < 0) RingThrow.NoClaim("commit");
        if ((uint)length > (uint)_claimLength)
            RingThrow.CommitLength(length, _claimLength);
        long position = _claimPosition;
        long slot = _ring.SlotOffset(position);
        _ring.Memory.WriteInt32(slot + SegmentLayout.SlotLengthOffset, length);
        _claimPosition = -1;
        Publish(position, slot, length);
    }

    public override void Abort()
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        if (_claimPosition < 0) RingThrow.NoClaim("abort");
        PublishSkip();
    }

    public override bool WaitToWrite(int length, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        CheckLength(length);
        return _core.WaitUntil<TPolicy, RoomCondition>(new RoomCondition(this), timeout, cancellationToken);
    }

    private protected override ValueTask<bool> WaitToWriteAsyncCore(int length, TimeSpan timeout, CancellationToken cancellationToken)
    {
        CheckLength(length);
        return _core.WaitAsync(this, new RoomCondition(this), timeout, cancellationToken);
    }

    public override void Dispose()
    {
        if (!_core.TryBeginDispose()) return;
        // The position is claimed and other producers have moved past it: publish it as a skip, or every
        // reader would stall on it until the recovery threshold.
        if (_claimPosition >= 0) PublishSkip();
        _core.EndDispose(this);
    }

    public override bool TryComplete(string? reason = null)
    {
        using EndpointCore<TMemory>.Scope call = _core.Enter();
        RingCompletion.ValidateReason(reason);
        if (_claimPosition >= 0) RingThrow.ClaimOutstanding();
        TMemory b = _ring.Memory;
        long tail = b.ReadInt64Acquire(SegmentLayout.TailOffset); // pairs with the producers' claims
        if (RingCompletion.IsFinal(tail)) return false;
        RingCompletion.RecordReason(b, reason);
        // Each failed exchange means another producer claimed a position in between; a full ring stops them.
        for (int steps = _ring.StepBudget; steps > 0; steps--)
        {
            long witnessed = b.CompareExchangeInt64(SegmentLayout.TailOffset, tail | RingCompletion.TailFlag, tail); // full fence: the completion; pairs with every claim's compare-exchange and the readers' acquire of the tail
            if (witnessed == tail)
            {
                _ring.Readers.WakeAllFromNowOn(); // the reader that takes the last message cannot tell the other sleepers
                RingCompletion.WakeEveryone(b);
                return true;
            }
            if (RingCompletion.IsFinal(witnessed)) return false; // another producer completed it first
            tail = witnessed;
        }
        throw new RingException($"could not complete the ring in segment '{_ring.SegmentName}': its tail moved on every one of {_ring.StepBudget} attempts");
    }

    internal override RingCompletedException Ended() =>
        IsCompleted ? RingCompletion.Completed(_ring.SegmentName, RingCompletion.ReadReason(_ring.Memory))
        : new RingPeerLostException(_consumers.ReasonOrGone, $"the ring in segment '{_ring.SegmentName}' is full and {_consumers.ReasonOrGone}");

    /// <summary>
    /// Claims the position at the tail once its slot is free: Vyukov's enqueue, plus the write intent that
    /// lets others tell a dead claimer from a slow one.
    /// </summary>
    private bool TryClaimPosition(out long position)
    {
        TMemory b = _ring.Memory;
        long pos = b.ReadInt64Acquire(SegmentLayout.TailOffset); // any recent value: the compare-exchange decides
        for (int steps = _ring.StepBudget; steps > 0; steps--)
        {
            // A completed tail stops every claim: the compare-exchange below expects a tail without the flag.
            if (RingCompletion.IsFinal(pos)) throw Ended();
            long slot = _ring.SlotOffset(pos);
            long raw = b.ReadInt64Acquire(slot + SegmentLayout.SlotSequenceOffset); // pairs with the consumer's fenced free: it has finished reading the slot
            if (raw == pos)
            {
                _ring.CheckClaimable(pos, SegmentLayout.TailOffset); // -1 would also read as "no claim" to Commit and Dispose
                _core.Lease.SetWriteIntent(pos); // plain store, made visible before the claim by the compare-exchange's fence
                long witnessed = b.CompareExchangeInt64(SegmentLayout.TailOffset, pos + 1, pos); // full fence: the claim; pairs with other producers' claims and publishes the intent first
                if (witnessed == pos)
                {
                    _stuck.Clear();
                    position = pos;
                    return true;
                }
                _core.Lease.SetWriteIntent(-1); // lost the race: an intent for a position we do not own would shield a dead winner
                pos = witnessed;
                continue;
            }
            long lag = (raw & ~MpmcProtocol.SkipFlag) - pos;
            if (lag > 0)
            {
                pos = _ring.MovedPast(SegmentLayout.TailOffset, pos, raw);
                continue;
            }
            // The slot still belongs to position pos − SlotCount: published and not yet freed (the ring is full, or
            // a consumer is reading it or died doing so), or still being written a lap behind. A free sequence
            // (lag 0 or −SlotCount) never carries the skip flag.
            if (lag == 1 - _ring.SlotCount)
            {
                if (TryFreeAfterDeadConsumer(pos - _ring.SlotCount, raw)) continue;
            }
            else if (lag != -_ring.SlotCount && lag != 0)
            {
                _ring.ThrowCorrupted(RingCorruptionRule.SlotSequence, "slot for position {0} has sequence {1}", pos, raw);
            }
            else if ((raw & MpmcProtocol.SkipFlag) != 0)
            {
                _ring.ThrowCorrupted(RingCorruptionRule.SkipFlag, "slot for position {0} has the free sequence {1} with the skip flag", pos, raw & ~MpmcProtocol.SkipFlag);
            }
            break;
        }
        _core.Lease.CountFull();
        position = 0;
        return false;
    }

    /// <summary>
    /// Frees the slot of <paramref name="position"/> if a consumer claimed it and died before freeing it.
    /// Cheap until the same position has been stuck past the threshold: then one scan of the participant table.
    /// </summary>
    private bool TryFreeAfterDeadConsumer(long position, long observedSequence)
    {
        TMemory b = _ring.Memory;
        if (b.ReadInt64Acquire(SegmentLayout.HeadOffset) <= position) return false; // unread, not in delivery: really full
        if (!_stuck.HasBeenStuck(_ring.Memory, position, MpmcProtocol.StuckThreshold)) return false;
        if (_core.Lease.AnyLiveParticipantIntends(SegmentLayout.EntryReadIntentOffset, position)) return false;
        long slot = _ring.SlotOffset(position);
        // Only the state judged: if the slot moved on meanwhile (freed, or freed and reused), someone else finished.
        // Races the (dead) holder's free and other recoverers: one compare-exchange wins.
        if (b.CompareExchangeInt64(slot + SegmentLayout.SlotSequenceOffset, position + _ring.SlotCount, observedSequence) != observedSequence) return true;
        _ring.CountRecovery(position, RingRole.Consumer, lostInDelivery: (observedSequence & MpmcProtocol.SkipFlag) == 0); // a skip carried no message
        _writers.NotifyAfterFence(int.MaxValue); // the compare-exchange was the fence
        return true;
    }

    private void Publish(long position, long slot, int length)
    {
        _core.Lease.CountWrite(length);
        _ring.Memory.WriteInt64Publish(slot + SegmentLayout.SlotSequenceOffset, position + 1); // release pairs with the reader's acquire of the sequence; ordered before the waiter check (PublishOrdering)
        _readers.NotifyAfterFence(1);
    }

    private void PublishSkip()
    {
        long position = _claimPosition;
        long slot = _ring.SlotOffset(position);
        _claimPosition = -1;
        _ring.Memory.WriteInt64Publish(slot + SegmentLayout.SlotSequenceOffset, (position + 1) | MpmcProtocol.SkipFlag); // as in Publish
        _readers.NotifyAfterFence(1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckLength(int length)
    {
        if ((uint)length > (uint)_ring.MaxMessageLength) RingThrow.TooLong(length, _ring.SegmentName, _ring.MaxMessageLength);
        if (_claimPosition >= 0) RingThrow.ClaimOutstanding();
    }

    private readonly struct RoomCondition(MpmcWriter<TPolicy, TMemory> writer) : IWaitCondition
    {
        public WaitReadiness Check()
        {
            MpmcRing<TMemory> ring = writer._ring;
            long pos = ring.Memory.ReadInt64Acquire(SegmentLayout.TailOffset); // pairs with producers' claiming compare-exchange
            if (RingCompletion.IsFinal(pos)) return WaitReadiness.Completed;
            long raw = ring.Memory.ReadInt64Acquire(ring.SlotOffset(pos) + SegmentLayout.SlotSequenceOffset); // pairs with the consumer's fenced free
            long lag = (raw & ~MpmcProtocol.SkipFlag) - pos;
            if (lag >= 0 || (lag == 1 - ring.SlotCount && writer.TryFreeAfterDeadConsumer(pos - ring.SlotCount, raw))) return WaitReadiness.Ready;
            return writer._consumers.CheckLost(ring.Memory, writer._core.Lease) ? WaitReadiness.Completed : WaitReadiness.Waiting;
        }

        public TimeSpan SleepLimit => writer._consumers.LimitSleep(MpmcProtocol.SleepLimit(writer._stuck));
    }
}
