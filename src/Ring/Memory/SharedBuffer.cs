using System.Diagnostics;
using System.Runtime.CompilerServices;
using Ring.Platform.Linux;

namespace Ring;

/// <summary>
/// The one place that dereferences a pointer into a segment. Method names state the ordering: plain
/// accessors are for fields only this process writes (or monitoring reads that may be stale),
/// <c>…Acquire</c>/<c>…Release</c> pair across processes, and the read-modify-write methods are full fences.
/// Offsets are checked in debug builds; callers bound-check anything derived from shared values
/// before it becomes an offset. It is also the production <see cref="ISharedMemory"/>: the rings, generic over
/// that interface, call these methods directly.
/// </summary>
internal readonly unsafe struct SharedBuffer : ISharedMemory
{
    private readonly byte* _base;

    public SharedBuffer(nint address, long length)
    {
        _base = (byte*)address;
        Length = length;
    }

    public long Length { get; }

    public bool IsNull => _base == null;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadInt32(long offset) => *(int*)AtAligned(offset, sizeof(int));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ReadInt64(long offset) => *(long*)AtAligned(offset, sizeof(long));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadInt32Acquire(long offset) => Volatile.Read(ref *(int*)AtAligned(offset, sizeof(int)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ReadInt64Acquire(long offset) => Volatile.Read(ref *(long*)AtAligned(offset, sizeof(long)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteInt32(long offset, int value) => *(int*)AtAligned(offset, sizeof(int)) = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteInt64(long offset, long value) => *(long*)AtAligned(offset, sizeof(long)) = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteInt32Release(long offset, int value) => Volatile.Write(ref *(int*)AtAligned(offset, sizeof(int)), value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteInt64Release(long offset, long value) => Volatile.Write(ref *(long*)AtAligned(offset, sizeof(long)), value);

    /// <summary>Stores with a full fence: the store is released, and no later load moves before it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteInt64Fenced(long offset, long value) => Interlocked.Exchange(ref *(long*)AtAligned(offset, sizeof(long)), value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteInt64Publish(long offset, long value)
    {
        // A static readonly the JIT reads as a constant once the class is initialised: one branch at tier 0, none after.
        if (PublishOrdering.WithoutFence) Volatile.Write(ref *(long*)AtAligned(offset, sizeof(long)), value);
        else Interlocked.Exchange(ref *(long*)AtAligned(offset, sizeof(long)), value);
    }

    public void ProcessWideBarrier() => PublishOrdering.SleeperBarrier();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int CompareExchangeInt32(long offset, int value, int comparand) =>
        Interlocked.CompareExchange(ref *(int*)AtAligned(offset, sizeof(int)), value, comparand);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long CompareExchangeInt64(long offset, long value, long comparand) =>
        Interlocked.CompareExchange(ref *(long*)AtAligned(offset, sizeof(long)), value, comparand);

    /// <summary>Adds and returns the new value; a full fence.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int FetchAddInt32(long offset, int delta) => Interlocked.Add(ref *(int*)AtAligned(offset, sizeof(int)), delta);

    /// <summary>Adds and returns the new value; a full fence.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long FetchAddInt64(long offset, long delta) => Interlocked.Add(ref *(long*)AtAligned(offset, sizeof(long)), delta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void LoadFence() => Interlocked.MemoryBarrier();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> Span(long offset, int length) => new(At(offset, length), length);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CopyIn(long offset, ReadOnlySpan<byte> source) => source.CopyTo(Span(offset, source.Length));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CopyOut(long offset, Span<byte> destination) => Span(offset, destination.Length).CopyTo(destination);

    public Futex.WaitResult FutexWait(long offset, int expected, TimeSpan timeout) =>
        Futex.Wait((int*)AtAligned(offset, sizeof(int)), expected, timeout);

    public int FutexWake(long offset, int count) => Futex.Wake((int*)AtAligned(offset, sizeof(int)), count);

    public nint AddressOf(long offset) => (nint)AtAligned(offset, sizeof(int));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long GetTimestamp() => Stopwatch.GetTimestamp();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* At(long offset, int length)
    {
        Debug.Assert(_base != null, "buffer is not mapped");
        Debug.Assert(offset >= 0 && length >= 0 && offset + length <= Length, $"offset {offset}+{length} outside 0..{Length}");
        return _base + offset;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* AtAligned(long offset, int size)
    {
        Debug.Assert(offset % size == 0, $"misaligned {size}-byte access at {offset}");
        return At(offset, size);
    }
}
