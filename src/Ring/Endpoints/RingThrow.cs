using System.Diagnostics.CodeAnalysis;
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
    public static void NoClaim(string operation) =>
        throw new InvalidOperationException($"There is no claim to {operation}.");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void CommitLength(int length, int claimed) =>
        throw new ArgumentOutOfRangeException(nameof(length), length, $"The commit length must be from 0 to the claimed {claimed} bytes.");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void DestinationTooShort(int destination, int length) =>
        throw new ArgumentException($"The destination holds {destination} bytes but the next message has {length}; it stays in the ring.", "destination");

    /// <summary>An async read or write found the ring completed: no message will come, no room will be taken.</summary>
    public static InvalidOperationException CompletedError() => new("The ring is completed.");
}
