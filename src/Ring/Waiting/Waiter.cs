namespace Ring;

/// <summary>The one wait loop: spin, yield or sleep on the eventcount per the endpoint's policy until a condition holds.</summary>
internal static class Waiter
{
    /// <summary>Longest single sleep: a sleeper wakes at least this often to notice a dead peer.</summary>
    public static readonly TimeSpan MaxSleep = TimeSpan.FromSeconds(1);

    // Reading the clock costs about as much as a spin step: while spinning, look at it every so many steps.
    private const int DeadlineCheckInterval = 32;

    /// <summary>
    /// Waits until the condition is ready (true), or says the ring is completed or the timeout passes (false). Throws
    /// <see cref="ObjectDisposedException"/> once the endpoint behind <paramref name="core"/> is disposed: its
    /// Dispose wakes the sleepers, and the check before each sleep catches a Dispose that came first.
    /// </summary>
    public static bool WaitUntil<TPolicy, TCondition, TMemory>(TCondition condition, ref EndpointCore<TMemory> core, TimeSpan timeout, CancellationToken cancellationToken)
        where TPolicy : struct, IWaitPolicy
        where TCondition : struct, IWaitCondition
        where TMemory : struct, ISharedMemory
    {
        ValidateTimeout(timeout);
        WaitReadiness readiness = condition.Check();
        if (readiness != WaitReadiness.Waiting) return readiness == WaitReadiness.Ready; // the common case reads no clock
        EventWaker<TMemory> waker = core.Waker;
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
                    if ((recheck && condition.Check() != WaitReadiness.Waiting) || cancellationToken.IsCancellationRequested || core.IsDisposed)
                    {
                        events.Unregister();
                    }
                    else
                    {
                        TimeSpan limit = events.LimitSleep(condition.SleepLimit);
                        events.Sleep(sequence, deadline.IsInfinite || remaining > limit ? limit : remaining);
                    }
                }
                core.ThrowIfDisposed(); // a Dispose woke this wait: it ends here, whatever the ring holds
                readiness = condition.Check();
                if (readiness != WaitReadiness.Waiting) return readiness == WaitReadiness.Ready;
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
