namespace Ring.Stress;

/// <summary>Which end of the ring a worker plays.</summary>
public enum WorkerRole
{
    /// <summary>Writes messages 0..N-1.</summary>
    Producer,

    /// <summary>Reads N messages and checks them.</summary>
    Consumer,
}

/// <summary>What one worker does: the parsed <c>worker</c> command line, or what a test sets up in-process.</summary>
public sealed record WorkerSettings
{
    /// <summary>Segment name or absolute path.</summary>
    public required string Segment { get; init; }

    /// <summary>The end of the ring to play.</summary>
    public required WorkerRole Role { get; init; }

    /// <summary>N: messages to write, or to read from each producer.</summary>
    public required long Messages { get; init; }

    /// <summary>Producer: its id, stamped into every message so a consumer can tell the producers' streams apart.</summary>
    public int ProducerId { get; init; }

    /// <summary>Consumer: how many producers (ids 0..P-1) each send <see cref="Messages"/> messages.</summary>
    public int Producers { get; init; } = 1;

    /// <summary>Use the zero-copy calls: TryClaim/Commit for a producer, read handlers for a consumer.</summary>
    public bool ZeroCopy { get; init; }

    /// <summary>
    /// Producer, SPSC: write through a <see cref="RingBatch"/> and publish every this many messages (and before each
    /// wait for room, and after the last); 0 writes and publishes each message on its own.
    /// </summary>
    public int Batch { get; init; }

    /// <summary>Where the worker kills (or stops) itself, if anywhere; any plan implies <see cref="ZeroCopy"/>.</summary>
    public IReadOnlyList<FaultPlan> Faults { get; init; } = [];

    /// <summary>Smallest message, at least <see cref="StressMessage.PrefixLength"/>.</summary>
    public int MinSize { get; init; } = StressMessage.PrefixLength;

    /// <summary>Largest message, at most the segment's MaxMessageLength.</summary>
    public int MaxSize { get; init; } = 256;

    /// <summary>How the endpoint waits.</summary>
    public WaitStrategy Wait { get; init; } = WaitStrategy.SpinThenBlock;

    /// <summary>What the endpoint does once every process at the other end is gone.</summary>
    public PeerLoss PeerLoss { get; init; } = PeerLoss.Wait;

    /// <summary>
    /// Producer: complete the ring after the last message. Consumer: expect the stream to end with a completion after
    /// the last message, and wait for it; a stream that is not completed then is a failure.
    /// </summary>
    public bool Complete { get; init; }

    /// <summary>
    /// With <see cref="Complete"/>: the reason the producer completes with, or the one the consumer expects; null for
    /// none (the consumer then takes any).
    /// </summary>
    public string? CompleteReason { get; init; }

    /// <summary>Messages per burst; null for one unpaced stream.</summary>
    public IntRange? Burst { get; init; }

    /// <summary>Pause after each burst, in milliseconds.</summary>
    public IntRange PauseMs { get; init; } = IntRange.Exactly(0);

    /// <summary>Seed of the message contents and sizes; producer and consumer must agree on it.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>How long a consumer waits for one message before it decides the producer has stopped.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a producer waits for room for one message before it decides the consumer has stopped (so an
    /// orphaned producer ends instead of blocking forever).
    /// </summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a consumer waits for the first message (the producer may still be starting up); null means
    /// <see cref="ReadTimeout"/>.
    /// </summary>
    public TimeSpan? FirstReadTimeout { get; init; }

    /// <summary>The pacer for these settings, or null when unpaced.</summary>
    public BurstPacer? CreatePacer() => Burst is { } burst ? new BurstPacer(burst, PauseMs, Seed ^ (ulong)Role) : null;
}
