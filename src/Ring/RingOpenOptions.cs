using Microsoft.Extensions.Logging;
using Ring.Platform.Linux;

namespace Ring;

/// <summary>
/// Whom an opener trusts. A segment is memory shared with whoever can write its file or its directory: such a user
/// can show readers any message, corrupt the ring, or truncate the file so that every process mapping it dies with
/// SIGBUS. So Ring uses a segment only when its file and its directory belong to the caller's effective uid or to
/// an owner named here, and the directory is writable by nobody else. Root is no exception.
/// </summary>
/// <remarks>
/// Cross-user sharing: the creator picks a mode that lets the other side in (0660 and a group, in a 0750
/// directory of its own), and the other side names the creator's uid in <see cref="TrustedOwners"/>.
/// </remarks>
public sealed record RingOpenOptions
{
    /// <summary>Trusts the caller's effective uid only.</summary>
    internal static RingOpenOptions Default { get; } = new();

    /// <summary>
    /// Uids whose segment files and segment directories are accepted besides the caller's own effective uid,
    /// which is always trusted. Empty by default.
    /// </summary>
    public IReadOnlyCollection<uint> TrustedOwners { get; init; } = [];

    /// <summary>The message type the opener requires the segment to be pinned to; none by default.</summary>
    internal MessageType MessageType { get; init; }

    /// <summary>
    /// These options, requiring the segment to be pinned to messages of type <typeparamref name="T"/>
    /// (<see cref="RingOptions.WithMessageType{T}"/>): opening a segment pinned to another type, or not pinned at all,
    /// fails with <see cref="RingMessageTypeException"/>, so a program built against another version of the message
    /// type fails at open, not at its first message.
    /// </summary>
    public RingOpenOptions WithMessageType<T>() where T : unmanaged => this with { MessageType = MessageType.Of<T>() };

    /// <summary>
    /// Where a segment attached with these options logs its rare events (recoveries, lost peers, corruption, stale
    /// segments replaced or removed); see <see cref="RingOptions.LoggerFactory"/>. Null by default: nothing is logged.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    internal bool Trusts(uint uid) => uid == Posix.EffectiveUid || TrustedOwners.Contains(uid);
}
