namespace Ring.Bench.Compare;

/// <summary>The compare command's options, parsed, and the amounts of work they imply.</summary>
internal sealed record CompareSettings(IReadOnlyList<int> Sizes, IReadOnlyList<Transport> Transports, bool Quick, string? JsonPath)
{
    public int Rounds => Quick ? 2 : 3;

    public int WarmupRoundTrips => Quick ? 1_000 : 10_000;

    public int MeasuredRoundTrips => Quick ? 10_000 : 100_000;

    public TimeSpan StreamDuration => TimeSpan.FromSeconds(Quick ? 0.25 : 2);
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
