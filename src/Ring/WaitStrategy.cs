namespace Ring;

/// <summary>How an endpoint waits when the ring is empty (reader) or full (writer).</summary>
public enum WaitStrategy
{
    /// <summary>Never leaves the CPU: lowest latency, one core burnt per waiting endpoint.</summary>
    BusySpin,

    /// <summary>Spins briefly, then yields the CPU to other threads between checks; never sleeps.</summary>
    SpinThenYield,

    /// <summary>Spins briefly, yields a few times, then sleeps in the kernel until the other side signals.</summary>
    SpinThenBlock,

    /// <summary>
    /// Sleeps in the kernel at once whenever it has to wait: the least CPU, but every wait that sleeps costs a
    /// futex wake-up (about 10 µs here) on both sides. For sparse traffic that must not burn a core.
    /// </summary>
    Block,
}

/// <summary>A wait strategy as a type, so the JIT folds the choice into each endpoint's wait loop.</summary>
internal interface IWaitPolicy
{
    /// <summary>Spends one idle step; returns true when the caller should now sleep on the eventcount.</summary>
    static abstract bool Idle(ref int iteration);
}

internal struct BusySpinPolicy : IWaitPolicy
{
    public static bool Idle(ref int iteration)
    {
        Thread.SpinWait(1);
        return false;
    }
}

internal struct SpinThenYieldPolicy : IWaitPolicy
{
    private const int SpinIterations = 100;

    public static bool Idle(ref int iteration)
    {
        if (iteration < SpinIterations)
        {
            iteration++;
            Thread.SpinWait(1);
        }
        else
        {
            Thread.Yield();
        }
        return false;
    }
}

internal struct BlockPolicy : IWaitPolicy
{
    public static bool Idle(ref int iteration) => true;
}

internal struct SpinThenBlockPolicy : IWaitPolicy
{
    // Meant as about one blocking round trip of spinning (~10 µs, platform-facts.md), so a wait that ends
    // sooner never pays for a sleep. Counted in SpinWait steps, whose length varies: the compare harness
    // measured 13-63 µs for the 200 steps on a loaded 2-CPU VM, plus 19-44 µs for the yields.
    private const int SpinIterations = 200;
    private const int YieldIterations = 10;

    public static bool Idle(ref int iteration)
    {
        if (iteration < SpinIterations)
        {
            iteration++;
            Thread.SpinWait(1);
            return false;
        }
        if (iteration < SpinIterations + YieldIterations)
        {
            iteration++;
            Thread.Yield();
            return false;
        }
        return true;
    }
}

/// <summary>A condition the waiter re-checks; a struct so the check inlines into the loop.</summary>
internal interface IWaitCondition
{
    bool IsSatisfied();

    /// <summary>Longest single sleep; shorter while the condition is waiting out a stuck peer.</summary>
    TimeSpan SleepLimit { get; }
}

/// <summary>
/// An endpoint's handle on one eventcount for cancellation and Dispose: a token that fires, or a Dispose,
/// wakes every sleeper so the one concerned notices. One per endpoint, so a cancellable wait allocates nothing
/// of its own.
/// </summary>
internal sealed class EventWaker<TMemory>(EventCount<TMemory> events) where TMemory : struct, ISharedMemory
{
    public EventCount<TMemory> Events { get; } = events;

    public static readonly Action<object?> WakeAllCallback = static state => ((EventWaker<TMemory>)state!).Events.WakeAll();
}

internal static class Waiter
{
    /// <summary>Longest single sleep: a sleeper wakes at least this often to notice a dead peer.</summary>
    public static readonly TimeSpan MaxSleep = TimeSpan.FromSeconds(1);

    // Reading the clock costs about as much as a spin step: while spinning, look at it every so many steps.
    private const int DeadlineCheckInterval = 32;

    /// <summary>
    /// Waits until the condition holds (true) or the timeout passes (false). Throws
    /// <see cref="ObjectDisposedException"/> once the endpoint behind <paramref name="guard"/> is disposed: its
    /// Dispose wakes the sleepers, and the check before each sleep catches a Dispose that came first.
    /// </summary>
    public static bool WaitUntil<TPolicy, TCondition, TMemory>(TCondition condition, EventWaker<TMemory> waker, ref CallGuard guard, TimeSpan timeout, CancellationToken cancellationToken)
        where TPolicy : struct, IWaitPolicy
        where TCondition : struct, IWaitCondition
        where TMemory : struct, ISharedMemory
    {
        ValidateTimeout(timeout);
        if (condition.IsSatisfied()) return true; // the common case reads no clock
        EventCount<TMemory> events = waker.Events;
        TMemory memory = events.Memory;
        Deadline deadline = new(timeout, timeout == Timeout.InfiniteTimeSpan ? 0 : memory.GetTimestamp());
        int iteration = 0;
        int spins = 0;
        CancellationTokenRegistration registration = default;
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!TPolicy.Idle(ref iteration))
                {
                    if (++spins % DeadlineCheckInterval == 0 && !deadline.IsInfinite && !deadline.TryGetRemaining(memory.GetTimestamp(), out _)) return false;
                }
                else
                {
                    TimeSpan remaining = Timeout.InfiniteTimeSpan;
                    if (!deadline.IsInfinite && !deadline.TryGetRemaining(memory.GetTimestamp(), out remaining)) return false;
                    if (cancellationToken.CanBeCanceled && registration == default)
                    {
                        registration = cancellationToken.UnsafeRegister(EventWaker<TMemory>.WakeAllCallback, waker);
                    }
                    int sequence = events.Register();
                    bool recheck = TMemory.Mutation != ProtocolMutation.SkipRecheckBeforeSleep;
                    // Dispose sets its flag before it bumps the sequence: a sleep on a sequence read before the bump is woken.
                    if ((recheck && condition.IsSatisfied()) || cancellationToken.IsCancellationRequested || guard.IsDisposed)
                    {
                        events.Unregister();
                    }
                    else
                    {
                        TimeSpan limit = condition.SleepLimit;
                        events.Sleep(sequence, deadline.IsInfinite || remaining > limit ? limit : remaining);
                    }
                }
                guard.ThrowIfDisposed(); // before the condition: a disposed endpoint's lease is gone
                if (condition.IsSatisfied()) return true;
            }
        }
        finally
        {
            registration.Dispose();
        }
    }

    public static void ValidateTimeout(TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be non-negative or Timeout.InfiniteTimeSpan.");
    }
}
