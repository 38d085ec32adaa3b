namespace Ring;

/// <summary>What a wait's condition says: keep waiting, go on (a message or room is there), or stop (the ring is completed).</summary>
internal enum WaitReadiness
{
    Waiting,
    Ready,
    Completed,
}

/// <summary>
/// A condition the waiter re-checks; a struct so the check inlines into the loop. It is cheap, never blocks and
/// ends in bounded time: the async wait service runs it on its own thread for every pending wait.
/// </summary>
internal interface IWaitCondition
{
    WaitReadiness Check();

    /// <summary>Longest single sleep; shorter while the condition is waiting out a stuck peer.</summary>
    TimeSpan SleepLimit { get; }
}
