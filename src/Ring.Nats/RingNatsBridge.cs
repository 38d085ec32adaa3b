namespace Ring.Nats;

/// <summary>Bridges between a ring and NATS; each runs until its token is cancelled or the ring is completed.</summary>
public static class RingNatsBridge
{
    /// <summary>
    /// Reads the ring as a consumer (a subscriber of a broadcast ring) and publishes each message as one NATS message
    /// to <see cref="BridgeOptions.Subject"/>. With <see cref="BridgeOptions.Stream"/>: at least once, each message
    /// released from the ring only after JetStream acknowledged it (SPSC or broadcast rings). Without: at most once.
    /// </summary>
    /// <exception cref="NotSupportedException">JetStream with an MPMC ring.</exception>
    public static Task RunOutAsync(RingSegment segment, BridgeOptions options, BridgeCounters counters, CancellationToken cancellationToken) =>
        new OutBridge(segment, options, counters).RunAsync(cancellationToken);

    /// <summary>
    /// Writes each NATS message of <see cref="BridgeOptions.Subject"/> into the ring as one message. With
    /// <see cref="BridgeOptions.Stream"/> and <see cref="BridgeOptions.Durable"/>: a durable pull consumer, each message
    /// acknowledged after it was committed, no pull while the ring is full. Without: a core subscription, at most once.
    /// </summary>
    public static Task RunInAsync(RingSegment segment, BridgeOptions options, BridgeCounters counters, CancellationToken cancellationToken) =>
        new InBridge(segment, options, counters).RunAsync(cancellationToken);
}
