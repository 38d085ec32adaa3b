using System.Runtime.InteropServices;

namespace Ring;

/// <summary>
/// Messages written now and published together (<see cref="RingWriter.BeginBatch"/>): nothing written through the
/// batch is visible to readers before <see cref="Publish"/>, which publishes all of it with one store. Dispose it
/// (a <c>using</c>) to close it; what it wrote and did not publish is dropped. Not a ref struct, so a sender that
/// publishes every N messages can keep its batch in a field between calls; a copy of a closed batch throws.
/// </summary>
/// <remarks>
/// A full ring makes <see cref="TryWrite(ReadOnlySpan{byte})"/> return false; the records written so far hold their
/// room until they are published, so publish before waiting for room: a reader cannot free what it cannot see.
/// </remarks>
public readonly struct RingBatch : IDisposable
{
    private readonly RingWriter _writer;

    internal RingBatch(RingWriter writer) => _writer = writer;

    /// <summary>Copies the message into the ring without publishing it; false when the ring has no room for it now.</summary>
    /// <exception cref="ArgumentException">The message is longer than <see cref="RingWriter.MaxMessageLength"/>.</exception>
    public bool TryWrite(ReadOnlySpan<byte> message) => Writer.TryAppend(message);

    /// <summary>Copies <paramref name="value"/> into the ring as one message of <c>sizeof(T)</c> bytes, without publishing it.</summary>
    /// <exception cref="RingMessageTypeException">The segment is pinned to another message type.</exception>
    public bool TryWrite<T>(in T value) where T : unmanaged
    {
        Writer.CheckMessageType<T>();
        return Writer.TryAppend(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));
    }

    /// <summary>Makes every message written through the batch so far visible, with one store; the batch stays open.</summary>
    public void Publish() => Writer.PublishBatch();

    /// <summary>Closes the batch; what it wrote since the last <see cref="Publish"/> is dropped.</summary>
    public void Dispose() => _writer?.EndBatch();

    private RingWriter Writer => _writer ?? throw new InvalidOperationException("This batch was not opened by RingWriter.BeginBatch.");
}
