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
    /// <summary>The compare command's amounts of work: --quick or the full run.</summary>
    public static CompareSettings ForCommand(IReadOnlyList<int> sizes, IReadOnlyList<Transport> transports, bool quick, string? jsonPath) =>
        quick
            ? new(sizes, transports, Rounds: 2, WarmupRoundTrips: 1_000, MeasuredRoundTrips: 10_000, TimeSpan.FromSeconds(0.25), JsonPath: jsonPath)
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
