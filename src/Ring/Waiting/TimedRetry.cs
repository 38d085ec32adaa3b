namespace Ring;

/// <summary>An operation that can be tried at once, and waited for when it cannot (a read of an empty ring, a write to a full one).</summary>
internal interface IRetryable
{
    bool TryOnce();

    /// <summary>Waits until trying again may succeed (true) or <paramref name="timeout"/> passes (false).</summary>
    bool WaitForChance(TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>The endpoint's clock (<see cref="ISharedMemory.GetTimestamp"/>).</summary>
    long GetTimestamp();
}

/// <summary>
/// The blocking calls' loop on top of the wait loop: try; if that fails, wait for a chance within what is left of
/// the timeout, and try again. A chance is not a promise: another MPMC consumer may take the message first.
/// </summary>
internal static class TimedRetry
{
    public static bool Run<TOperation>(ref TOperation operation, TimeSpan timeout, CancellationToken cancellationToken)
        where TOperation : IRetryable, allows ref struct
    {
        Waiter.ValidateTimeout(timeout);
        if (operation.TryOnce()) return true;
        Deadline deadline = new(timeout, timeout == Timeout.InfiniteTimeSpan ? 0 : operation.GetTimestamp());
        TimeSpan remaining = timeout;
        while (deadline.IsInfinite || deadline.TryGetRemaining(operation.GetTimestamp(), out remaining)) // an infinite wait reads no clock
        {
            if (!operation.WaitForChance(remaining, cancellationToken)) return false;
            if (operation.TryOnce()) return true;
        }
        return false;
    }
}
