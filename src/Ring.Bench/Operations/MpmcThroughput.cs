using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Ring.Bench.Operations;

/// <summary>
/// Messages per second through one in-process MPMC queue with P producer and C consumer threads, against a
/// bounded channel of the same capacity in the same run. Both sides poll with the same back-off
/// (SpinWait without sleeps), so the comparison is the queue and not the waiting: on a 2-core machine
/// 2P/2C and 4P/4C oversubscribe the CPUs, which is part of what is being measured. Consumers count what
/// they read locally and stop once every producer has finished and the queue is empty; the run checks the
/// total, so nothing shared but the queue is touched per message.
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class MpmcThroughput
{
    private const int Capacity = 1024;
    private const int Messages = 1 << 20;

    [Params(2, 4)]
    public int Threads { get; set; }

    private BenchmarkRing _ring = null!;
    private Channel<Payload> _channel = null!;

    private readonly record struct Payload(long Producer, long Sequence);

    [GlobalSetup]
    public void Setup()
    {
        _ring = new BenchmarkRing(new RingOptions { Kind = RingKind.Mpmc, SlotCount = Capacity, MaxMessageLength = 16 });
        _channel = Channel.CreateBounded<Payload>(new BoundedChannelOptions(Capacity));
    }

    [GlobalCleanup]
    public void Cleanup() => _ring.Dispose();

    [BenchmarkCategory("MPMC-throughput"), Benchmark(Baseline = true, OperationsPerInvoke = Messages)]
    public long BoundedChannel() => Run(
        producer => () =>
        {
            ChannelWriter<Payload> writer = _channel.Writer;
            for (long i = 0; i < Messages / Threads; i++)
            {
                SpinWait spin = default;
                while (!writer.TryWrite(new Payload(producer, i))) spin.SpinOnce(sleep1Threshold: -1);
            }
        },
        (out long count) =>
        {
            ChannelReader<Payload> reader = _channel.Reader;
            long sum = 0;
            count = 0;
            SpinWait spin = default;
            while (true)
            {
                bool finished = ProducersFinished; // before the read: see Run
                if (reader.TryRead(out Payload payload))
                {
                    sum += payload.Sequence;
                    count++;
                    spin = default;
                }
                else if (finished)
                {
                    return sum;
                }
                else
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                }
            }
        });

    [BenchmarkCategory("MPMC-throughput"), Benchmark(OperationsPerInvoke = Messages)]
    public long RingMpmc() => Run(
        producer => () =>
        {
            using RingWriter writer = _ring.Segment.CreateWriter(WaitStrategy.BusySpin);
            Span<byte> message = stackalloc byte[16];
            BitConverter.TryWriteBytes(message, producer);
            for (long i = 0; i < Messages / Threads; i++)
            {
                BitConverter.TryWriteBytes(message[8..], i);
                SpinWait spin = default;
                while (!writer.TryWrite(message)) spin.SpinOnce(sleep1Threshold: -1);
            }
        },
        (out long count) =>
        {
            using RingReader reader = _ring.Segment.CreateReader(WaitStrategy.BusySpin);
            Span<byte> destination = stackalloc byte[16];
            long sum = 0;
            count = 0;
            SpinWait spin = default;
            while (true)
            {
                bool finished = ProducersFinished; // before the read: see Run
                if (reader.TryRead(destination, out _))
                {
                    sum += BitConverter.ToInt64(destination[8..]);
                    count++;
                    spin = default;
                }
                else if (finished)
                {
                    return sum;
                }
                else
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                }
            }
        });

    private int _producersRunning;

    /// <summary>
    /// True once every producer has returned. A consumer reads it before each read: true then, every message was
    /// published before that read, so a read that finds nothing means the queue is drained. (The consumers used to
    /// look again after seeing it and drop what that second look read: an MPMC read can find nothing while a message
    /// behind a still-unpublished slot waits, so 3 of 12 runs on 2026-12-02 lost one message from the count, hundreds
    /// before the end, and threw. The channel's consumers had the same code, but its reads never miss that way.)
    /// </summary>
    private bool ProducersFinished => Volatile.Read(ref _producersRunning) == 0;

    private delegate long Consume(out long count);

    /// <summary>Starts Threads producers and Threads consumers behind a barrier and waits for every message to be read.</summary>
    private long Run(Func<long, Action> producer, Consume consumer)
    {
        long perProducer = Messages / Threads;
        _producersRunning = Threads;
        using Barrier start = new(2 * Threads);
        long total = 0, read = 0;
        Thread[] threads = new Thread[2 * Threads];
        for (int t = 0; t < Threads; t++)
        {
            Action produce = producer(t);
            threads[t] = new Thread(() =>
            {
                start.SignalAndWait();
                produce();
                Interlocked.Decrement(ref _producersRunning);
            });
            threads[Threads + t] = new Thread(() =>
            {
                start.SignalAndWait();
                long sum = consumer(out long count);
                Interlocked.Add(ref total, sum);
                Interlocked.Add(ref read, count);
            });
        }
        foreach (Thread thread in threads) thread.Start();
        foreach (Thread thread in threads) thread.Join();
        long expected = perProducer * Threads;
        if (read != expected || total != Threads * (perProducer * (perProducer - 1) / 2))
            throw new InvalidOperationException($"read {read} messages (sum {total}); {expected} were written");
        return total;
    }
}
