using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Ring.Mpmc;

/// <summary>
/// The multi-producer / multi-consumer protocol (Vyukov's bounded queue over slots in the segment), stated once.
/// <para>
/// The data region is <c>SlotCount</c> slots of <c>SlotStride</c> bytes: a 16-byte slot header (sequence i64,
/// length i32, reserved i32) and up to <c>MaxMessageLength</c> payload bytes. <c>Tail</c> and <c>Head</c> are
/// positions (counts of slots, only growing); position p lives in slot <c>p &amp; (SlotCount − 1)</c>. A slot's
/// sequence says whose turn it is: <c>seq == p</c> means free for the producer of position p;
/// <c>seq == p + 1</c> means published for the consumer of position p; the consumer frees it for the next
/// lap by storing <c>p + SlotCount</c>.
/// </para>
/// <para>
/// Claiming. A producer at position p whose slot says <c>seq == p</c> records p as its write intent in its
/// participant entry and moves <c>Tail</c> from p to p + 1 with a compare-exchange; the winner alone owns the
/// slot until it publishes. Consumers claim <c>Head</c> the same way once <c>seq == p + 1</c>. The
/// compare-exchange is a full fence, so the intent is visible before the claim is.
/// </para>
/// <para>
/// Ordering. The producer writes length and payload with plain stores and then stores <c>seq = p + 1</c>
/// with release semantics; a consumer loads seq with acquire before it reads length or payload. The
/// consumer's release store of <c>p + SlotCount</c> after it has read the payload pairs with the next
/// producer's acquire load of seq before it overwrites. Both publishing stores are full-fence exchanges so
/// that the following waiter-count load of the eventcount cannot move before them.
/// </para>
/// <para>
/// Recovery. A position claimed by a process that then died stays unpublished (or unfreed) forever. Whoever
/// finds the same position stuck past <see cref="StuckThreshold"/> looks for a live participant whose
/// intent is that position (liveness = its kernel-held lock); if there is none, it finishes the dead
/// process's step: an unpublished slot is published as a skip (<see cref="SkipFlag"/>), a slot a dead consumer
/// claimed is freed and counted as lost in delivery. A live but slow claimer is never overtaken.
/// </para>
/// Sequences and lengths are read once and checked; a value no valid history can produce is a
/// <see cref="RingCorruptedException"/> naming its <see cref="RingCorruptionRule"/>. A call's walk to its
/// position is bounded by <see cref="MpmcRing{TMemory}.StepBudget"/>, whatever the segment holds.
/// </summary>
internal static class MpmcProtocol
{
    /// <summary>
    /// Set in a published sequence (<c>(p + 1) | SkipFlag</c>) for a position that carries no message: an
    /// aborted claim, or a position recovered from a dead producer. Carrying it in the sequence makes the
    /// skip one atomic store or compare-exchange; writing a length first would let a recoverer delayed by a
    /// lap overwrite the length of a later, real message. Positions stay far below 2^62.
    /// </summary>
    public const long SkipFlag = 1L << 62;

    /// <summary>How long a position may stay stuck before its claimer's liveness is checked.</summary>
    public static readonly TimeSpan StuckThreshold = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Longest sleep of a blocked MPMC endpoint. A claimer can die without waking anyone, so a sleeper must
    /// look again soon enough to recover its position within a second of the death: at most this long
    /// before it sees the position stuck, then <see cref="WatchingSleep"/> per sighting while it watches.
    /// An idle sleeper wakes ten times a second, a few microseconds of CPU each.
    /// </summary>
    public static readonly TimeSpan IdleSleep = TimeSpan.FromMilliseconds(100);

    public static readonly TimeSpan WatchingSleep = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Steps a call's walk may take besides consuming the ring's skips: claim races lost and heads or tails
    /// found moved by others. Each is another endpoint's claim landing in the instant between our load and our
    /// compare-exchange; at most 63 other endpoints exist (the participant table) and none wins that race
    /// thousands of times in a row. Only a process rewriting the counters or sequences as fast as we read them
    /// keeps a walk going this long.
    /// </summary>
    public const int ContendedSteps = 4096;

    public static TimeSpan SleepLimit(in StuckPosition stuck) => stuck.IsWatching ? WatchingSleep : IdleSleep;

    /// <summary>Gives slot i the sequence i (free for the producer of position i); the creator does this before publishing.</summary>
    public static void InitialiseSlots(SharedBuffer buffer, int slotCount, int slotStride)
    {
        for (long index = 0; index < slotCount; index++)
        {
            buffer.WriteInt64(SegmentLayout.DataOffset + index * slotStride + SegmentLayout.SlotSequenceOffset, index);
        }
    }
}

/// <summary>One MPMC ring's geometry and the steps every end shares, over the memory the ring lives in.</summary>
internal readonly struct MpmcRing<TMemory> where TMemory : struct, ISharedMemory
{
    public readonly TMemory Memory;
    public readonly long SlotCount;
    public readonly long Mask;
    public readonly int SlotStride;
    public readonly int MaxMessageLength;
    public readonly RingSegment Segment;

    public string SegmentName => Segment.Name;

    /// <summary>
    /// The most steps (slot sequences read) one call takes to reach its position: the ring can hold SlotCount
    /// skips to consume, plus <see cref="MpmcProtocol.ContendedSteps"/>. At the bound the call gives up and
    /// answers as for an empty (reader) or full (writer) ring: it has taken nothing, and the next call starts
    /// again from the shared head or tail.
    /// </summary>
    public readonly int StepBudget;

    public MpmcRing(RingSegment segment, TMemory memory)
    {
        Memory = memory;
        SlotCount = segment.SlotCount;
        Mask = SlotCount - 1;
        SlotStride = segment.SlotStride;
        MaxMessageLength = segment.MaxMessageLength;
        Segment = segment;
        StepBudget = segment.SlotCount + MpmcProtocol.ContendedSteps;
    }

    /// <summary>
    /// Frees every slot a consumer claimed and then died holding, without waiting for a producer to lap it:
    /// published (sequence p + 1), behind the head (claimed), and no live participant with read intent p.
    /// Such a message is counted lost in delivery, as when a producer recovers it on its way.
    /// </summary>
    public int RecoverAbandonedReads(ParticipantLease<TMemory> prober)
    {
        long head = Memory.ReadInt64Acquire(SegmentLayout.HeadOffset); // claims below it carry a visible read intent
        int recovered = 0;
        for (long index = 0; index < SlotCount; index++)
        {
            long slot = SegmentLayout.DataOffset + index * SlotStride;
            long raw = Memory.ReadInt64Acquire(slot + SegmentLayout.SlotSequenceOffset); // pairs with the publish or free
            long position = (raw & ~MpmcProtocol.SkipFlag) - 1;
            if (position < 0 || (position & Mask) != index || position >= head) continue; // free, or published and unclaimed
            if (prober.AnyLiveParticipantIntends(SegmentLayout.EntryReadIntentOffset, position)) continue;
            if (Memory.CompareExchangeInt64(slot + SegmentLayout.SlotSequenceOffset, position + SlotCount, raw) != raw) continue; // a free or another recoverer won
            CountRecovery(position, RingRole.Consumer, lostInDelivery: (raw & MpmcProtocol.SkipFlag) == 0);
            recovered++;
        }
        if (recovered > 0) Writers.NotifyAfterFence(int.MaxValue); // the compare-exchanges were the fence
        return recovered;
    }

    /// <summary>
    /// Counts a position completed for a dead participant (one that dropped a message in delivery counts twice), and
    /// logs it: a participant died holding a position, which the operator of a service must hear about.
    /// </summary>
    public void CountRecovery(long position, RingRole deadRole, bool lostInDelivery)
    {
        Memory.FetchAddInt64(SegmentLayout.RecoveriesOffset, 1);
        if (lostInDelivery) Memory.FetchAddInt64(SegmentLayout.LostInDeliveryOffset, 1);
        Segment.Logger?.PositionRecovered(Segment.Name, position, RingLog.RoleName(deadRole), lostInDelivery);
    }

    public EventCount<TMemory> Readers => new(Memory, SegmentLayout.ReadersEventOffset, singleWaiter: false);

    public EventCount<TMemory> Writers => new(Memory, SegmentLayout.WritersEventOffset, singleWaiter: false);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long SlotOffset(long position) => SegmentLayout.DataOffset + (position & Mask) * SlotStride;

    /// <summary>
    /// A sequence ahead of <paramref name="position"/> means another endpoint took the position: the counter
    /// at <paramref name="counterOffset"/> (head or tail) must have moved past it. Returns where it is now.
    /// </summary>
    public long MovedPast(int counterOffset, long position, long sequence)
    {
        long counter = Memory.ReadInt64Acquire(counterOffset); // pairs with the claiming compare-exchange, which precedes the sequence store we saw
        if (counter <= position)
        {
            ThrowSequenceAhead(counterOffset, position, sequence, counter);
        }
        return counter;
    }

    /// <summary>Before a claim: positions start at 0 and only grow, so a negative one was written by another process.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CheckClaimable(long position, int counterOffset)
    {
        if (position < 0)
            ThrowCorrupted(RingCorruptionRule.NegativePosition, "the {0} is at position {1}", CounterName(counterOffset), position);
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowSequenceAhead(int counterOffset, long position, long sequence, long counter) =>
        ThrowCorrupted(RingCorruptionRule.SequenceAhead, $"slot for position {position} has sequence {sequence} but the {CounterName(counterOffset)} is {counter}");

    private static string CounterName(int counterOffset) => counterOffset == SegmentLayout.HeadOffset ? "head" : "tail";

    [DoesNotReturn]
    public void ThrowCorrupted(RingCorruptionRule rule, string detail) => RingThrow.Corrupted(Segment, rule, detail);

    [DoesNotReturn]
    public void ThrowCorrupted<T1, T2>(RingCorruptionRule rule, string format, T1 arg1, T2 arg2) => RingThrow.Corrupted(Segment, rule, format, arg1, arg2);

    [DoesNotReturn]
    public void ThrowCorrupted<T1, T2, T3>(RingCorruptionRule rule, string format, T1 arg1, T2 arg2, T3 arg3) => RingThrow.Corrupted(Segment, rule, format, arg1, arg2, arg3);
}
