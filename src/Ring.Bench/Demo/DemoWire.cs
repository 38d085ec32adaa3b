using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Ring.Bench.Common;

namespace Ring.Bench.Demo;

/// <summary>
/// What the demo's two processes send each other. Every message starts with an 8-byte tag: a data message's
/// tag is its sequence number (0 and up), a control message's tag is negative and a fixed-size payload follows.
/// </summary>
internal static class DemoWire
{
    public const int TagLength = sizeof(long);

    /// <summary>The back segment: the child-to-parent direction of the pair.</summary>
    public static string BackSegmentName(string forwardName) => forwardName + "-back";

    public static long TagOf(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadInt64LittleEndian(message);

    public static int LengthOf<T>() where T : unmanaged => TagLength + Unsafe.SizeOf<T>();

    public static void WriteControl<T>(Span<byte> message, DemoTag tag, in T payload) where T : unmanaged
    {
        BinaryPrimitives.WriteInt64LittleEndian(message, (long)tag);
        MemoryMarshal.Write(message[TagLength..], in payload);
    }

    /// <summary>Reads a control message that must be <paramref name="tag"/>; anything else is a protocol failure.</summary>
    public static T ReadControl<T>(ReadOnlySpan<byte> message, DemoTag tag, string sender) where T : unmanaged
    {
        if (message.Length != LengthOf<T>() || TagOf(message) != (long)tag)
        {
            string found = message.Length >= TagLength ? $"tag {TagOf(message)}" : "no tag";
            throw new BenchFailure($"expected {tag} from the {sender} ({LengthOf<T>()} bytes) but got {message.Length} bytes with {found}");
        }
        return MemoryMarshal.Read<T>(message[TagLength..]);
    }
}

internal enum DemoTag : long
{
    EndOfStream = -1,
    Stop = -2,
    Ready = -3,
    StreamReport = -4,
    FinalReport = -5,
}

/// <summary>Child to parent: attached to both rings, ready for the stream.</summary>
internal readonly record struct ReadyMessage(int Pid);

/// <summary>Parent to child, after the last stream message.</summary>
internal readonly record struct EndOfStreamMessage(long Sent);

/// <summary>Parent to child, after the last ping.</summary>
internal readonly record struct StopMessage(long Pings);

/// <summary>Child to parent: the stream as the receiver saw it.</summary>
internal readonly record struct StreamReport(
    long Received,
    long PayloadBytes,
    TimeSpan Elapsed,
    long OutOfOrder,
    long FirstExpected,
    long FirstActual,
    long WrongLength,
    long SentPerParent,
    long AllocatedBytes);

/// <summary>Child to parent, just before the child exits.</summary>
internal readonly record struct FinalReport(long Echoed, TimeSpan CpuTime, TimeSpan WallTime, long AllocatedBytes);
