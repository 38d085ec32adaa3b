using System.Text.Json.Serialization;

namespace Ring.Bench.Compare;

/// <summary>
/// One record of <c>compare --json</c>: the medians of one transport × size × measurement, and each round's
/// figure they are the median of (null where the measurement has no such figure). <c>cpu_s</c> is parent plus
/// child, user+sys, over the measurement. Ring.Bench.Chart reads these records back: it compiles this file too.
/// </summary>
internal sealed record CompareRecord(
    [property: JsonPropertyName("transport")] string Transport,
    [property: JsonPropertyName("family")] string Family,
    [property: JsonPropertyName("size")] int Size,
    [property: JsonPropertyName("measurement")] string Measurement,
    [property: JsonPropertyName("rounds")] int Rounds,
    [property: JsonPropertyName("p50_ns")] double? P50Ns,
    [property: JsonPropertyName("p99_ns")] double? P99Ns,
    [property: JsonPropertyName("p999_ns")] double? P999Ns,
    [property: JsonPropertyName("msgs_per_s")] double? MessagesPerSecond,
    [property: JsonPropertyName("mb_per_s")] double? MegabytesPerSecond,
    [property: JsonPropertyName("cpu_s")] double? CpuSeconds,
    [property: JsonPropertyName("p50_ns_rounds")] double[]? P50NsRounds,
    [property: JsonPropertyName("p99_ns_rounds")] double[]? P99NsRounds,
    [property: JsonPropertyName("msgs_per_s_rounds")] double[]? MessagesPerSecondRounds)
{
    public const string RoundTrip = "rtt";
    public const string Stream = "stream";
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(List<CompareRecord>))]
internal sealed partial class CompareJsonContext : JsonSerializerContext;
