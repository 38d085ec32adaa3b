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

internal struct SpinThenBlockPolicy : IWaitPolicy
{
    // Roughly 10 µs of spinning, the cost of one blocking round trip here (platform-facts.md): a wait that
    // ends sooner never pays for a sleep, a longer one never spins more than twice what sleeping costs.
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
}

internal static class Waiter
{
    /// <summary>Longest single sleep: a sleeper wakes at least this often to notice a dead peer.</summary>
    public static readonly TimeSpan MaxSleep = TimeSpan.FromSeconds(1);

    /// <summary>Waits until the condition holds (true) or the timeout passes (false).</summary>
    public static bool WaitUntil<TPolicy, TCondition>(TCondition condition, EventCount events, TimeSpan timeout, CancellationToken cancellationToken)
        where TPolicy : struct, IWaitPolicy
        where TCondition : struct, IWaitCondition
    {
        Deadline deadline = new(timeout);
        int iteration = 0;
        CancellationTokenRegistration registration = default;
        try
        {
            while (true)
            {
                if (condition.IsSatisfied()) return true;
                cancellationToken.ThrowIfCancellationRequested();
                if (!deadline.TryGetRemaining(out TimeSpan remaining)) return false;
                if (!TPolicy.Idle(ref iteration)) continue;

                if (cancellationToken.CanBeCanceled && registration == default)
                {
                    registration = cancellationToken.UnsafeRegister(static state => ((EventCountBox)state!).Events.WakeAll(), new EventCountBox(events));
                }
                int sequence = events.Register();
                if (condition.IsSatisfied() || cancellationToken.IsCancellationRequested)
                {
                    events.Unregister();
                    continue;
                }
                events.Sleep(sequence, deadline.IsInfinite || remaining > MaxSleep ? MaxSleep : remaining);
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

    private sealed class EventCountBox(EventCount events)
    {
        public EventCount Events { get; } = events;
    }
}
