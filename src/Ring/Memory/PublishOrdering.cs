using Ring.Platform.Linux;

namespace Ring;

/// <summary>
/// How this process keeps a publishing store (a tail, a head, a slot's sequence, a subscriber's cursor) ahead of the
/// load of the other side's waiter count that follows it — the publisher's half of the eventcount's store-buffer pair
/// (<see cref="EventCount{TMemory}"/>). Chosen once per process, when its first endpoint opens.
/// <para>
/// Fenced (the default): the store is a full-fence exchange, one locked instruction per publish. Without fence
/// (<c>RING_MEMBARRIER=on</c>, where the kernel has <c>membarrier</c>'s expedited global commands): the store is a plain release store and the sleeper
/// pays instead. After registering (an atomic add, a full fence) it reads the segment's
/// <see cref="SegmentLayout.MembarrierPublishersOffset"/> flag and, when it is set, calls
/// <c>membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)</c> before it re-checks the ring. That call runs a full fence on
/// every CPU that is running a thread of a registered process, at some instant between the call's start and its
/// return; a thread not running then has just passed a context switch, which is a full barrier too. Take a publisher
/// that stores X and then loads the waiter count W, and a sleeper that adds itself to W, calls the barrier, then
/// loads X. If the publisher's fence instant comes after its store of X, X is visible before the barrier returns and
/// the sleeper's re-check sees it. If it comes before the store, the publisher's load of W comes after that instant,
/// which is after the sleeper's registration was visible, so the publisher sees the waiter and wakes it. In both
/// orders nobody sleeps through the publish. The sleeper pays about 0.5 µs per sleep (platform-facts.md); the
/// publisher, nothing.
/// </para>
/// <para>
/// The flag makes processes of both kinds safe on one segment. A process that publishes without fence sets it with a
/// fenced store when it attaches an endpoint, before that endpoint's first publish, and nothing clears it. A sleeper
/// that reads it unset after registering forms a store-buffer pair with that fenced store (a fence on each side): the
/// flag's setter has not yet stored it, so every waiter check it makes later sees the registration, and the sleeper
/// needs no barrier. A sleeper that reads it set and cannot run the barrier (a fenced process: the default, or its
/// kernel refused) sleeps at most <see cref="UnbarrieredSleepLimit"/> at a time: a wake-up it misses costs a
/// millisecond, not its whole sleep. The step scheduler is sequentially consistent and sees none of this
/// (<see cref="ISharedMemory.HasStoreBuffer"/>); the lost-wake-up detectors on real cores are what test it.
/// </para>
/// <para>
/// Why it is opt-in. On this machine's VM (kernel 6.18, 2 vCPUs) the blocking free-thread interleavings
/// (<c>Ring.Stress interleave --blocking</c>) still lost SPSC wake-ups, 6 in 4 million runs, with release-only
/// publishes, and none in as many runs with the same sleepers' barriers and fenced publishes: the barrier does not
/// always order a publisher's store here, and why was not found (the stale per-CPU state that <see cref="Membarrier"/>
/// works around was one cause, not the only one). A lost wake-up is what Ring promises never to have, so publishes stay
/// fenced unless a user asks otherwise.
/// </para>
/// </summary>
internal static class PublishOrdering
{
    /// <summary>
    /// <c>RING_MEMBARRIER=on</c> makes the process publish without fences where the kernel allows; anything else, or
    /// nothing, publishes fenced. Off by default: see the class remarks for the wake-ups it still lost here.
    /// </summary>
    public const string Variable = "RING_MEMBARRIER";

    public static readonly TimeSpan UnbarrieredSleepLimit = TimeSpan.FromMilliseconds(1);

    /// <summary>This process publishes with release stores; it is registered, so it can also run the sleeper's barrier.</summary>
    public static readonly bool WithoutFence;

    /// <summary>Why this process publishes fenced; null when it does not.</summary>
    public static readonly string? FencedBecause;

    static PublishOrdering()
    {
        FencedBecause = Environment.GetEnvironmentVariable(Variable) is "on" or "1"
            ? Membarrier.TryRegister()
            : $"the default; {Variable}=on publishes without fences";
        WithoutFence = FencedBecause is null;
    }

    /// <summary>What the stress tool's <c>wakeups</c> and <c>interleave</c> print for this process.</summary>
    public static string Describe() => WithoutFence
        ? "release stores; sleepers run membarrier(GLOBAL_EXPEDITED)"
        : $"full fence per publish ({FencedBecause})";

    /// <summary>Runs the sleeper's barrier. Only a process that could register calls it; the kernel refusing now is a broken promise.</summary>
    public static void SleeperBarrier()
    {
        if (!Membarrier.TryGlobalExpedited())
            throw new RingException($"membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) failed after registration succeeded: {Errno.Describe(Errno.Last)}");
    }
}
