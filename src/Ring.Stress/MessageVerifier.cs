using System.Diagnostics;

namespace Ring.Stress;

/// <summary>
/// Checks a stream of <see cref="StressMessage"/>s from one producer against what that producer must have
/// sent: messages 0..N-1, in order, each intact. Allocates once (a bitmap of the sequences seen), never per message.
/// <list type="bullet">
/// <item><b>corrupted</b>: shorter than the prefix, a sequence outside 0..N-1, a length, checksum or payload
/// other than the one derived from (seed, sequence), or a send time after the receive time. A corrupted
/// message is not trusted for the sequence checks.</item>
/// <item><b>duplicated</b>: an intact message whose sequence was delivered before.</item>
/// <item><b>reordered</b>: an intact message that arrives after a higher sequence did.</item>
/// <item><b>lost</b>: a sequence in 0..N-1 never delivered intact (<see cref="Lost"/>, final once the stream ends).</item>
/// </list>
/// </summary>
public sealed class MessageVerifier
{
    private readonly ulong[] _seen;
    private readonly ulong _seed;
    private readonly int _minSize;
    private readonly int _maxSize;
    private long _next;

    /// <summary>Expects messages 0..<paramref name="expectedMessages"/>-1 made with this seed and size range.</summary>
    public MessageVerifier(long expectedMessages, ulong seed, int minSize, int maxSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(expectedMessages);
        ArgumentOutOfRangeException.ThrowIfLessThan(minSize, StressMessage.PrefixLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSize, minSize);
        ExpectedMessages = expectedMessages;
        _seed = seed;
        _minSize = minSize;
        _maxSize = maxSize;
        _seen = new ulong[(expectedMessages + 63) / 64];
    }

    /// <summary>N: how many messages the producer sends.</summary>
    public long ExpectedMessages { get; }

    /// <summary>Messages handed to <see cref="Accept"/>, whatever they held.</summary>
    public long Received { get; private set; }

    /// <summary>Payload bytes handed to <see cref="Accept"/>.</summary>
    public long Bytes { get; private set; }

    /// <summary>Distinct sequences delivered intact.</summary>
    public long Delivered { get; private set; }

    /// <summary>Intact messages delivered a second time.</summary>
    public long Duplicated { get; private set; }

    /// <summary>Intact messages that arrived after a higher sequence.</summary>
    public long Reordered { get; private set; }

    /// <summary>Messages that were not what the producer sent.</summary>
    public long Corrupted { get; private set; }

    /// <summary>Sequences not (yet) delivered intact.</summary>
    public long Lost => ExpectedMessages - Delivered;

    /// <summary>True once every sequence was delivered intact.</summary>
    public bool IsComplete => Delivered == ExpectedMessages;

    /// <summary>Longest receive-minus-send time of an intact message, in Stopwatch ticks.</summary>
    public long MaxLatencyTicks { get; private set; }

    /// <summary>Longest delivery latency in microseconds.</summary>
    public long MaxLatencyMicroseconds => (long)(MaxLatencyTicks * 1_000_000.0 / Stopwatch.Frequency);

    /// <summary>True when anything but a complete, in-order, intact stream was seen.</summary>
    public bool HasViolations => Lost != 0 || Duplicated != 0 || Reordered != 0 || Corrupted != 0;

    /// <summary>Checks one message, received at <paramref name="receiveTimestamp"/> (Stopwatch ticks).</summary>
    public void Accept(ReadOnlySpan<byte> message, long receiveTimestamp)
    {
        Received++;
        Bytes += message.Length;
        if (message.Length < StressMessage.PrefixLength)
        {
            Corrupted++;
            return;
        }
        long sequence = StressMessage.ReadSequence(message);
        long latency = receiveTimestamp - StressMessage.ReadTimestamp(message);
        ReadOnlySpan<byte> payload = message[StressMessage.PrefixLength..];
        if ((ulong)sequence >= (ulong)ExpectedMessages
            || message.Length != StressMessage.SizeFor(_seed, sequence, _minSize, _maxSize)
            || StressMessage.ReadChecksum(message) != StressMessage.ComputeChecksum(payload)
            || !StressMessage.PayloadMatches(payload, _seed, sequence)
            || latency < 0)
        {
            Corrupted++;
            return;
        }
        ref ulong word = ref _seen[sequence >> 6];
        ulong bit = 1UL << (int)(sequence & 63);
        if ((word & bit) != 0)
        {
            Duplicated++;
            return;
        }
        word |= bit;
        Delivered++;
        if (latency > MaxLatencyTicks) MaxLatencyTicks = latency;
        if (sequence < _next)
        {
            Reordered++; // a later one came first; the gap it left is closed now
        }
        else
        {
            _next = sequence + 1; // a jump leaves a gap that stays counted in Lost unless it is filled
        }
    }
}
