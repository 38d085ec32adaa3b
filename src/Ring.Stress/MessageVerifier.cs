using System.Diagnostics;

namespace Ring.Stress;

/// <summary>
/// Checks a stream of <see cref="StressMessage"/>s from one or more producers against what they must have
/// sent: producers 0..P-1 each send messages 0..N-1, each producer's in order, each message intact; the
/// streams of different producers may interleave in any way. Allocates once (a bitmap of the (producer,
/// sequence) pairs seen), never per message.
/// <list type="bullet">
/// <item><b>corrupted</b>: shorter than the prefix, a producer outside 0..P-1, a sequence outside 0..N-1, a
/// length, checksum or payload other than the one derived from (seed, producer, sequence), or a send time
/// after the receive time. A corrupted message is not trusted for the sequence checks.</item>
/// <item><b>duplicated</b>: an intact message whose (producer, sequence) was delivered before.</item>
/// <item><b>reordered</b>: an intact message that arrives after a higher sequence of the same producer did.</item>
/// <item><b>lost</b>: a (producer, sequence) never delivered intact (<see cref="Lost"/>, final once the stream ends).</item>
/// </list>
/// </summary>
public sealed class MessageVerifier
{
    private readonly ulong[] _seen;
    private readonly long[] _next;
    private readonly long[] _delivered;
    private readonly ulong _seed;
    private readonly int _minSize;
    private readonly int _maxSize;

    /// <summary>Expects messages 0..<paramref name="expectedMessages"/>-1 from one producer (id 0) made with this seed and size range.</summary>
    public MessageVerifier(long expectedMessages, ulong seed, int minSize, int maxSize)
        : this(expectedMessages, seed, minSize, maxSize, producers: 1)
    {
    }

    /// <summary>
    /// Expects messages 0..<paramref name="messagesPerProducer"/>-1 from each of the producers 0..<paramref name="producers"/>-1,
    /// made with this seed and size range.
    /// </summary>
    public MessageVerifier(long messagesPerProducer, ulong seed, int minSize, int maxSize, int producers)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(messagesPerProducer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(producers);
        ArgumentOutOfRangeException.ThrowIfLessThan(minSize, StressMessage.PrefixLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSize, minSize);
        MessagesPerProducer = messagesPerProducer;
        Producers = producers;
        ExpectedMessages = checked(messagesPerProducer * producers);
        _seed = seed;
        _minSize = minSize;
        _maxSize = maxSize;
        _seen = new ulong[checked((ExpectedMessages + 63) / 64)];
        _next = new long[producers];
        _delivered = new long[producers];
    }

    /// <summary>N: how many messages each producer sends.</summary>
    public long MessagesPerProducer { get; }

    /// <summary>P: how many producers there are (ids 0..P-1).</summary>
    public int Producers { get; }

    /// <summary>N × P: how many messages the producers send together.</summary>
    public long ExpectedMessages { get; }

    /// <summary>Messages handed to <see cref="Accept"/>, whatever they held.</summary>
    public long Received { get; private set; }

    /// <summary>Payload bytes handed to <see cref="Accept"/>.</summary>
    public long Bytes { get; private set; }

    /// <summary>Distinct (producer, sequence) pairs delivered intact.</summary>
    public long Delivered { get; private set; }

    /// <summary>Intact messages delivered a second time.</summary>
    public long Duplicated { get; private set; }

    /// <summary>Intact messages that arrived after a higher sequence of the same producer.</summary>
    public long Reordered { get; private set; }

    /// <summary>Messages that were not what the producers sent.</summary>
    public long Corrupted { get; private set; }

    /// <summary>Messages not (yet) delivered intact.</summary>
    public long Lost => ExpectedMessages - Delivered;

    /// <summary>True once every message of every producer was delivered intact.</summary>
    public bool IsComplete => Delivered == ExpectedMessages;

    /// <summary>Longest receive-minus-send time of an intact message, in Stopwatch ticks.</summary>
    public long MaxLatencyTicks { get; private set; }

    /// <summary>Longest delivery latency in microseconds.</summary>
    public long MaxLatencyMicroseconds => (long)(MaxLatencyTicks * 1_000_000.0 / Stopwatch.Frequency);

    /// <summary>True when anything but complete, per-producer in-order, intact streams was seen.</summary>
    public bool HasViolations => Lost != 0 || Duplicated != 0 || Reordered != 0 || Corrupted != 0;

    /// <summary>Distinct sequences of <paramref name="producer"/> delivered intact.</summary>
    public long DeliveredFrom(int producer) => _delivered[producer];

    /// <summary>One past the highest sequence of <paramref name="producer"/> delivered intact (0 before the first).</summary>
    public long NextSequenceFrom(int producer) => _next[producer];

    /// <summary>Checks one message, received at <paramref name="receiveTimestamp"/> (Stopwatch ticks).</summary>
    public void Accept(ReadOnlySpan<byte> message, long receiveTimestamp)
    {
        Received++;
        Bytes += message.Length;
        if (!StressMessage.IsIntact(message, _seed, _minSize, _maxSize, out int producer, out long sequence)
            || producer >= Producers
            || sequence >= MessagesPerProducer)
        {
            Corrupted++;
            return;
        }
        long latency = receiveTimestamp - StressMessage.ReadTimestamp(message);
        if (latency < 0)
        {
            Corrupted++;
            return;
        }
        long index = producer * MessagesPerProducer + sequence;
        ref ulong word = ref _seen[index >> 6];
        ulong bit = 1UL << (int)(index & 63);
        if ((word & bit) != 0)
        {
            Duplicated++;
            return;
        }
        word |= bit;
        Delivered++;
        _delivered[producer]++;
        if (latency > MaxLatencyTicks) MaxLatencyTicks = latency;
        if (sequence < _next[producer])
        {
            Reordered++; // a later one came first; the gap it left is closed now
        }
        else
        {
            _next[producer] = sequence + 1; // a jump leaves a gap that stays counted in Lost unless it is filled
        }
    }
}
