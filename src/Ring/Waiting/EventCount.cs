using System.Runtime.CompilerServices;

namespace Ring;

/// <summary>
/// The slow path's eventcount: a waiter count and a wake sequence (the futex word) in one 128-byte block of
/// the segment.
/// <para>
/// Protocol. A waiter (1) reads the sequence, (2) increments the waiter count, a full fence, (3) re-checks
/// its condition on the ring and (4) sleeps on the sequence word only while it still holds the value read
/// in (1), then (5) decrements the count. A signaller (a) publishes its change to the ring with a
/// full-fence store and (b) reads the waiter count (in a process that publishes without fences, the store is a
/// release store and the sleeper's process-wide barrier after (2) stands in for its fence: <see cref="PublishOrdering"/>); only if it is non-zero does it bump the sequence and
/// call FUTEX_WAKE. Steps (2)-(3) and (a)-(b) form a store-buffer pair with a fence on each side, so at
/// least one side sees the other: either the re-check in (3) sees the change, or the signaller sees the
/// waiter and bumps the sequence after (1) was read, in which case FUTEX_WAIT returns at once (the word
/// moved) or is woken. Without the fence in (a) the signaller's load can pass its own store and both
/// sides miss each other: that is the lost wake-up measured in platform-facts.md.
/// </para>
/// A writer with nobody asleep pays one load of a line nobody writes, no syscall.
/// <para>
/// Single-waiter mode (an SPSC direction has exactly one possible sleeper): the signaller that sees the
/// registration takes it (compare-exchange 1 → 0) before waking, and the sleeper unregisters only if its
/// registration is still there. Every later signal before the sleeper runs again then sees 0 and makes
/// no syscall — without this, each message published while the woken reader waits to be scheduled paid a
/// FUTEX_WAKE. The argument above is unchanged: the registration is taken only by a signaller that then
/// bumps the sequence. A registration left by a dead sleeper is taken by the next signal, once.
/// </para>
/// <para>
/// Wake-all mode (the readers of a completed MPMC ring): a message wakes one reader, but once the ring is completed
/// the reader that takes the last message ends the stream for every other sleeper too, and nothing would wake them.
/// The completer sets <see cref="WakeAllFlag"/> in the waiter word with an atomic add before it wakes everyone; every
/// later signal that sees a sleeper wakes them all. A sleeper registers on the same word, so its registration and the
/// flag are ordered: registered before the flag, the completer's wake finds it; after, every publish does.
/// </para>
/// </summary>
internal readonly struct EventCount<TMemory>(TMemory memory, long blockOffset, bool singleWaiter = false)
    where TMemory : struct, ISharedMemory
{
    /// <summary>In the waiter word: every signal wakes every sleeper (see the class remarks); below it, the count.</summary>
    public const int WakeAllFlag = 1 << 30;

    public TMemory Memory => memory;

    private long WaitersOffset => blockOffset + SegmentLayout.EventWaitersOffset;
    private long SequenceOffset => blockOffset + SegmentLayout.EventSequenceOffset;

    /// <summary>
    /// Steps (1) and (2), and the process-wide barrier when a publisher on this segment stores without a fence
    /// (<see cref="PublishOrdering"/>): returns the sequence to sleep on.
    /// </summary>
    public int Register()
    {
        // Acquire pairs with the signaller's sequence increment; the value only has to be no newer than (2).
        int sequence = memory.ReadInt32Acquire(SequenceOffset);
        memory.FetchAddInt32(WaitersOffset, 1); // full fence: orders the registration before the caller's re-check
        if (TMemory.HasStoreBuffer && PublishOrdering.WithoutFence && HasPublishersWithoutFence && !SkipsBarrier) memory.ProcessWideBarrier();
        return sequence;
    }

    /// <summary>
    /// The longest sleep that is safe after <see cref="Register"/>: a process that cannot run the barrier, on a segment
    /// where someone publishes without a fence, may have missed a wake-up and looks again within a millisecond.
    /// </summary>
    public TimeSpan LimitSleep(TimeSpan limit) =>
        TMemory.HasStoreBuffer && !PublishOrdering.WithoutFence && HasPublishersWithoutFence && limit > PublishOrdering.UnbarrieredSleepLimit
            ? PublishOrdering.UnbarrieredSleepLimit
            : limit;

    // Plain load after the registration's fence; pairs with the flag's fenced store at attach (see PublishOrdering).
    private bool HasPublishersWithoutFence => memory.ReadInt32(SegmentLayout.MembarrierPublishersOffset) != 0;

    // A broken ring that publishes without ordering: with release-only publishes, skipping the barrier is what breaks it.
    private static bool SkipsBarrier => TMemory.Mutation is ProtocolMutation.PublishTailWithoutFence or ProtocolMutation.PublishHeadWithoutFence;

    public void Unregister()
    {
        if (singleWaiter) memory.CompareExchangeInt32(WaitersOffset, 0, 1); // a signaller may have taken it already
        else memory.FetchAddInt32(WaitersOffset, -1);
    }

    /// <summary>Steps (4) and (5). Returns on a wake, a sequence change, a signal or the timeout.</summary>
    public void Sleep(int sequence, TimeSpan timeout)
    {
        CountSleep();
        try
        {
            memory.FutexWait(SequenceOffset, sequence, timeout);
        }
        finally
        {
            Unregister();
        }
    }

    /// <summary>Counts a sleep in the segment's statistics; the async wait service counts each round it sleeps through.</summary>
    public void CountSleep() => memory.FetchAddInt64(blockOffset + SegmentLayout.EventSleepsOffset, 1);

    /// <summary>The wake sequence now: the async wait service compares it with the value a wait registered with.</summary>
    public int Sequence => memory.ReadInt32Acquire(SequenceOffset); // pairs with the signaller's increment, as in Register

    /// <summary>The wake sequence's address, for futex_waitv.</summary>
    public nint SequenceAddress => memory.AddressOf(SequenceOffset);

    /// <summary>Step (b). The caller's publishing store must have been <see cref="ISharedMemory.WriteInt64Publish"/> or a full fence.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void NotifyAfterFence(int count)
    {
        // Plain load: ordered after the caller's publish by that store's fence or the sleepers' barrier (step a).
        int waiters = memory.ReadInt32(WaitersOffset);
        if ((waiters & ~WakeAllFlag) == 0) return;
        if (singleWaiter && memory.CompareExchangeInt32(WaitersOffset, 0, 1) != 1) return; // another signal took it
        Wake((waiters & WakeAllFlag) != 0 ? int.MaxValue : count);
    }

    /// <summary>Wakes every sleeper so it re-checks its condition (used by cancellation and Dispose).</summary>
    public void WakeAll() => Wake(int.MaxValue);

    /// <summary>
    /// Wake-all mode, for good: called once, by the completer of an MPMC ring before it wakes everyone. Not for a
    /// single-waiter eventcount, whose word is only ever 0 or 1.
    /// </summary>
    public void WakeAllFromNowOn()
    {
        System.Diagnostics.Debug.Assert(!singleWaiter);
        memory.FetchAddInt32(WaitersOffset, WakeAllFlag); // full fence; a registration's atomic add on the same word is ordered with it
    }

    public int Waiters => memory.ReadInt32Acquire(WaitersOffset) & ~WakeAllFlag;
    public long Sleeps => memory.ReadInt64Acquire(blockOffset + SegmentLayout.EventSleepsOffset);
    public long Wakes => memory.ReadInt64Acquire(blockOffset + SegmentLayout.EventWakesOffset);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Wake(int count)
    {
        memory.FetchAddInt32(SequenceOffset, 1); // full fence: a waiter that read the old sequence cannot sleep on it
        memory.FetchAddInt64(blockOffset + SegmentLayout.EventWakesOffset, 1);
        memory.FutexWake(SequenceOffset, count);
    }
}
