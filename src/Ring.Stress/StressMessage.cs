using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace Ring.Stress;

/// <summary>
/// The stress message, shared by every worker and by the tests that play one side in-process:
/// <code>
/// offset 0   8 bytes  producer sequence number (little-endian, from 0 for each producer)
/// offset 8   8 bytes  send timestamp, Stopwatch.GetTimestamp() (CLOCK_MONOTONIC: comparable across processes)
/// offset 16  4 bytes  CRC-32 of the payload
/// offset 20  4 bytes  producer id (little-endian, from 0): which producer's stream the sequence belongs to
/// offset 24  payload  pseudo-random bytes derived from (seed, producer, sequence)
/// </code>
/// The length of a message is also derived from (seed, producer, sequence), uniform in [min-size, max-size],
/// so a consumer that knows the seed and the size range can regenerate every message and compare it whole;
/// a producer id or sequence that was damaged in transit no longer matches the payload. Producer 0 makes the
/// same sizes and payloads as the single-producer format did. Nothing here allocates.
/// </summary>
public static class StressMessage
{
    /// <summary>Offset of the 8-byte sequence number.</summary>
    public const int SequenceOffset = 0;

    /// <summary>Offset of the 8-byte send timestamp.</summary>
    public const int TimestampOffset = 8;

    /// <summary>Offset of the 4-byte payload checksum.</summary>
    public const int ChecksumOffset = 16;

    /// <summary>Offset of the 4-byte producer id.</summary>
    public const int ProducerOffset = 20;

    /// <summary>Bytes before the payload; also the smallest message.</summary>
    public const int PrefixLength = 24;

    private const ulong Golden = 0x9E3779B97F4A7C15;

    /// <summary>The length of message <paramref name="sequence"/>: uniform in [<paramref name="minSize"/>, <paramref name="maxSize"/>].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SizeFor(ulong seed, long sequence, int minSize, int maxSize) => SizeFor(seed, 0, sequence, minSize, maxSize);

    /// <summary>The length of message <paramref name="sequence"/> of producer <paramref name="producer"/>: uniform in [<paramref name="minSize"/>, <paramref name="maxSize"/>].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SizeFor(ulong seed, int producer, long sequence, int minSize, int maxSize)
    {
        ulong span = (ulong)(maxSize - minSize) + 1;
        return minSize + (int)(Mix(Key(seed, producer, sequence) ^ 0x5A5A5A5A5A5A5A5A) % span);
    }

    /// <summary>
    /// Fills <paramref name="message"/> (its length is the message size, at least <see cref="PrefixLength"/>)
    /// with message <paramref name="sequence"/>, stamped with <paramref name="timestamp"/>.
    /// </summary>
    public static void Encode(Span<byte> message, ulong seed, long sequence, long timestamp) => Encode(message, seed, 0, sequence, timestamp);

    /// <summary>
    /// Fills <paramref name="message"/> (its length is the message size, at least <see cref="PrefixLength"/>)
    /// with message <paramref name="sequence"/> of producer <paramref name="producer"/>, stamped with <paramref name="timestamp"/>.
    /// </summary>
    public static void Encode(Span<byte> message, ulong seed, int producer, long sequence, long timestamp)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(message.Length, PrefixLength, nameof(message));
        ArgumentOutOfRangeException.ThrowIfNegative(producer);
        Span<byte> payload = message[PrefixLength..];
        FillPayload(payload, seed, producer, sequence);
        BinaryPrimitives.WriteInt64LittleEndian(message[SequenceOffset..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(message[ChecksumOffset..], Crc32.HashToUInt32(payload));
        BinaryPrimitives.WriteInt32LittleEndian(message[ProducerOffset..], producer);
        Stamp(message, timestamp);
    }

    /// <summary>
    /// True when <paramref name="message"/> is exactly message (producer, sequence) as its own prefix names
    /// them: long enough, the length, checksum and payload derived from (seed, producer, sequence). The send
    /// timestamp is not checked. <paramref name="producer"/> and <paramref name="sequence"/> are what the
    /// prefix says (−1 when the message is shorter than the prefix), to be trusted only when this returns true.
    /// </summary>
    public static bool IsIntact(ReadOnlySpan<byte> message, ulong seed, int minSize, int maxSize, out int producer, out long sequence)
    {
        if (message.Length < PrefixLength)
        {
            producer = -1;
            sequence = -1;
            return false;
        }
        producer = ReadProducer(message);
        sequence = ReadSequence(message);
        ReadOnlySpan<byte> payload = message[PrefixLength..];
        return producer >= 0
            && sequence >= 0
            && message.Length == SizeFor(seed, producer, sequence, minSize, maxSize)
            && ReadChecksum(message) == ComputeChecksum(payload)
            && PayloadMatches(payload, seed, producer, sequence);
    }

    /// <summary>Sets the send timestamp; the checksum does not cover it, so restamping is free.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Stamp(Span<byte> message, long timestamp) =>
        BinaryPrimitives.WriteInt64LittleEndian(message[TimestampOffset..], timestamp);

    /// <summary>The sequence number of a message at least <see cref="PrefixLength"/> long.</summary>
    public static long ReadSequence(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadInt64LittleEndian(message[SequenceOffset..]);

    /// <summary>The producer id of a message at least <see cref="PrefixLength"/> long.</summary>
    public static int ReadProducer(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadInt32LittleEndian(message[ProducerOffset..]);

    /// <summary>The send timestamp of a message at least <see cref="PrefixLength"/> long.</summary>
    public static long ReadTimestamp(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadInt64LittleEndian(message[TimestampOffset..]);

    /// <summary>The checksum field of a message at least <see cref="PrefixLength"/> long.</summary>
    public static uint ReadChecksum(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadUInt32LittleEndian(message[ChecksumOffset..]);

    /// <summary>The checksum the payload should carry.</summary>
    public static uint ComputeChecksum(ReadOnlySpan<byte> payload) => Crc32.HashToUInt32(payload);

    /// <summary>Writes the pseudo-random payload of message <paramref name="sequence"/>.</summary>
    public static void FillPayload(Span<byte> payload, ulong seed, long sequence) => FillPayload(payload, seed, 0, sequence);

    /// <summary>Writes the pseudo-random payload of message <paramref name="sequence"/> of producer <paramref name="producer"/>.</summary>
    public static void FillPayload(Span<byte> payload, ulong seed, int producer, long sequence)
    {
        ulong key = Key(seed, producer, sequence);
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
    public static bool PayloadMatches(ReadOnlySpan<byte> payload, ulong seed, long sequence) => PayloadMatches(payload, seed, 0, sequence);

    /// <summary>True when <paramref name="payload"/> is exactly what <see cref="FillPayload(Span{byte}, ulong, int, long)"/> writes for this message.</summary>
    public static bool PayloadMatches(ReadOnlySpan<byte> payload, ulong seed, int producer, long sequence)
    {
        ulong key = Key(seed, producer, sequence);
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

    /// <summary>
    /// Per-message key: every message of every producer and seed starts its own stream. Producer 0's keys are
    /// the single-producer format's.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Key(ulong seed, int producer, long sequence) =>
        Mix(seed + Mix((ulong)sequence + Golden) + (producer == 0 ? 0 : Mix((ulong)producer * 0xD1B54A32D192ED03)));

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
