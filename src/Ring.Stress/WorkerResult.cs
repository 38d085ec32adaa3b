using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ring.Stress;

/// <summary>
/// The one line a worker prints when it is done. For a producer the violation counters stay 0; a consumer
/// fills them from its <see cref="MessageVerifier"/> and its own wait checks.
/// </summary>
public sealed class WorkerResult
{
    /// <summary>"producer" or "consumer".</summary>
    public required string Role { get; init; }

    /// <summary>Messages written (producer) or read from the ring, intact or not (consumer).</summary>
    public long Messages { get; init; }

    /// <summary>Payload bytes of those messages.</summary>
    public long Bytes { get; init; }

    /// <summary>Sequences never delivered intact.</summary>
    public long Lost { get; init; }

    /// <summary>Intact messages delivered again.</summary>
    public long Duplicated { get; init; }

    /// <summary>Intact messages that came after a higher sequence.</summary>
    public long Reordered { get; init; }

    /// <summary>Messages that were not what the producer sent.</summary>
    public long Corrupted { get; init; }

    /// <summary>Reads that timed out although a message had been waiting in the ring.</summary>
    public long LostWakeups { get; init; }

    /// <summary>Longest receive-minus-send time of an intact message (consumer only).</summary>
    public long MaxLatencyUs { get; init; }

    /// <summary>Wall time of the run, attach excluded.</summary>
    public double ElapsedS { get; init; }

    /// <summary>Pauses the worker took between bursts.</summary>
    public long Pauses { get; init; }

    /// <summary>
    /// How the stream ended, if it did: <see cref="StreamEnd.Completed"/> (the ring was completed: by this producer,
    /// or seen by this consumer once it had read everything before it) or <see cref="StreamEnd.PeerLost"/> (every
    /// process at the other end was gone, with <see cref="PeerLoss.Complete"/>); null when it did not end.
    /// </summary>
    public string? Completion { get; init; }

    /// <summary>The completer's reason, or who of the peers went how; null when there was none.</summary>
    public string? CompletionReason { get; init; }

    /// <summary>Why the run stopped early, if it did.</summary>
    public string? Error { get; init; }

    /// <summary>True when the run saw any violation or stopped on an error.</summary>
    [JsonIgnore]
    public bool HasViolations => Lost != 0 || Duplicated != 0 || Reordered != 0 || Corrupted != 0 || LostWakeups != 0 || Error is not null;

    /// <summary>The single-line JSON form.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, StressJsonContext.Default.WorkerResult);

    /// <summary>Parses a line printed by <see cref="ToJson"/>.</summary>
    public static WorkerResult? FromJson(string json) => JsonSerializer.Deserialize(json, StressJsonContext.Default.WorkerResult);
}

/// <summary>Source-generated JSON for the worker's result line (reflection serialization is off under trimming/AOT).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(WorkerResult))]
public sealed partial class StressJsonContext : JsonSerializerContext;
