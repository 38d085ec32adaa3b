using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ring.Cli;

/// <summary>One segment in <c>ring ls --json</c>.</summary>
internal sealed class SegmentSummaryJson
{
    public required string Name { get; init; }
    public required string Path { get; init; }
    public required string Kind { get; init; }
    public required long Capacity { get; init; }
    public required int SlotCount { get; init; }
    public required int MaxMessageLength { get; init; }
    public required long BytesInRing { get; init; }
    public required long MessagesInRing { get; init; }
    public required int LiveParticipants { get; init; }
    public required int DeadParticipants { get; init; }
    public required int AttachedProcesses { get; init; }
    public required bool Stale { get; init; }
    public required string Mode { get; init; }
    public required uint OwnerUid { get; init; }
    public required string Owner { get; init; }

    public static SegmentSummaryJson From(FoundSegment found)
    {
        SegmentStatus s = found.Status;
        int live = s.Participants.Count(p => p.IsAlive);
        return new SegmentSummaryJson
        {
            Name = found.Name,
            Path = s.Path,
            Kind = StatusText.Kind(s.Kind),
            Capacity = s.Capacity,
            SlotCount = s.SlotCount,
            MaxMessageLength = s.MaxMessageLength,
            BytesInRing = s.BytesInRing,
            MessagesInRing = s.MessagesInRing,
            LiveParticipants = live,
            DeadParticipants = s.Participants.Count - live,
            AttachedProcesses = s.AttachedProcesses,
            Stale = s.IsStale,
            Mode = Units.FormatMode(s.Mode),
            OwnerUid = s.OwnerUid,
            Owner = Users.Name(s.OwnerUid),
        };
    }
}

/// <summary>A skipped directory entry in <c>ring ls --json</c>.</summary>
internal sealed class SkippedJson
{
    public required string Path { get; init; }
    public required string Reason { get; init; }
}

/// <summary><c>ring ls --json</c>.</summary>
internal sealed class ListingJson
{
    public required IReadOnlyList<string> Directories { get; init; }
    public required IReadOnlyList<SegmentSummaryJson> Segments { get; init; }
    public required IReadOnlyList<SkippedJson> Skipped { get; init; }
}

/// <summary>One participant-table entry in <c>ring stat --json</c>.</summary>
internal sealed class ParticipantJson
{
    public required int Index { get; init; }
    public required int Pid { get; init; }
    public required string Role { get; init; }
    public required bool Alive { get; init; }
    public required DateTimeOffset AttachedAt { get; init; }
}

/// <summary>Counter rates between two samples of <c>ring stat --watch</c>.</summary>
internal sealed class RatesJson
{
    public required double IntervalS { get; init; }
    public required double MessagesWrittenPerS { get; init; }
    public required double MessagesReadPerS { get; init; }
    public required double MbWrittenPerS { get; init; }
    public required double MbReadPerS { get; init; }
    public required double WakesPerS { get; init; }
}

/// <summary><c>ring stat --json</c>: every field of the library's SegmentStatus, plus rates under --watch.</summary>
internal sealed class StatusJson
{
    public required string Name { get; init; }
    public required string Path { get; init; }
    public required string Kind { get; init; }
    public required long FileLength { get; init; }
    public required long Capacity { get; init; }
    public required int SlotCount { get; init; }
    public required int MaxMessageLength { get; init; }
    public required long BytesInRing { get; init; }
    public required long MessagesInRing { get; init; }
    public required int CreatorPid { get; init; }
    public required uint OwnerUid { get; init; }
    public required string Owner { get; init; }
    public required string Mode { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? LastAttachAt { get; init; }
    public DateTimeOffset? LastDetachAt { get; init; }
    public required bool Stale { get; init; }
    public required int AttachedProcesses { get; init; }
    public required IReadOnlyList<ParticipantJson> Participants { get; init; }
    public required int ReadersWaiting { get; init; }
    public required int WritersWaiting { get; init; }
    public required long MessagesWritten { get; init; }
    public required long BytesWritten { get; init; }
    public required long MessagesRead { get; init; }
    public required long BytesRead { get; init; }
    public required long FullEvents { get; init; }
    public required long EmptyEvents { get; init; }
    public required long Sleeps { get; init; }
    public required long Wakes { get; init; }
    public required long Recoveries { get; init; }
    public required long LostInDelivery { get; init; }
    public RatesJson? Rates { get; init; }

    public static StatusJson From(string name, SegmentStatus s, Rates? rates) => new()
    {
        Name = name,
        Path = s.Path,
        Kind = StatusText.Kind(s.Kind),
        FileLength = s.FileLength,
        Capacity = s.Capacity,
        SlotCount = s.SlotCount,
        MaxMessageLength = s.MaxMessageLength,
        BytesInRing = s.BytesInRing,
        MessagesInRing = s.MessagesInRing,
        CreatorPid = s.CreatorPid,
        OwnerUid = s.OwnerUid,
        Owner = Users.Name(s.OwnerUid),
        Mode = Units.FormatMode(s.Mode),
        CreatedAt = s.CreatedAt,
        LastAttachAt = s.LastAttachAt,
        LastDetachAt = s.LastDetachAt,
        Stale = s.IsStale,
        AttachedProcesses = s.AttachedProcesses,
        Participants = s.Participants.Select(p => new ParticipantJson
        {
            Index = p.Index,
            Pid = p.Pid,
            Role = StatusText.Role(p.Roles),
            Alive = p.IsAlive,
            AttachedAt = p.AttachedAt,
        }).ToArray(),
        ReadersWaiting = s.ReadersWaiting,
        WritersWaiting = s.WritersWaiting,
        MessagesWritten = s.MessagesWritten,
        BytesWritten = s.BytesWritten,
        MessagesRead = s.MessagesRead,
        BytesRead = s.BytesRead,
        FullEvents = s.FullEvents,
        EmptyEvents = s.EmptyEvents,
        Sleeps = s.Sleeps,
        Wakes = s.Wakes,
        Recoveries = s.Recoveries,
        LostInDelivery = s.LostInDelivery,
        Rates = rates is null ? null : new RatesJson
        {
            IntervalS = rates.Interval.TotalSeconds,
            MessagesWrittenPerS = rates.MessagesWritten,
            MessagesReadPerS = rates.MessagesRead,
            MbWrittenPerS = rates.MegabytesWritten,
            MbReadPerS = rates.MegabytesRead,
            WakesPerS = rates.Wakes,
        },
    };
}

/// <summary>
/// Source-generated serialization: the library is AOT-compatible and this tool keeps to that, so no
/// reflection-based JsonSerializer. One object per line (compact), which also suits --watch.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ListingJson))]
[JsonSerializable(typeof(StatusJson))]
internal sealed partial class CliJsonContext : JsonSerializerContext
{
    public static string Serialize(ListingJson listing) => JsonSerializer.Serialize(listing, Default.ListingJson);

    public static string Serialize(StatusJson status) => JsonSerializer.Serialize(status, Default.StatusJson);
}
