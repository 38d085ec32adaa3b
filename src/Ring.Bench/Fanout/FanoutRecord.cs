using System.Text.Json.Serialization;

namespace Ring.Bench.Fanout;

/// <summary>One record of <c>fanout --json</c>: the medians of one transport × subscriber count × size, and each round's publisher rate.</summary>
internal sealed record FanoutRecord(
    [property: JsonPropertyName("transport")] string Transport,
    [property: JsonPropertyName("subscribers")] int Subscribers,
    [property: JsonPropertyName("size")] int Size,
    [property: JsonPropertyName("rounds")] int Rounds,
    [property: JsonPropertyName("published_per_s")] double PublishedPerSecond,
    [property: JsonPropertyName("slowest_subscriber_per_s")] double SlowestSubscriberPerSecond,
    [property: JsonPropertyName("cpu_s")] double CpuSeconds,
    [property: JsonPropertyName("published_per_s_rounds")] double[] PublishedPerSecondRounds);

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(List<FanoutRecord>))]
internal sealed partial class FanoutJsonContext : JsonSerializerContext;
