namespace Ring;

/// <summary>Base type of every failure Ring reports about a segment or a ring.</summary>
public class RingException : IOException
{
    /// <summary>Creates the exception with its message.</summary>
    public RingException(string message) : base(message) { }

    /// <summary>Creates the exception with its message and the failure that caused it.</summary>
    public RingException(string message, Exception? inner) : base(message, inner) { }
}

/// <summary><c>Open</c> found no segment of that name.</summary>
public sealed class SegmentNotFoundException(string message) : RingException(message);

/// <summary><c>Create</c> found a segment of that name already there.</summary>
public sealed class SegmentExistsException(string message) : RingException(message);

/// <summary>The file system holding segments has no room for the segment being created.</summary>
public sealed class SegmentSpaceException(string message) : RingException(message);

/// <summary>
/// The file is not a segment this version of Ring can use: a header field is wrong, the checksum does not
/// match, or the file is shorter than its header says. <see cref="Field"/> names the first field that failed.
/// </summary>
public sealed class SegmentFormatException(string field, string message) : RingException(message)
{
    /// <summary>The header field that failed validation, as named in the layout table.</summary>
    public string Field { get; } = field;
}

/// <summary>
/// A typed call met another type than it was asked for: the next message's length is not <c>sizeof(T)</c> (the
/// message stays in the ring, for a byte read or a read of the right type), or the segment is pinned to another
/// message type (<see cref="RingOptions.WithMessageType{T}"/>) than the opener or the typed call names.
/// </summary>
public sealed class RingMessageTypeException(int expectedLength, int actualLength, string message) : RingException(message)
{
    /// <summary>The size of the type the call asked for, in bytes.</summary>
    public int ExpectedLength { get; } = expectedLength;

    /// <summary>The length of the message found, or the size of the type the segment is pinned to (0 when it is not pinned).</summary>
    public int ActualLength { get; } = actualLength;
}

/// <summary>
/// A live process already holds the role (producer or consumer) that an SPSC ring allows only once.
/// </summary>
public sealed class RingRoleTakenException(RingRole role, int holderPid, string message) : RingException(message)
{
    /// <summary>The role that was asked for.</summary>
    public RingRole Role { get; } = role;

    /// <summary>The process id the holder recorded, or 0 when it had not recorded one yet.</summary>
    public int HolderPid { get; } = holderPid;
}

/// <summary>
/// The ring is completed (<see cref="RingWriter.Complete()"/>): a write after it, or a read once every message
/// committed before it has been read. Completion is sticky and visible to every process.
/// </summary>
public class RingCompletedException : RingException
{
    /// <summary>Creates the exception with the completer's reason (null when it gave none) and a message.</summary>
    public RingCompletedException(string? reason, string message) : base(message) => Reason = reason;

    /// <summary>Why the ring ended, as its completer (or the peer-loss rule) said; null when no reason was given.</summary>
    public string? Reason { get; }
}

/// <summary>
/// An endpoint created with <see cref="PeerLoss.Complete"/> found every peer gone: at least one producer (for a
/// reader) or consumer (for a writer) had attached, none is alive any more, and nothing is left to read (or no room
/// will come). It is a <see cref="RingCompletedException"/> whose <see cref="RingCompletedException.Reason"/> says
/// who went how.
/// </summary>
public sealed class RingPeerLostException(string reason, string message) : RingCompletedException(reason, message);

/// <summary>
/// A broadcast subscriber of an <see cref="BroadcastOverflow.Overwrite"/> ring fell a whole ring behind: the publisher
/// overwrote <see cref="LostMessages"/> messages it had not read. The subscriber has moved on to the oldest message
/// still intact, which its next read returns; nothing torn or overwritten was ever handed out.
/// </summary>
public sealed class RingLappedException(long lostMessages, string message) : RingException(message)
{
    /// <summary>How many messages the subscriber lost, exactly: the sequence it resumes at minus the one it expected.</summary>
    public long LostMessages { get; } = lostMessages;
}

/// <summary>
/// A counter or record read from shared memory breaks the ring's invariants (another process wrote
/// garbage into the segment). The ring refuses to go on rather than hand out wrong bytes.
/// <see cref="Rule"/> names the check that failed.
/// </summary>
public sealed class RingCorruptedException(RingCorruptionRule rule, string message) : RingException(message)
{
    /// <summary>The invariant the value broke, as listed in docs/design.md ("Untrusted values").</summary>
    public RingCorruptionRule Rule { get; } = rule;
}

/// <summary>
/// The checks an endpoint applies to values it reads from the segment, each one a state no valid history of the
/// ring can produce; <see cref="RingCorruptedException.Rule"/> names the one that failed.
/// </summary>
public enum RingCorruptionRule
{
    /// <summary>SPSC: tail − head is not within 0..Capacity.</summary>
    PositionDistance = 1,

    /// <summary>SPSC: head or tail is not a multiple of 8.</summary>
    PositionAlignment,

    /// <summary>
    /// A position is negative; positions start at 0 and only grow. SPSC checks the head (the tail is then within
    /// Capacity of it), MPMC the head or tail position a call is about to claim.
    /// </summary>
    NegativePosition,

    /// <summary>SPSC: the tail moved behind the position the reader has already read up to.</summary>
    TailBehindRead,

    /// <summary>SPSC and broadcast: a record's type is neither message (1) nor padding (2).</summary>
    RecordType,

    /// <summary>SPSC and broadcast: a message's length is negative or above MaxMessageLength.</summary>
    RecordLength,

    /// <summary>SPSC and broadcast: a message ends past the committed bytes (the tail).</summary>
    RecordPastTail,

    /// <summary>SPSC and broadcast: a message ends past the end of the data region (records never wrap).</summary>
    RecordPastEnd,

    /// <summary>SPSC and broadcast: a padding record reaches past the committed bytes.</summary>
    PaddingPastTail,

    /// <summary>SPSC and broadcast: a padding record is at least as long as the longest record; a writer pads only for a record that does not fit.</summary>
    PaddingLength,

    /// <summary>MPMC: a published slot's length is negative or above MaxMessageLength.</summary>
    SlotLength,

    /// <summary>MPMC: a slot's sequence is none that a valid history leaves at the head (reader) or the tail (writer).</summary>
    SlotSequence,

    /// <summary>MPMC: a slot's sequence is ahead of the position, but the head (reader) or tail (writer) has not moved past it.</summary>
    SequenceAhead,

    /// <summary>MPMC: the skip flag on a sequence that does not publish a position (a free slot's).</summary>
    SkipFlag,

    /// <summary>
    /// Broadcast: a subscriber's cursor, the reclaim position or the oldest position is none a valid history leaves:
    /// ahead of the tail, not a multiple of 8, negative (a cursor may be −1, not gating), the oldest record below the
    /// reclaim position, or a subscriber the publisher waits for lapped all the same.
    /// </summary>
    BroadcastPosition,

    /// <summary>Broadcast: a message's sequence is not the one after the last message the subscriber read.</summary>
    SequenceGap,
}

/// <summary>
/// Ring refused a segment file or segment directory that someone it does not trust could change: it belongs to a
/// uid other than the caller's and not named in <see cref="RingOpenOptions.TrustedOwners"/>, the directory is
/// writable by group or others, or the path is a symbolic link. Whoever can write a segment (or replace it in its
/// directory) can show its readers any data and truncate it under their mapping, so this holds for root too.
/// </summary>
public sealed class SegmentAccessException(string path, uint ownerUid, UnixFileMode mode, string message) : RingException(message)
{
    /// <summary>The directory or file that was refused.</summary>
    public string Path { get; } = path;

    /// <summary>Its owner.</summary>
    public uint OwnerUid { get; } = ownerUid;

    /// <summary>Its permission bits.</summary>
    public UnixFileMode Mode { get; } = mode;
}
