using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Ring.Spsc;

/// <summary>
/// The single-producer / single-consumer protocol, stated once.
/// <para>
/// The data region holds 8-aligned records: an 8-byte header (payload length, type) and the payload. Head
/// and tail are byte positions that only grow; a position's index is <c>position &amp; (capacity - 1)</c>. The
/// consumer owns head, the producer owns tail, and the bytes in [head, tail) are committed records. A record
/// never wraps: when one does not fit before the end, the producer writes a padding record up to the end
/// and the record at index 0, and publishes both with one tail store.
/// </para>
/// <para>
/// Ordering. The producer writes a record with plain stores and then stores the new tail with release
/// semantics; the consumer loads tail with acquire semantics before it reads any record below it, so it
/// sees every byte of every record it can reach. Symmetrically the consumer stores head with release after
/// it has finished reading, and the producer loads head with acquire before it overwrites that space.
/// Both stores are publishing stores (<see cref="ISharedMemory.WriteInt64Publish"/>): the following load of the other
/// direction's waiter count cannot overtake them unnoticed, by a fence or by the sleeper's barrier
/// (<see cref="PublishOrdering"/>, the eventcount protocol in <see cref="EventCount{TMemory}"/>).
/// </para>
/// <para>
/// Trust. Head and tail written by the other process, and every record header, are read once and checked
/// (0 ≤ tail − head ≤ capacity, 8-aligned, length within the maximum, record within [head, tail) and the
/// region, padding shorter than the longest record) before they index anything; a violation is a
/// <see cref="RingCorruptedException"/> naming its <see cref="RingCorruptionRule"/>, never an out-of-bounds
/// access. Finding the next message reads at most two records (a padding record, then index 0), whatever they hold.
/// </para>
/// Because the tail moves only on commit, a producer that dies before committing leaves nothing a reader
/// can see: its successor starts again from the committed tail.
/// </summary>
internal static class SpscProtocol
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long PackHeader(int type, int payloadLength) => ((long)type << 32) | (uint)payloadLength;
}

/// <summary>One SPSC ring's geometry and the checks both ends share, over the memory the ring lives in.</summary>
internal readonly struct SpscRing<TMemory> where TMemory : struct, ISharedMemory
{
    public readonly TMemory Memory;
    public readonly long Capacity;
    public readonly long Mask;
    public readonly int MaxMessageLength;
    public readonly int MaxRecordLength;
    public readonly RingSegment Segment;

    public string SegmentName => Segment.Name;

    public SpscRing(RingSegment segment, TMemory memory)
    {
        Memory = memory;
        Capacity = segment.Capacity;
        Mask = Capacity - 1;
        MaxMessageLength = segment.MaxMessageLength;
        MaxRecordLength = SegmentLayout.AlignedRecordLength(MaxMessageLength);
        Segment = segment;
    }

    public EventCount<TMemory> Readers => new(Memory, SegmentLayout.ReadersEventOffset, singleWaiter: true);

    public EventCount<TMemory> Writers => new(Memory, SegmentLayout.WritersEventOffset, singleWaiter: true);

    /// <summary>Checks a head/tail pair read from shared memory; one of the two came from the other process.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CheckPositions(long head, long tail)
    {
        if ((ulong)(tail - head) > (ulong)Capacity || ((head | tail) & (SegmentLayout.RecordAlignment - 1)) != 0 || head < 0)
            ThrowPositions(head, tail);
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowPositions(long head, long tail)
    {
        RingCorruptionRule rule = (ulong)(tail - head) > (ulong)Capacity ? RingCorruptionRule.PositionDistance
            : ((head | tail) & (SegmentLayout.RecordAlignment - 1)) != 0 ? RingCorruptionRule.PositionAlignment
            : RingCorruptionRule.NegativePosition;
        ThrowCorrupted(rule, $"head {head} and tail {tail} are not 0..{Capacity} bytes apart on 8-byte boundaries from 0");
    }

    [DoesNotReturn]
    public void ThrowCorrupted(RingCorruptionRule rule, string detail) => RingThrow.Corrupted(Segment, rule, detail);

    [DoesNotReturn]
    public void ThrowCorrupted<T1, T2>(RingCorruptionRule rule, string format, T1 arg1, T2 arg2) => RingThrow.Corrupted(Segment, rule, format, arg1, arg2);

    [DoesNotReturn]
    public void ThrowCorrupted<T1, T2, T3>(RingCorruptionRule rule, string format, T1 arg1, T2 arg2, T3 arg3) => RingThrow.Corrupted(Segment, rule, format, arg1, arg2, arg3);

    /// <summary>Reads the committed head and tail at attach time, checked, and whether the tail is final (completed).</summary>
    public (long Head, long Tail, bool Completed) ReadPositions()
    {
        long head = Memory.ReadInt64Acquire(SegmentLayout.HeadOffset); // pairs with the consumer's release head store
        long tail = Memory.ReadInt64Acquire(SegmentLayout.TailOffset); // pairs with the producer's release tail store
        bool completed = RingCompletion.IsFinal(tail);
        if (completed) tail &= ~RingCompletion.TailFlag;
        CheckPositions(head, tail);
        return (head, tail, completed);
    }
}
