using System.Diagnostics;

namespace Ring;

/// <summary>
/// A timeout turned into a point on a monotonic clock; infinite stays infinite. The caller passes the clock's
/// readings: an endpoint reads its ring's <see cref="ISharedMemory.GetTimestamp"/>, which is virtual under the
/// integrity harness's step scheduler. Readings are Stopwatch ticks.
/// </summary>
internal readonly struct Deadline
{
    private readonly long _start;
    private readonly TimeSpan _timeout;

    /// <param name="timeout">Non-negative, or Timeout.InfiniteTimeSpan.</param>
    /// <param name="startTimestamp">Now; ignored (pass 0) when the timeout is infinite.</param>
    public Deadline(TimeSpan timeout, long startTimestamp)
    {
        Waiter.ValidateTimeout(timeout);
        _timeout = timeout;
        _start = startTimestamp;
    }

    public bool IsInfinite => _timeout == Timeout.InfiniteTimeSpan;

    /// <summary>Time left at <paramref name="now"/> (Timeout.InfiniteTimeSpan when infinite); false once it has passed.</summary>
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
