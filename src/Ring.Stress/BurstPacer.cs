namespace Ring.Stress;

/// <summary>
/// Splits a worker's stream into bursts of <c>burst</c> messages with a pause of <c>pause</c> ms after each
/// (both drawn per burst from their ranges with a seeded generator). The pause is the point of a test —
/// it lets the other side run dry and go to sleep — not a way to synchronise with it.
/// </summary>
public sealed class BurstPacer
{
    private readonly IntRange _burst;
    private readonly IntRange _pauseMs;
    private ulong _state;
    private int _left;

    /// <summary>Pacing with bursts and pauses drawn from these ranges; a burst of 0 is taken as 1.</summary>
    public BurstPacer(IntRange burst, IntRange pauseMs, ulong seed)
    {
        _burst = burst;
        _pauseMs = pauseMs;
        _state = StressMessage.Mix(seed ^ 0xB0B5_7E55);
        _left = NextBurst();
    }

    /// <summary>Pauses taken so far.</summary>
    public long Pauses { get; private set; }

    /// <summary>Pauses of 1 ms or more taken so far (a 0 ms pause only yields the CPU).</summary>
    public long Sleeps { get; private set; }

    /// <summary>Call after each message; pauses when a burst is complete and <paramref name="more"/> messages follow.</summary>
    public void AfterMessage(bool more)
    {
        if (--_left > 0 || !more) return;
        int pause = _pauseMs.Next(ref _state);
        Thread.Sleep(pause);
        Pauses++;
        if (pause > 0) Sleeps++;
        _left = NextBurst();
    }

    private int NextBurst() => Math.Max(1, _burst.Next(ref _state));
}
