using System.Runtime.CompilerServices;

namespace Ring.Mpmc;

/// <summary>A consumer end of an MPMC ring; see <see cref="MpmcProtocol"/> for the protocol.</summary>
internal sealed class MpmcReader<TPolicy> : RingReader where TPolicy : struct, IWaitPolicy
{
    private readonly RingSegment _segment;
    private readonly ParticipantLease _lease;
    private readonly MpmcProtocol _ring;
    private readonly EventCount _readers;
    private readonly EventCount _writers;
    private readonly EventWaker _waker;
    private StuckPosition _stuck;
    private bool _disposed;

    public MpmcReader(RingSegment segment, ParticipantLease lease)
    {
        _segment = segment;
        _lease = lease;
        _ring = new MpmcProtocol(segment);
        _readers = _ring.Readers;
        _writers = _ring.Writers;
        _waker = new EventWaker(_readers);
        _stuck = StuckPosition.None;
        segment.AddMappingReference();
    }

    public override int MaxMessageLength => _ring.MaxMessageLength;

    public override bool TryRead(Span<byte> destination, out int length)
    {
        ThrowIfDisposed();
        if (!TryClaimPosition(destination.Length, out long position, out length))
        {
            _lease.CountEmpty();
            return false;
        }
        long slot = _ring.SlotOffset(position);
        _ring.Buffer.Span(slot + SegmentLayout.SlotHeaderLength, length).CopyTo(destination);
        Free(position, slot, length);
        return true;
    }

    public override bool TryRead(RingMessageHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return ReadBatch(handler, 1) == 1;
    }

    public override int ReadBatch(RingMessageHandler handler, int maxMessages)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMessages);
        int count = 0;
        while (count < maxMessages && TryClaimPosition(int.MaxValue, out long position, out int length))
        {
            long slot = _ring.SlotOffset(position);
            count++;
            try
            {
                handler(_ring.Buffer.Span(slot + SegmentLayout.SlotHeaderLength, length));
            }
            finally
            {
                // A message whose handler throws still counts as delivered; its slot goes back to the producers.
                Free(position, slot, length);
            }
        }
        if (count == 0) _lease.CountEmpty();
        return count;
    }

    public override bool WaitToRead(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return Waiter.WaitUntil<TPolicy, MessageCondition>(new MessageCondition(this), _waker, timeout, cancellationToken);
    }

    public override void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _lease.Dispose();
        _segment.ReleaseMappingReference();
    }

    /// <summary>
    /// Claims the position at the head once its slot is published (Vyukov's dequeue), consuming skip records on
    /// the way. The length is read and checked before the claim, so a too-short destination leaves the message
    /// in the ring: a published slot cannot change until someone claims it.
    /// </summary>
    private bool TryClaimPosition(int destinationLength, out long position, out int length)
    {
        SharedBuffer b = _ring.Buffer;
        long pos = b.ReadInt64Acquire(SegmentLayout.HeadOffset); // any recent value: the compare-exchange decides
        while (true)
        {
            long slot = _ring.SlotOffset(pos);
            long sequence = b.ReadInt64Acquire(slot + SegmentLayout.SlotSequenceOffset); // pairs with the producer's fenced publish: length and payload are complete
            long lag = sequence - (pos + 1);
            if (lag == 0)
            {
                length = b.ReadInt32(slot + SegmentLayout.SlotLengthOffset);
                bool skip = length == MpmcProtocol.SkipLength;
                if (!skip && (uint)length > (uint)_ring.MaxMessageLength)
                    _ring.ThrowCorrupted($"slot for position {pos} claims {length} payload bytes; max {_ring.MaxMessageLength}");
                if (!skip && length > destinationLength) ThrowDestinationTooShort(destinationLength, length);
                _lease.SetReadIntent(pos); // plain store, made visible before the claim by the compare-exchange's fence
                long witnessed = b.CompareExchangeInt64(SegmentLayout.HeadOffset, pos + 1, pos);
                if (witnessed != pos)
                {
                    pos = witnessed;
                    continue;
                }
                _stuck.Clear();
                if (skip)
                {
                    FreeSlot(pos, slot);
                    pos++;
                    continue;
                }
                position = pos;
                return true;
            }
            if (lag == -1)
            {
                // Not published yet: empty if nobody claimed the position, otherwise a producer is writing it (or died doing so).
                if (TryPublishSkipAfterDeadProducer(pos)) continue;
                position = 0;
                length = 0;
                return false;
            }
            if (lag < 0)
            {
                // A consumer from a lap ago is still reading (or died reading) this slot.
                if (lag != -_ring.SlotCount) _ring.ThrowCorrupted($"slot for position {pos} has sequence {sequence}");
                position = 0;
                length = 0;
                return false;
            }
            long head = b.ReadInt64Acquire(SegmentLayout.HeadOffset); // someone consumed pos already; the head has moved on
            if (head <= pos) _ring.ThrowCorrupted($"slot for position {pos} has sequence {sequence} but the head is {head}");
            pos = head;
        }
    }

    /// <summary>
    /// Publishes the position as a skip record if a producer claimed it and died before publishing. Cheap until
    /// the same position has been stuck past the threshold: then one scan of the participant table.
    /// </summary>
    private bool TryPublishSkipAfterDeadProducer(long position)
    {
        SharedBuffer b = _ring.Buffer;
        if (b.ReadInt64Acquire(SegmentLayout.TailOffset) <= position) return false; // nobody claimed it: really empty
        if (!_stuck.HasBeenStuck(position, MpmcProtocol.StuckThreshold)) return false;
        if (_lease.AnyLiveParticipantIntends(ParticipantLease.WriteIntent, position)) return false; // slow, not dead
        long slot = _ring.SlotOffset(position);
        b.WriteInt32(slot + SegmentLayout.SlotLengthOffset, MpmcProtocol.SkipLength); // racing recoverers write the same value
        if (b.CompareExchangeInt64(slot + SegmentLayout.SlotSequenceOffset, position + 1, position) == position)
        {
            _segment.CountRecovery(lostInDelivery: false);
        }
        return true;
    }

    private void Free(long position, long slot, int length)
    {
        _lease.CountRead(length);
        FreeSlot(position, slot);
    }

    private void FreeSlot(long position, long slot)
    {
        _ring.Buffer.WriteInt64Fenced(slot + SegmentLayout.SlotSequenceOffset, position + _ring.SlotCount); // release pairs with the producer's acquire of the sequence; the fence orders it before the waiter check
        _writers.NotifyAfterFence(1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfDisposed()
    {
        if (_disposed) ThrowDisposed();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDisposed() => throw new ObjectDisposedException(nameof(RingReader));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDestinationTooShort(int destination, int length) =>
        throw new ArgumentException($"The destination holds {destination} bytes but the next message has {length}; it stays in the ring.", "destination");

    private readonly struct MessageCondition(MpmcReader<TPolicy> reader) : IWaitCondition
    {
        public bool IsSatisfied()
        {
            MpmcProtocol ring = reader._ring;
            long pos = ring.Buffer.ReadInt64Acquire(SegmentLayout.HeadOffset);
            long sequence = ring.Buffer.ReadInt64Acquire(ring.SlotOffset(pos) + SegmentLayout.SlotSequenceOffset); // pairs with the producer's fenced publish
            long lag = sequence - (pos + 1);
            return lag >= 0 || (lag == -1 && reader.TryPublishSkipAfterDeadProducer(pos));
        }

        public TimeSpan SleepLimit => MpmcProtocol.SleepLimit(reader._stuck);
    }
}
