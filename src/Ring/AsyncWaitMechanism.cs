namespace Ring;

/// <summary>
/// How this process's pending async waits (<see cref="RingReader.WaitToReadAsync(CancellationToken)"/> and the
/// others) sleep; see <see cref="RingSegment.AsyncWaitMechanism"/>.
/// </summary>
public enum AsyncWaitMechanism
{
    /// <summary>
    /// One background thread sleeps in <c>futex_waitv</c> (Linux 5.16 or later) on the futex words of up to 127
    /// distinct eventcounts at once, for any number of pending waits on them; more threads only beyond that.
    /// </summary>
    FutexWaitv,

    /// <summary>
    /// The fallback where <c>futex_waitv</c> is missing: one background thread per distinct eventcount with a pending
    /// wait, sleeping in <c>FUTEX_WAIT</c> on its word. Waits on the same word share the thread.
    /// </summary>
    ThreadPerWord,
}
