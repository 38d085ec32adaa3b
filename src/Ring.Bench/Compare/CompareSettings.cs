namespace Ring.Bench.Compare;

/// <summary>What a compare run measures, and how much of it.</summary>
internal sealed record CompareSettings(
    IReadOnlyList<int> Sizes,
    IReadOnlyList<Transport> Transports,
    int Rounds,
    int WarmupRoundTrips,
    int MeasuredRoundTrips,
    TimeSpan StreamDuration,
    bool Pin = true,
    string? JsonPath = null)
{
    /// <summary>
    /// The least a warm-up lasts, round trips and stream alike, whatever its count. The JIT compiles a hot method again,
    /// optimized, on a background thread — which finds no free CPU while both pinned sides spin on a 2-CPU machine. A
    /// warm-up of 1,000 or 10,000 round trips (1.5–15 ms) and none for the stream measured the ring's stream on
    /// unoptimized code: 64 B, 3.8–5.1 M msg/s, against 18.8 with tiered compilation off, 16–23 after 1.5 s of warm-up
    /// and 23.6 after 3 s (same machine, --quick, one after another).
    /// </summary>
    public TimeSpan WarmupTime { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The compare command's amounts of work: --quick or the full run.</summary>
    public static CompareSettings ForCommand(IReadOnlyList<int> sizes, IReadOnlyList<Transport> transports, bool quick, string? jsonPath) =>
        quick
            ? new(sizes, transports, Rounds: 2, WarmupRoundTrips: 1_000, MeasuredRoundTrips: 10_000, TimeSpan.FromSeconds(0.25), JsonPath: jsonPath) { WarmupTime = TimeSpan.FromSeconds(1.5) }
            : new(sizes, transports, Rounds: 3, WarmupRoundTrips: 10_000, MeasuredRoundTrips: 100_000, TimeSpan.FromSeconds(2), JsonPath: jsonPath);
}

/// <summary>One transport × size × measurement in one round, or the median of the rounds.</summary>
internal sealed record Sample(
    Transport Transport,
    int Size,
    string Measurement,
    double? P50Ns,
    double? P90Ns,
    double? P99Ns,
    double? P999Ns,
    double? MaxNs,
    double? MessagesPerSecond,
    double? MegabytesPerSecond,
    double ParentCpuSeconds,
    double ChildCpuSeconds,
    double WallSeconds,
    double? SleepsPerMessage,
    double ParentAllocatedBytes)
{
    public const string RoundTrip = CompareRecord.RoundTrip;
    public const string Stream = CompareRecord.Stream;
}
