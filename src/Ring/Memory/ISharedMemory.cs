using Ring.Platform.Linux;

namespace Ring;

/// <summary>
/// Every operation the ring algorithms perform on shared memory, and the clock their waits read. The rings
/// are generic over it: in production the type argument is <see cref="SharedBuffer"/> itself, so each call
/// compiles to the single load, store or locked instruction it names; the integrity harness substitutes a
/// type that hands control to a step scheduler before each operation, which makes the interleaving of two
/// endpoints something a test can choose, shrink and replay.
/// </summary>
internal interface ISharedMemory
{
    int ReadInt32(long offset);

    long ReadInt64(long offset);

    int ReadInt32Acquire(long offset);

    long ReadInt64Acquire(long offset);

    void WriteInt32(long offset, int value);

    void WriteInt64(long offset, long value);

    /// <summary>A release store: no earlier load or store moves after it, but a later load may move before it.</summary>
    void WriteInt32Release(long offset, int value);

    /// <summary>A release store, as <see cref="WriteInt32Release"/>.</summary>
    void WriteInt64Release(long offset, long value);

    /// <summary>A release store that is also a full fence: no later load moves before it.</summary>
    void WriteInt64Fenced(long offset, long value);

    /// <summary>
    /// A publishing store: released, and ordered before the load of the other side's waiter count that follows it —
    /// by a full fence in a process that publishes fenced, by the sleepers' <see cref="ProcessWideBarrier"/> in one that
    /// publishes without (<see cref="PublishOrdering"/>).
    /// </summary>
    void WriteInt64Publish(long offset, long value);

    /// <summary>
    /// The sleeper's half of <see cref="PublishOrdering"/>: a full fence on every CPU running a thread of a process that
    /// publishes without fences, before this returns.
    /// </summary>
    void ProcessWideBarrier();

    int CompareExchangeInt32(long offset, int value, int comparand);

    long CompareExchangeInt64(long offset, long value, long comparand);

    /// <summary>Adds and returns the new value; a full fence.</summary>
    int FetchAddInt32(long offset, int delta);

    /// <summary>Adds and returns the new value; a full fence.</summary>
    long FetchAddInt64(long offset, long delta);

    /// <summary>
    /// A load barrier: no load after it is performed before a load ahead of it. The validation of a seqlock read
    /// needs it (the copy's loads, then the load that says whether they were overwritten); x86 keeps loads in order
    /// anyway, arm64 does not.
    /// </summary>
    void LoadFence();

    /// <summary>Copies a payload into the segment with plain stores.</summary>
    void CopyIn(long offset, ReadOnlySpan<byte> source);

    /// <summary>Copies a payload out of the segment with plain loads.</summary>
    void CopyOut(long offset, Span<byte> destination);

    /// <summary>Bytes inside the segment handed to user code: a claim to fill, or a message read in place.</summary>
    Span<byte> Span(long offset, int length);

    Futex.WaitResult FutexWait(long offset, int expected, TimeSpan timeout);

    int FutexWake(long offset, int count);

    /// <summary>
    /// The address of a futex word, for futex_waitv, which takes the words of a call by address: only the kernel
    /// reads through it. Valid while the mapping is.
    /// </summary>
    nint AddressOf(long offset);

    /// <summary>Monotonic time in <see cref="System.Diagnostics.Stopwatch"/> ticks, for deadlines and stuck-claim timing.</summary>
    long GetTimestamp();

    /// <summary>
    /// A deliberate protocol error, for the tests that prove the integrity harness catches a broken ring.
    /// Only test types override it; for <see cref="SharedBuffer"/> it is the constant <see cref="ProtocolMutation.None"/>
    /// and the JIT drops the branches that test it.
    /// </summary>
    static virtual ProtocolMutation Mutation => ProtocolMutation.None;

    /// <summary>
    /// Whether a store can sit in a store buffer while later loads go ahead, which is what <see cref="PublishOrdering"/>
    /// orders. False only for the step scheduler's memory, where every store is visible to every thread at once: there
    /// the segment's flag is neither set nor read, so no barrier adds a step to a schedule.
    /// </summary>
    static virtual bool HasStoreBuffer => true;
}
