using Microsoft.Extensions.Logging;

namespace Ring;

/// <summary>
/// The rare events a service operator must see, logged to the <see cref="ILoggerFactory"/> of
/// <see cref="RingOptions.LoggerFactory"/> or <see cref="RingOpenOptions.LoggerFactory"/>. Event ids are stable:
/// alerts key on them. Every call site is on a path the ring takes only when something went wrong (a dead
/// participant, a lost peer, a corrupted segment, a stale one), never on a message's write or read, and reaches
/// the logger through a null-conditional call, so a segment without a logger pays a null test there and nothing else.
/// </summary>
internal static partial class RingLog
{
    /// <summary>The logger category, the same name as the meter.</summary>
    public const string Category = "Ring";

    [LoggerMessage(EventId = 1, EventName = "PositionRecovered", Level = LogLevel.Warning,
        Message = "Ring '{Segment}': position {Position} was held by a dead {DeadRole} and is completed for it (lost in delivery: {LostInDelivery})")]
    public static partial void PositionRecovered(this ILogger logger, string segment, long position, string deadRole, bool lostInDelivery);

    [LoggerMessage(EventId = 2, EventName = "PeerLost", Level = LogLevel.Warning,
        Message = "Ring '{Segment}': a {Endpoint} under PeerLoss.Complete ends its stream: {Reason}")]
    public static partial void PeerLost(this ILogger logger, string segment, string endpoint, string reason);

    [LoggerMessage(EventId = 3, EventName = "RingCorrupted", Level = LogLevel.Error,
        Message = "Ring '{Segment}' is corrupted ({Rule}): {Detail}")]
    public static partial void Corrupted(this ILogger logger, string segment, RingCorruptionRule rule, string detail);

    [LoggerMessage(EventId = 4, EventName = "StaleSegmentReset", Level = LogLevel.Warning,
        Message = "Ring '{Segment}': the stale segment at {Path} (every participant died attached) is replaced by a new empty one")]
    public static partial void StaleSegmentReset(this ILogger logger, string segment, string path);

    [LoggerMessage(EventId = 5, EventName = "StaleSegmentRemoved", Level = LogLevel.Information,
        Message = "Ring '{Segment}': the stale segment at {Path} (every participant died attached) is removed")]
    public static partial void StaleSegmentRemoved(this ILogger logger, string segment, string path);

    public static string RoleName(RingRole role) => role == RingRole.Producer ? "producer" : "consumer";
}
