using System.Buffers.Binary;
using Ring.Bench.Common;

namespace Ring.Bench.Compare;

/// <summary>
/// Control messages between the harness and its child. They are as long as data messages (at least
/// <see cref="MinMessageSize"/>), so the floor's fixed slots carry them too: a negative tag, then 64-bit values.
/// </summary>
internal static class CompareWire
{
    public const int MinMessageSize = 64;
    private const int TagLength = sizeof(long);

    public static long TagOf(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadInt64LittleEndian(message);

    public static long ValueAt(ReadOnlySpan<byte> message, int index) => BinaryPrimitives.ReadInt64LittleEndian(message[(TagLength + index * sizeof(long))..]);

    public static void Send(IChannel channel, Span<byte> message, CompareTag tag, params ReadOnlySpan<long> values)
    {
        message.Clear();
        BinaryPrimitives.WriteInt64LittleEndian(message, (long)tag);
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(message[(TagLength + i * sizeof(long))..], values[i]);
        channel.Send(message);
    }

    /// <summary>Receives a control message that must be <paramref name="tag"/>; anything else is a protocol failure.</summary>
    public static void Receive(IChannel channel, Span<byte> message, CompareTag tag, string sender)
    {
        int length = channel.Receive(message);
        if (length != message.Length || TagOf(message) != (long)tag)
            throw new BenchFailure($"expected {tag} from the {sender} but got {length} bytes with tag {TagOf(message)}");
    }
}

internal enum CompareTag : long
{
    /// <summary>Child: attached; value 0 is its pid.</summary>
    Ready = -1,

    /// <summary>Parent: the round trips are over; value 0 is how many it sent.</summary>
    EndRoundTrips = -2,

    /// <summary>Child: values are pings echoed, CPU ns spent since Ready.</summary>
    RoundTripReport = -3,

    /// <summary>Parent: data messages that follow are a stream.</summary>
    StartStream = -4,

    /// <summary>Parent: the stream is over; value 0 is how many it sent.</summary>
    EndStream = -5,

    /// <summary>Child: values are received, ns from first message to end, sequence breaks, wrong lengths, CPU ns, sent per parent.</summary>
    StreamReport = -6,

    /// <summary>Parent: exit now.</summary>
    Quit = -7,
}
