using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace Ring.Stress;

/// <summary>
/// The stress message, shared by every worker and by the tests that play one side in-process:
/// <code>
/// offset 0   8 bytes  producer sequence number (little-endian, from 0)
/// offset 8   8 bytes  send timestamp, Stopwatch.GetTimestamp() (CLOCK_MONOTONIC: comparable across processes)
/// offset 16  4 bytes  CRC-32 of the payload
/// offset 20  payload  pseudo-random bytes derived from (seed, sequence)
/// </code>
/// The length of message <c>s</c> is also derived from (seed, s), uniform in [min-size, max-size], so a
/// consumer that knows the seed and the size range can regenerate every message and compare it whole.
/// Nothing here allocates.
/// </summary>
public static class StressMessage
{
    /// <summary>Offset of the 8-byte sequence number.</summary>
    public const int SequenceOffset = 0;

    /// <summary>Offset of the 8-byte send timestamp.</summary>
    public const int TimestampOffset = 8;

    /// <summary>Offset of the 4-byte payload checksum.</summary>
    public const int ChecksumOffset = 16;

    /// <summary>Bytes before the payload; also the smallest message.</summary>
    public const int PrefixLength = 20;

    private const ulong Golden = 0x9E3779B97F4A7C15;

    /// <summary>The length of message <paramref name="sequence"/>: uniform in [<paramref name="minSize"/>, <paramref name="maxSize"/>].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SizeFor(ulong seed, long sequence, int minSize, int maxSize)
    {
        ulong span = (ulong)(maxSize - minSize) + 1;
        return minSize + (int)(Mix(Key(seed, sequence) ^ 0x5A5A5A5A5A5A5A5A) % span);
    }

    /// <summary>
    /// Fills <paramref name="message"/> (its length is the message size, at least <see cref="PrefixLength"/>)
    /// with message <paramref name="sequence"/>, stamped with <paramref name="timestamp"/>.
    /// </summary>
    public static void Encode(Span<byte> message, ulong seed, long sequence, long timestamp)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(message.Length, PrefixLength, nameof(message));
        Span<byte> payload = message[PrefixLength..];
        FillPayload(payload, seed, sequence);
        BinaryPrimitives.WriteInt64LittleEndian(message[SequenceOffset..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(message[ChecksumOffset..], Crc32.HashToUInt32(payload));
        Stamp(message, timestamp);
    }

    /// <summary>Sets the send timestamp; the checksum does not cover it, so restamping is free.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Stamp(Span<byte> message, long timestamp) =>
        BinaryPrimitives.WriteInt64LittleEndian(message[TimestampOffset..], timestamp);

    /// <summary>The sequence number of a message at least <see cref="PrefixLength"/> long.</summary>
    public static long ReadSequence(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadInt64LittleEndian(message[SequenceOffset..]);

    /// <summary>The send timestamp of a message at least <see cref="PrefixLength"/> long.</summary>
    public static long ReadTimestamp(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadInt64LittleEndian(message[TimestampOffset..]);

    /// <summary>The checksum field of a message at least <see cref="PrefixLength"/> long.</summary>
    public static uint ReadChecksum(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadUInt32LittleEndian(message[ChecksumOffset..]);

    /// <summary>The checksum the payload should carry.</summary>
    public static uint ComputeChecksum(ReadOnlySpan<byte> payload) => Crc32.HashToUInt32(payload);

    /// <summary>Writes the pseudo-random payload of message <paramref name="sequence"/>.</summary>
    public static void FillPayload(Span<byte> payload, ulong seed, long sequence)
    {
        ulong key = Key(seed, sequence);
        int offset = 0;
        ulong word = 0;
        for (; offset + sizeof(ulong) <= payload.Length; offset += sizeof(ulong))
        {
            BinaryPrimitives.WriteUInt64LittleEndian(payload[offset..], Word(key, ref word));
        }
        if (offset < payload.Length)
        {
            ulong last = Word(key, ref word);
            for (; offset < payload.Length; offset++, last >>= 8) payload[offset] = (byte)last;
        }
    }

    /// <summary>True when <paramref name="payload"/> is exactly what <see cref="FillPayload"/> writes for this message.</summary>
    public static bool PayloadMatches(ReadOnlySpan<byte> payload, ulong seed, long sequence)
    {
        ulong key = Key(seed, sequence);
        int offset = 0;
        ulong word = 0;
        for (; offset + sizeof(ulong) <= payload.Length; offset += sizeof(ulong))
        {
            if (BinaryPrimitives.ReadUInt64LittleEndian(payload[offset..]) != Word(key, ref word)) return false;
        }
        if (offset < payload.Length)
        {
            ulong last = Word(key, ref word);
            for (; offset < payload.Length; offset++, last >>= 8)
            {
                if (payload[offset] != (byte)last) return false;
            }
        }
        return true;
    }

    /// <summary>Per-message key: every message of every seed starts its own stream.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Key(ulong seed, long sequence) => Mix(seed + Mix((ulong)sequence + Golden));

    /// <summary>SplitMix64 in counter mode: word i is Mix(key + (i + 1)·golden).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Word(ulong key, ref ulong counter)
    {
        counter += Golden;
        return Mix(key + counter);
    }

    /// <summary>The SplitMix64 finaliser.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
