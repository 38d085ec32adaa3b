namespace Ring;

/// <summary>A condition the waiter re-checks; a struct so the check inlines into the loop.</summary>
internal interface IWaitCondition
{
    bool IsSatisfied();

    /// <summary>Longest single sleep; shorter while the condition is waiting out a stuck peer.</summary>
    TimeSpan SleepLimit { get; }
}
