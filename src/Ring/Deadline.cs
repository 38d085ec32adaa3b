using System.Diagnostics;

namespace Ring;

/// <summary>A timeout turned into a point on the monotonic clock; infinite stays infinite.</summary>
internal readonly struct Deadline
{
    private readonly long _start;
    private readonly TimeSpan _timeout;

    public Deadline(TimeSpan timeout)
    {
        Waiter.ValidateTimeout(timeout);
        _timeout = timeout;
        _start = timeout == Timeout.InfiniteTimeSpan ? 0 : Stopwatch.GetTimestamp();
    }

    public bool IsInfinite => _timeout == Timeout.InfiniteTimeSpan;

    /// <summary>Time left (Timeout.InfiniteTimeSpan when infinite); false once it has passed.</summary>
    public bool TryGetRemaining(out TimeSpan remaining)
    {
        if (IsInfinite)
        {
            remaining = Timeout.InfiniteTimeSpan;
            return true;
        }
        remaining = _timeout - Stopwatch.GetElapsedTime(_start);
        return remaining > TimeSpan.Zero;
    }
}
