using Ring.Platform.Linux;

namespace Ring.Integrity;

/// <summary>
/// The segment's memory exactly as <see cref="SharedBuffer"/> gives it, on real cores and at full speed, with one
/// variant's protocol mutation switched on. The step scheduler cannot show a missing fence (it is sequentially consistent);
/// this memory lets the real hardware show it.
/// </summary>
internal readonly struct MutatedMemory<TVariant>(SharedBuffer buffer) : ISharedMemory
    where TVariant : struct, IRingVariant
{
    public static ProtocolMutation Mutation => RingVariants.MutationOf(TVariant.Variant);

    public int ReadInt32(long offset) => buffer.ReadInt32(offset);

    public long ReadInt64(long offset) => buffer.ReadInt64(offset);

    public int ReadInt32Acquire(long offset) => buffer.ReadInt32Acquire(offset);

    public long ReadInt64Acquire(long offset) => buffer.ReadInt64Acquire(offset);

    public void WriteInt32(long offset, int value) => buffer.WriteInt32(offset, value);

    public void WriteInt64(long offset, long value) => buffer.WriteInt64(offset, value);

    public void WriteInt32Release(long offset, int value) => buffer.WriteInt32Release(offset, value);

    public void WriteInt64Release(long offset, long value) => buffer.WriteInt64Release(offset, value);

    public void WriteInt64Fenced(long offset, long value) => buffer.WriteInt64Fenced(offset, value);

    public void WriteInt64Publish(long offset, long value) => buffer.WriteInt64Publish(offset, value);

    public void ProcessWideBarrier() => buffer.ProcessWideBarrier();

    public int CompareExchangeInt32(long offset, int value, int comparand) => buffer.CompareExchangeInt32(offset, value, comparand);

    public long CompareExchangeInt64(long offset, long value, long comparand) => buffer.CompareExchangeInt64(offset, value, comparand);

    public int FetchAddInt32(long offset, int delta) => buffer.FetchAddInt32(offset, delta);

    public long FetchAddInt64(long offset, long delta) => buffer.FetchAddInt64(offset, delta);

    public void LoadFence() => buffer.LoadFence();

    public void CopyIn(long offset, ReadOnlySpan<byte> source) => buffer.CopyIn(offset, source);

    public void CopyOut(long offset, Span<byte> destination) => buffer.CopyOut(offset, destination);

    public Span<byte> Span(long offset, int length) => buffer.Span(offset, length);

    public Futex.WaitResult FutexWait(long offset, int expected, TimeSpan timeout) => buffer.FutexWait(offset, expected, timeout);

    public int FutexWake(long offset, int count) => buffer.FutexWake(offset, count);

    public nint AddressOf(long offset) => buffer.AddressOf(offset);

    public long GetTimestamp() => buffer.GetTimestamp();
}
