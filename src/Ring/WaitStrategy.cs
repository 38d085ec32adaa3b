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

    /// <summary>
    /// Sleeps in the kernel at once whenever it has to wait: the least CPU, but every wait that sleeps costs a
    /// futex wake-up (about 10 µs here) on both sides. For sparse traffic that must not burn a core.
    /// </summary>
    Block,
}
