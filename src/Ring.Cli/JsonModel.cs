using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Ring.Cli;

/// <summary>
/// What <c>ring ls --json</c> and <c>ring stat --json</c> print: the library's <see cref="SegmentStatus"/> itself,
/// serialized through the source-generated <see cref="CliJsonContext"/>, so a field added to the record reaches
/// the JSON without a copy here. One object per line (compact), which also suits --watch.
/// </summary>
internal static class JsonModel
{
    /// <summary>
    /// The fields ring printed under other names than the record's before it serialized the record, kept so that
    /// scripts reading them go on working.
    /// </summary>
    private static readonly Dictionary<string, string> Renamed = new()
    {
        ["is_stale"] = "stale",
        ["is_alive"] = "alive",
        ["roles"] = "role",
    };

    private static readonly JsonSerializerOptions Options = new(CliJsonContext.Default.Options)
    {
        TypeInfoResolver = CliJsonContext.Default.WithAddedModifier(Rename),
        // A terminal or a script reads this, not a web page: "+00:00" and a path's "é" as they are, not as \u escapes
        // (the default escaping would also turn the timestamps' "+" into \u002B once they pass through a JsonObject).
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>One segment's status, and the counter rates between two samples under <c>stat --watch</c>.</summary>
    public static string Status(SegmentStatus status, Rates? rates)
    {
        JsonObject json = Segment(status);
        if (rates is not null) json["rates"] = JsonSerializer.SerializeToNode(rates, Info<Rates>());
        return json.ToJsonString(Options);
    }

    /// <summary>The listing: every segment's status under the name <c>ls</c> shows it by, and what was skipped.</summary>
    public static string Listing(IReadOnlyList<string> directories, IEnumerable<FoundSegment> segments, IEnumerable<SkippedEntry> skipped) =>
        JsonSerializer.Serialize(
            new ListingJson(directories, [.. segments.Select(found => Segment(found.Status with { Name = found.Name }))], [.. skipped]),
            Info<ListingJson>());

    /// <summary>
    /// The record as its contract says, and what only the CLI adds: the owner's name beside the uid, and the
    /// participants counted live and dead (ls's LIVE/DEAD column).
    /// </summary>
    private static JsonObject Segment(SegmentStatus status)
    {
        JsonObject json = JsonSerializer.SerializeToNode(status, Info<SegmentStatus>())!.AsObject();
        json.Insert(json.IndexOf("owner_uid") + 1, "owner", Users.Name(status.OwnerUid));
        int live = status.Participants.Count(p => p.IsAlive);
        json["live_participants"] = live;
        json["dead_participants"] = status.Participants.Count - live;
        return json;
    }

    private static JsonTypeInfo<T> Info<T>() => (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));

    /// <summary>The record's contract under ring's names.</summary>
    private static void Rename(JsonTypeInfo type)
    {
        foreach (JsonPropertyInfo property in type.Properties)
        {
            if (Renamed.TryGetValue(property.Name, out string? name)) property.Name = name;
        }
    }
}

/// <summary><c>ring ls --json</c>.</summary>
internal sealed record ListingJson(IReadOnlyList<string> Directories, IReadOnlyList<JsonObject> Segments, IReadOnlyList<SkippedEntry> Skipped);

/// <summary>The words ring prints for a kind, a role and a mode, in the JSON as in the text.</summary>
internal sealed class KindConverter : WriteOnlyConverter<RingKind>
{
    public override void Write(Utf8JsonWriter writer, RingKind value, JsonSerializerOptions options) => writer.WriteStringValue(StatusText.Kind(value));
}

/// <inheritdoc cref="KindConverter"/>
internal sealed class RoleConverter : WriteOnlyConverter<RingRole>
{
    public override void Write(Utf8JsonWriter writer, RingRole value, JsonSerializerOptions options) => writer.WriteStringValue(StatusText.Role(value));
}

/// <inheritdoc cref="KindConverter"/>
internal sealed class ModeConverter : WriteOnlyConverter<UnixFileMode>
{
    public override void Write(Utf8JsonWriter writer, UnixFileMode value, JsonSerializerOptions options) => writer.WriteStringValue(Units.FormatMode(value));
}

/// <summary>ring writes JSON and never reads it back.</summary>
internal abstract class WriteOnlyConverter<T> : JsonConverter<T>
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException($"ring does not read {typeof(T).Name} from JSON");
}

/// <summary>
/// Source-generated serialization: the library is AOT-compatible and this tool keeps to that, so no
/// reflection-based JsonSerializer. A field that has no value is written as null rather than left out, so a
/// script sees the same fields for every segment.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    Converters = [typeof(KindConverter), typeof(RoleConverter), typeof(ModeConverter)])]
[JsonSerializable(typeof(ListingJson))]
[JsonSerializable(typeof(SegmentStatus))]
[JsonSerializable(typeof(Rates))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
