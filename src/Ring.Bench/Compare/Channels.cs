using System.Buffers.Binary;
using Ring.Bench.Common;

namespace Ring.Bench.Compare;

/// <summary>
/// One side of a two-way link between the harness and its child. Every message is exactly the measured
/// size; the first 8 bytes carry a sequence number (0 and up) or a negative control tag.
/// </summary>
internal interface IChannel : IDisposable
{
    void Send(ReadOnlySpan<byte> message);

    /// <summary>Waits for the next message, copies it into <paramref name="destination"/> and returns its length.</summary>
    int Receive(Span<byte> destination);

    /// <summary>Kernel sleeps so far on both directions, where the transport can tell; null elsewhere.</summary>
    long? Sleeps => null;
}

/// <summary>Two SPSC rings, one per direction, both ends waiting with one strategy.</summary>
internal sealed class RingChannel : IChannel
{
    private readonly RingSegment _outbound;
    private readonly RingSegment _inbound;
    private readonly RingWriter _writer;
    private readonly RingReader _reader;

    public RingChannel(RingSegment outbound, RingSegment inbound, WaitStrategy wait)
    {
        _outbound = outbound;
        _inbound = inbound;
        _writer = outbound.CreateWriter(wait);
        _reader = inbound.CreateReader(wait);
    }

    public void Send(ReadOnlySpan<byte> message) => _writer.Write(message);

    public int Receive(Span<byte> destination)
    {
        _reader.WaitToRead(Timeout.InfiniteTimeSpan);
        _reader.TryRead(destination, out int length); // the sole consumer: what WaitToRead saw is still there
        return length;
    }

    public long? Sleeps => _outbound.GetStatus().Sleeps + _inbound.GetStatus().Sleeps;

    public void Dispose()
    {
        _writer.Dispose();
        _reader.Dispose();
        _outbound.Dispose();
        _inbound.Dispose();
    }
}

/// <summary>
/// Two SPSC rings, busy-spinning, publishing in batches: the sender writes into a <see cref="RingBatch"/> and publishes
/// every <see cref="PublishEvery"/> messages, at each control message, and whenever it is about to wait (a full ring, or
/// a receive: a ping is published before its pong is awaited); the receiver takes up to <see cref="PublishEvery"/> messages per
/// <see cref="RingReader.ReadBatch"/>, one head store for all, and hands them out from a local copy.
/// </summary>
internal sealed class RingBatchChannel : IChannel
{
    public const int PublishEvery = 64;

    private readonly RingSegment _outbound;
    private readonly RingSegment _inbound;
    private readonly RingWriter _writer;
    private readonly RingReader _reader;
    private readonly RingBatch _batch;
    private readonly byte[] _received;
    private readonly int[] _lengths = new int[PublishEvery];
    private readonly int _slot;
    private int _unpublished;
    private int _next;
    private int _count;

    public RingBatchChannel(RingSegment outbound, RingSegment inbound, int messageSize)
    {
        _outbound = outbound;
        _inbound = inbound;
        _writer = outbound.CreateWriter(WaitStrategy.BusySpin);
        _reader = inbound.CreateReader(WaitStrategy.BusySpin);
        _batch = _writer.BeginBatch();
        _slot = messageSize;
        _received = new byte[PublishEvery * messageSize];
    }

    public void Send(ReadOnlySpan<byte> message)
    {
        while (!_batch.TryWrite(message))
        {
            Publish();
            _writer.WaitToWrite(message.Length, Timeout.InfiniteTimeSpan);
        }
        // A control message (CompareWire's negative tags) goes out at once: the other side acts on it, and the sender
        // may next wait for something other than a receive (the child's exit after Quit).
        if (++_unpublished == PublishEvery || CompareWire.TagOf(message) < 0) Publish();
    }

    public int Receive(Span<byte> destination)
    {
        Publish();
        if (_next == _count)
        {
            _reader.WaitToRead(Timeout.InfiniteTimeSpan);
            _next = 0;
            _count = 0;
            RingBatchChannel self = this;
            _reader.ReadBatch(ref self, static (message, ref channel) => channel.Keep(message), PublishEvery); // the sole consumer: at least the one WaitToRead saw
        }
        int length = _lengths[_next];
        _received.AsSpan(_next * _slot, length).CopyTo(destination);
        _next++;
        return length;
    }

    public long? Sleeps => _outbound.GetStatus().Sleeps + _inbound.GetStatus().Sleeps;

    public void Dispose()
    {
        _batch.Dispose();
        _writer.Dispose();
        _reader.Dispose();
        _outbound.Dispose();
        _inbound.Dispose();
    }

    private void Keep(ReadOnlySpan<byte> message)
    {
        int index = _count++;
        _lengths[index] = message.Length;
        message.CopyTo(_received.AsSpan(index * _slot));
    }

    private void Publish()
    {
        if (_unpublished == 0) return;
        _batch.Publish();
        _unpublished = 0;
    }
}

/// <summary>
/// Messages over byte streams (pipes, sockets): a 4-byte length prefix, then the payload. Each message is
/// one write call; reads go through a buffer, so the receiver may take many messages per system call.
/// </summary>
internal sealed class FramedStreamChannel : IChannel
{
    public const int HeaderLength = sizeof(int);

    private readonly FramedStreamReader _input;
    private readonly Stream _output;
    private readonly byte[] _frame;

    public FramedStreamChannel(Stream input, Stream output, int messageSize)
    {
        _input = new FramedStreamReader(input, messageSize);
        _output = output;
        _frame = new byte[HeaderLength + messageSize];
    }

    public static FramedStreamChannel Duplex(Stream stream, int messageSize) => new(stream, stream, messageSize);

    /// <summary>Writes the frame of <paramref name="message"/> into <paramref name="frame"/>; returns its length.</summary>
    public static int Frame(ReadOnlySpan<byte> message, Span<byte> frame)
    {
        BinaryPrimitives.WriteInt32LittleEndian(frame, message.Length);
        message.CopyTo(frame[HeaderLength..]);
        return HeaderLength + message.Length;
    }

    public void Send(ReadOnlySpan<byte> message) => _output.Write(_frame, 0, Frame(message, _frame));

    public int Receive(Span<byte> destination) => _input.Receive(destination);

    public void Dispose()
    {
        _input.Dispose();
        _output.Dispose(); // a duplex stream twice: Stream.Dispose may be called again
    }
}

/// <summary>The receiving half of <see cref="FramedStreamChannel"/>: frames cut out of buffered reads.</summary>
internal sealed class FramedStreamReader(Stream input, int messageSize) : IDisposable
{
    private readonly byte[] _buffer = new byte[Math.Max(1 << 16, 2 * (FramedStreamChannel.HeaderLength + messageSize))];
    private int _start;
    private int _end;

    /// <summary>Waits for the next frame, copies its payload into <paramref name="destination"/> and returns its length.</summary>
    public int Receive(Span<byte> destination)
    {
        Fill(FramedStreamChannel.HeaderLength);
        int length = BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(_start));
        if (length < 0 || length > destination.Length) throw new BenchFailure($"a frame announced {length} bytes; at most {destination.Length} were expected");
        Fill(FramedStreamChannel.HeaderLength + length);
        _buffer.AsSpan(_start + FramedStreamChannel.HeaderLength, length).CopyTo(destination);
        _start += FramedStreamChannel.HeaderLength + length;
        return length;
    }

    public void Dispose() => input.Dispose();

    private void Fill(int needed)
    {
        if (_end - _start >= needed) return;
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        while (_end < needed)
        {
            int read = input.Read(_buffer.AsSpan(_end));
            if (read == 0) throw new BenchFailure("the peer closed the connection");
            _end += read;
        }
    }
}

/// <summary>
/// The physical limit: one fixed-size slot ring per direction in a shared mapping, with no framing, no
/// headers and no checks. The tail (what was published) and head (what was consumed) are 64-bit sequences,
/// each on its own 128-byte block; each side caches the other's and re-reads it only when it must wait.
/// Waiting re-reads the other side's sequence with a pause in between (<c>Thread.SpinWait(1)</c>, as Ring's
/// BusySpin does): without it the spinning reader keeps stealing the cache line the writer is about to store to.
/// </summary>
internal sealed class FloorChannel(FloorMapping mapping, int messageSize, long outboundOffset, long inboundOffset) : IChannel
{
    public const int BlockLength = 128;
    private const int SlotAlignment = 64;
    private const long TargetRegionBytes = 1 << 20;

    private readonly long _slots = SlotCount(messageSize);
    private readonly long _stride = Stride(messageSize);
    private long _sent;
    private long _consumerSeen;
    private long _received;
    private long _producerSeen;

    /// <summary>Bytes one direction occupies: tail block, head block, slots.</summary>
    public static long RegionLength(int messageSize) => 2 * BlockLength + SlotCount(messageSize) * Stride(messageSize);

    public void Send(ReadOnlySpan<byte> message)
    {
        ref long head = ref mapping.Word(outboundOffset + BlockLength);
        while (_sent - _consumerSeen >= _slots && _sent - (_consumerSeen = Volatile.Read(ref head)) >= _slots) Thread.SpinWait(1);
        message.CopyTo(mapping.Bytes(SlotOffset(outboundOffset, _sent), messageSize));
        Volatile.Write(ref mapping.Word(outboundOffset), ++_sent);
    }

    public int Receive(Span<byte> destination)
    {
        ref long tail = ref mapping.Word(inboundOffset);
        while (_received == _producerSeen && _received == (_producerSeen = Volatile.Read(ref tail))) Thread.SpinWait(1);
        mapping.Bytes(SlotOffset(inboundOffset, _received), messageSize).CopyTo(destination);
        Volatile.Write(ref mapping.Word(inboundOffset + BlockLength), ++_received);
        return messageSize;
    }

    public void Dispose() => mapping.Dispose();

    private long SlotOffset(long region, long sequence) => region + 2 * BlockLength + (sequence & (_slots - 1)) * _stride;

    private static long Stride(int messageSize) => (messageSize + SlotAlignment - 1) / SlotAlignment * SlotAlignment;

    private static long SlotCount(int messageSize)
    {
        long slots = 2;
        while (slots * 2 * Stride(messageSize) <= TargetRegionBytes) slots *= 2;
        return slots;
    }
}
