using Ring.Platform.Linux;

namespace Ring.Integrity;

/// <summary>A ring as built, or one of the deliberately broken variants the harness must catch.</summary>
public enum RingVariant
{
    Correct,

    /// <summary>The payload lands after the store that publishes it (as if the copy sank below the release).</summary>
    PublishBeforePayload,

    /// <summary>A waiter registers on the eventcount and sleeps without re-checking the ring.</summary>
    SkipRecheckBeforeSleep,

    /// <summary>Read-modify-writes (claims, waiter counts) are a load and a separate store.</summary>
    NonAtomicIncrement,

    /// <summary>The SPSC producer counts used bytes modulo the capacity, so a full ring looks empty.</summary>
    WrongWrapArithmetic,

    /// <summary>
    /// The SPSC tail is published without its fence. Only real cores can show this one (<see cref="MutatedMemory{TVariant}"/>
    /// and the lost-wake-up detector); under the step scheduler it behaves like the correct ring.
    /// </summary>
    PublishTailWithoutFence,

    /// <summary>The SPSC head is published without its fence; as <see cref="PublishTailWithoutFence"/>.</summary>
    PublishHeadWithoutFence,

    /// <summary>A reader reports the end of the stream once it has seen the completion, before reading what was committed before it.</summary>
    CompletedBeforeDrained,

    /// <summary>The broadcast publisher under Block overwrites records its subscribers have not read.</summary>
    BroadcastIgnoresGate,

    /// <summary>The SPSC producer makes each record of a batch visible before writing it, and before the batch is published.</summary>
    BatchTailBeforeRecord,
}

internal static class RingVariants
{
    /// <summary>The protocol mutation the rings themselves apply for a variant; the others are the memory's doing.</summary>
    public static ProtocolMutation MutationOf(RingVariant variant) => variant switch
    {
        RingVariant.SkipRecheckBeforeSleep => ProtocolMutation.SkipRecheckBeforeSleep,
        RingVariant.WrongWrapArithmetic => ProtocolMutation.UsedBytesModuloCapacity,
        RingVariant.PublishTailWithoutFence => ProtocolMutation.PublishTailWithoutFence,
        RingVariant.PublishHeadWithoutFence => ProtocolMutation.PublishHeadWithoutFence,
        RingVariant.CompletedBeforeDrained => ProtocolMutation.CompletedBeforeDrained,
        RingVariant.BroadcastIgnoresGate => ProtocolMutation.PublisherIgnoresGate,
        RingVariant.BatchTailBeforeRecord => ProtocolMutation.BatchTailBeforeRecord,
        _ => ProtocolMutation.None,
    };
}

/// <summary>Picks a <see cref="RingVariant"/> at compile time, so each variant is its own instantiation of the rings.</summary>
internal interface IRingVariant
{
    static abstract RingVariant Variant { get; }
}

internal struct CorrectRing : IRingVariant
{
    public static RingVariant Variant => RingVariant.Correct;
}

internal struct PublishBeforePayloadRing : IRingVariant
{
    public static RingVariant Variant => RingVariant.PublishBeforePayload;
}

internal struct SkipRecheckRing : IRingVariant
{
    public static RingVariant Variant => RingVariant.SkipRecheckBeforeSleep;
}

internal struct NonAtomicIncrementRing : IRingVariant
{
    public static RingVariant Variant => RingVariant.NonAtomicIncrement;
}

internal struct WrongWrapRing : IRingVariant
{
    public static RingVariant Variant => RingVariant.WrongWrapArithmetic;
}

internal struct TailWithoutFenceRing : IRingVariant
{
    public static RingVariant Variant => RingVariant.PublishTailWithoutFence;
}

internal struct HeadWithoutFenceRing : IRingVariant
{
    public static RingVariant Variant => RingVariant.PublishHeadWithoutFence;
}

internal struct CompletedBeforeDrainedRing : IRingVariant
{
    public static RingVariant Variant => RingVariant.CompletedBeforeDrained;
}

internal struct BroadcastIgnoresGateRing : IRingVariant
{
    public static RingVariant Variant => RingVariant.BroadcastIgnoresGate;
}

internal struct BatchTailBeforeRecordRing : IRingVariant
{
    public static RingVariant Variant => RingVariant.BatchTailBeforeRecord;
}

/// <summary>
/// The segment's memory as the step scheduler sees it: every operation first yields to the scheduler, then
/// does what <see cref="SharedBuffer"/> does. Payload copies are split in two steps so a reader can run between
/// the halves. The scheduler runs one thread at a time, so this memory is sequentially consistent: it finds
/// protocol errors (order of steps, missing re-checks, lost wake-ups), not missing fences.
/// <para>
/// Two broken variants live here because they are about what the memory does: <see cref="RingVariant.NonAtomicIncrement"/>
/// splits each read-modify-write into a load and a store with a step between; <see cref="RingVariant.PublishBeforePayload"/>
/// holds a payload copy back until after the thread's next fenced store. The others are protocol mutations
/// the rings read from <see cref="ISharedMemory.Mutation"/>.
/// </para>
/// </summary>
internal readonly struct ScheduledMemory<TVariant>(SharedBuffer buffer, StepScheduler scheduler) : ISharedMemory
    where TVariant : struct, IRingVariant
{
    public static ProtocolMutation Mutation => RingVariants.MutationOf(TVariant.Variant);

    private static bool NonAtomic => TVariant.Variant == RingVariant.NonAtomicIncrement;

    public int ReadInt32(long offset)
    {
        scheduler.Step(MemoryOp.Load, offset);
        return buffer.ReadInt32(offset);
    }

    public long ReadInt64(long offset)
    {
        scheduler.Step(MemoryOp.Load, offset);
        return buffer.ReadInt64(offset);
    }

    public int ReadInt32Acquire(long offset)
    {
        scheduler.Step(MemoryOp.LoadAcquire, offset);
        return buffer.ReadInt32Acquire(offset);
    }

    public long ReadInt64Acquire(long offset)
    {
        scheduler.Step(MemoryOp.LoadAcquire, offset);
        return buffer.ReadInt64Acquire(offset);
    }

    public void WriteInt32(long offset, int value)
    {
        scheduler.Step(MemoryOp.Store, offset);
        buffer.WriteInt32(offset, value);
    }

    public void WriteInt64(long offset, long value)
    {
        scheduler.Step(MemoryOp.Store, offset);
        buffer.WriteInt64(offset, value);
    }

    public void WriteInt32Release(long offset, int value)
    {
        scheduler.Step(MemoryOp.Store, offset);
        buffer.WriteInt32Release(offset, value);
    }

    public void WriteInt64Release(long offset, long value)
    {
        scheduler.Step(MemoryOp.Store, offset);
        buffer.WriteInt64Release(offset, value);
    }

    public void WriteInt64Fenced(long offset, long value)
    {
        scheduler.Step(MemoryOp.StoreFenced, offset);
        buffer.WriteInt64Fenced(offset, value);
        if (TVariant.Variant == RingVariant.PublishBeforePayload && scheduler.TakeDeferred() is (long deferredOffset, byte[] bytes))
        {
            scheduler.Step(MemoryOp.CopyIn, deferredOffset);
            buffer.CopyIn(deferredOffset, bytes);
        }
    }

    /// <summary>Fenced, as a process without membarrier publishes: under the scheduler no store waits in a buffer anyway.</summary>
    public void WriteInt64Publish(long offset, long value) => WriteInt64Fenced(offset, value);

    /// <summary>Never called: <see cref="HasStoreBuffer"/> is false, so no sleeper looks for asymmetric publishers.</summary>
    public void ProcessWideBarrier() => throw new InvalidOperationException("the step scheduler's memory has no store buffer to drain");

    public static bool HasStoreBuffer => false;

    public int CompareExchangeInt32(long offset, int value, int comparand)
    {
        scheduler.Step(MemoryOp.CompareExchange, offset);
        if (!NonAtomic) return buffer.CompareExchangeInt32(offset, value, comparand);
        int witnessed = buffer.ReadInt32(offset);
        if (witnessed != comparand) return witnessed;
        scheduler.Step(MemoryOp.Store, offset);
        buffer.WriteInt32(offset, value);
        return witnessed;
    }

    public long CompareExchangeInt64(long offset, long value, long comparand)
    {
        scheduler.Step(MemoryOp.CompareExchange, offset);
        if (!NonAtomic) return buffer.CompareExchangeInt64(offset, value, comparand);
        long witnessed = buffer.ReadInt64(offset);
        if (witnessed != comparand) return witnessed;
        scheduler.Step(MemoryOp.Store, offset);
        buffer.WriteInt64(offset, value);
        return witnessed;
    }

    public int FetchAddInt32(long offset, int delta)
    {
        scheduler.Step(MemoryOp.FetchAdd, offset);
        if (!NonAtomic) return buffer.FetchAddInt32(offset, delta);
        int sum = buffer.ReadInt32(offset) + delta;
        scheduler.Step(MemoryOp.Store, offset);
        buffer.WriteInt32(offset, sum);
        return sum;
    }

    public long FetchAddInt64(long offset, long delta)
    {
        scheduler.Step(MemoryOp.FetchAdd, offset);
        if (!NonAtomic) return buffer.FetchAddInt64(offset, delta);
        long sum = buffer.ReadInt64(offset) + delta;
        scheduler.Step(MemoryOp.Store, offset);
        buffer.WriteInt64(offset, sum);
        return sum;
    }

    public void LoadFence()
    {
        scheduler.Step(MemoryOp.Fence, 0);
        buffer.LoadFence();
    }

    public void CopyIn(long offset, ReadOnlySpan<byte> source)
    {
        scheduler.Step(MemoryOp.CopyIn, offset);
        if (TVariant.Variant == RingVariant.PublishBeforePayload && scheduler.CurrentThread >= 0)
        {
            scheduler.Defer(offset, source.ToArray());
            return;
        }
        int half = source.Length / 2;
        buffer.CopyIn(offset, source[..half]);
        scheduler.Step(MemoryOp.CopyIn, offset + half);
        buffer.CopyIn(offset + half, source[half..]);
    }

    public void CopyOut(long offset, Span<byte> destination)
    {
        scheduler.Step(MemoryOp.CopyOut, offset);
        int half = destination.Length / 2;
        buffer.CopyOut(offset, destination[..half]);
        scheduler.Step(MemoryOp.CopyOut, offset + half);
        buffer.CopyOut(offset + half, destination[half..]);
    }

    public Span<byte> Span(long offset, int length)
    {
        scheduler.Step(MemoryOp.Span, offset);
        return buffer.Span(offset, length);
    }

    public Futex.WaitResult FutexWait(long offset, int expected, TimeSpan timeout)
    {
        scheduler.Step(MemoryOp.FutexWait, offset);
        if (buffer.ReadInt32(offset) != expected) return Futex.WaitResult.ValueChanged;
        return scheduler.CurrentThread < 0 ? Futex.WaitResult.TimedOut : scheduler.Park(offset, timeout);
    }

    public int FutexWake(long offset, int count)
    {
        scheduler.Step(MemoryOp.FutexWake, offset);
        return scheduler.CurrentThread < 0 ? 0 : scheduler.Wake(offset, count);
    }

    /// <summary>The real address: an async wait sleeps in the kernel, outside the scheduler's control, so scenarios make none.</summary>
    public nint AddressOf(long offset) => buffer.AddressOf(offset);

    public long GetTimestamp() => scheduler.Now;
}
