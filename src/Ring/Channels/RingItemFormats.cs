using System.Runtime.CompilerServices;

namespace Ring.Channels;

/// <summary>How an adapter takes one item out of a ring; a struct, so the adapter's calls to it are inlined.</summary>
internal interface IRingItemReader<T>
{
    bool TryRead(RingReader reader, out T item);
}

/// <summary>How an adapter puts one item into a ring, and how much room it waits for.</summary>
internal interface IRingItemWriter<T>
{
    bool TryWrite(RingWriter writer, in T item);

    /// <summary>The payload length <paramref name="item"/> needs room for.</summary>
    int LengthOf(in T item);

    /// <summary>
    /// The payload length <c>WaitToWriteAsync</c> waits room for, knowing no item: the longest an item can be, so that
    /// a true answer means any item fits and the usual <c>WaitToWriteAsync</c>/<c>TryWrite</c> loop cannot spin.
    /// </summary>
    int LongestLength(RingWriter writer);
}

/// <summary>Byte messages; a read copies each one into an array of its own, which stays valid for good.</summary>
internal readonly struct CopiedBytes : IRingItemReader<ReadOnlyMemory<byte>>, IRingItemWriter<ReadOnlyMemory<byte>>
{
    public bool TryRead(RingReader reader, out ReadOnlyMemory<byte> item)
    {
        item = default;
        return reader.TryRead(ref item, static (ReadOnlySpan<byte> message, ref ReadOnlyMemory<byte> copy) => copy = message.ToArray());
    }

    public bool TryWrite(RingWriter writer, in ReadOnlyMemory<byte> item) => writer.TryWrite(item.Span);

    public int LengthOf(in ReadOnlyMemory<byte> item) => item.Length;

    public int LongestLength(RingWriter writer) => writer.MaxMessageLength;
}

/// <summary>Byte messages read into one buffer, which each read overwrites: no allocation per message.</summary>
internal readonly struct ReusedBuffer(byte[] buffer) : IRingItemReader<ReadOnlyMemory<byte>>
{
    public bool TryRead(RingReader reader, out ReadOnlyMemory<byte> item)
    {
        bool read = reader.TryRead(buffer, out int length);
        item = new ReadOnlyMemory<byte>(buffer, 0, length);
        return read;
    }
}

/// <summary>Unmanaged values, one message of <c>sizeof(T)</c> bytes each (<see cref="RingWriter.TryWrite{T}(in T)"/>).</summary>
internal readonly struct UnmanagedItems<T> : IRingItemReader<T>, IRingItemWriter<T> where T : unmanaged
{
    public bool TryRead(RingReader reader, out T item) => reader.TryRead(out item);

    public bool TryWrite(RingWriter writer, in T item) => writer.TryWrite(in item);

    public int LengthOf(in T item) => Unsafe.SizeOf<T>();

    public int LongestLength(RingWriter writer) => Unsafe.SizeOf<T>();
}
