using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Ring;

/// <summary>The endpoints' throw sites, kept out of line so the hot paths that guard them stay small.</summary>
internal static class RingThrow
{
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void Disposed(string endpoint) => throw new ObjectDisposedException(endpoint);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void TooLong(int length, string segmentName, int maxMessageLength) =>
        throw new ArgumentException(
            length < 0 ? $"The message length must not be negative (got {length})."
                       : $"The message is {length} bytes; segment '{segmentName}' allows at most {maxMessageLength}.",
            "message");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ClaimOutstanding() =>
        throw new InvalidOperationException("A claim is outstanding: commit or abort it first.");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void UnpublishedBatch() =>
        throw new InvalidOperationException("The open batch has unpublished messages: publish them before waiting for room, which only a reader that sees them can free.");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void PeekedUnreleased(int count) =>
        throw new InvalidOperationException($"{count} peeked messages are unreleased: release them before reading, which gives back room up to where it reads.");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void NotPeeked(long position) =>
        throw new ArgumentOutOfRangeException(nameof(position), position, "No unreleased peeked message ends at this position; nothing was released.");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void NoClaim(string operation) =>
        throw new InvalidOperationException($"There is no claim to {operation}.");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void CommitLength(int length, int claimed) =>
        throw new ArgumentOutOfRangeException(nameof(length), length, $"The commit length must be from 0 to the claimed {claimed} bytes.");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void DestinationTooShort(int destination, int length) =>
        throw new ArgumentException($"The destination holds {destination} bytes but the next message has {length}; it stays in the ring.", "destination");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void WrongMessageLength(int expected, int length) =>
        throw new RingMessageTypeException(expected, length,
            $"The next message has {length} bytes, not the {expected} of the type asked for; it stays in the ring.");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void PinnedToAnotherType(MessageType asked, int pinnedSize, long pinnedTag) =>
        throw PinnedTypeMismatch(asked, pinnedSize, pinnedTag, "the call");

    public static RingMessageTypeException PinnedTypeMismatch(MessageType asked, int pinnedSize, long pinnedTag, string who) =>
        new(asked.Size, pinnedSize, pinnedSize == 0
            ? $"{who} asks for messages of {asked}, but the segment is not pinned to a message type."
            : $"{who} asks for messages of {asked}, but the segment is pinned to a type of {pinnedSize} bytes with tag 0x{pinnedTag:X16}.");

    /// <summary>
    /// A corrupted ring. The detail is a composite format filled here, not an interpolated string at the throw site:
    /// an interpolation builds its handler in the caller, which puts a zeroed stack buffer in the prologue of every
    /// hot method that merely guards a throw.
    /// </summary>
    /// <remarks>The segment's logger, if it has one, hears of it first (<see cref="RingSegment.LogCorruption"/>).</remarks>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void Corrupted(RingSegment segment, RingCorruptionRule rule, string detail)
    {
        segment.LogCorruption(rule, detail);
        throw new RingCorruptedException(rule, $"ring in segment '{segment.Name}' is corrupted ({rule}): {detail}.");
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void Corrupted<T1, T2>(RingSegment segment, RingCorruptionRule rule, string format, T1 arg1, T2 arg2) =>
        Corrupted(segment, rule, string.Format(CultureInfo.InvariantCulture, format, arg1, arg2));

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void Corrupted<T1, T2, T3>(RingSegment segment, RingCorruptionRule rule, string format, T1 arg1, T2 arg2, T3 arg3) =>
        Corrupted(segment, rule, string.Format(CultureInfo.InvariantCulture, format, arg1, arg2, arg3));
}
