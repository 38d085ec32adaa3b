using System.Diagnostics;

namespace Ring;

/// <summary>
/// A timeout turned into a point on a monotonic clock; infinite stays infinite. The clock is passed in where
/// the caller has its own (a ring's <see cref="ISharedMemory.GetTimestamp"/>); otherwise it is the Stopwatch.
/// </summary>
internal readonly struct Deadline
{
    private readonly long _start;
    private readonly TimeSpan _timeout;

    public Deadline(TimeSpan timeout)
        : this(timeout, timeout == Timeout.InfiniteTimeSpan ? 0 : Stopwatch.GetTimestamp())
    {
    }

    public Deadline(TimeSpan timeout, long startTimestamp)
    {
        Waiter.ValidateTimeout(timeout);
        _timeout = timeout;
        _start = startTimestamp;
    }

    public bool IsInfinite => _timeout == Timeout.InfiniteTimeSpan;

    /// <summary>Time left (Timeout.InfiniteTimeSpan when infinite); false once it has passed.</summary>
    public bool TryGetRemaining(out TimeSpan remaining) =>
        TryGetRemaining(IsInfinite ? 0 : Stopwatch.GetTimestamp(), out remaining);

    public bool TryGetRemaining(long now, out TimeSpan remaining)
    {
        if (IsInfinite)
        {
            remaining = Timeout.InfiniteTimeSpan;
            return true;
        }
        remaining = _timeout - Stopwatch.GetElapsedTime(_start, now);
        return remaining > TimeSpan.Zero;
    }
}
