using System.CommandLine;
using System.Diagnostics;
using System.Threading.Channels;

namespace Ring.Bench.Operations;

/// <summary>
/// The <c>pair-loop</c> command: one thread writes a message and reads it back, round after round, through an SPSC
/// ring, an MPMC ring and a bounded single-reader/single-writer <see cref="Channel{T}"/>, and prints the best round's
/// nanoseconds per pair and the ratio to the channel. A second opinion next to BenchmarkDotNet's
/// <see cref="SingleThreadOperations"/>: no delegate, no unrolling, and the best round rather than the mean, which is
/// what an A/B of a small change needs on a VM whose rounds drift. Run it pinned (<c>taskset -c 1</c>).
/// </summary>
internal static class PairLoopCommand
{
    private const int MessageLength = 64;

    public static Command Create()
    {
        Option<int> pairs = new("--pairs") { Description = "Write+read pairs per round.", DefaultValueFactory = _ => 5_000_000 };
        Option<int> rounds = new("--rounds") { Description = "Timed rounds per ring kind, after 3 untimed ones.", DefaultValueFactory = _ => 12 };
        foreach (Option<int> count in new[] { pairs, rounds })
        {
            count.Validators.Add(result =>
            {
                int value = result.GetValueOrDefault<int>();
                if (value < 1 || value > 1_000_000_000) result.AddError($"{count.Name} must be from 1 to 1,000,000,000.");
            });
        }
        Command command = new("pair-loop", "One thread writes and reads back 64 B messages through SPSC, MPMC and a bounded Channel<T>: best round's ns per pair and the ratio to the channel.")
        {
            pairs, rounds,
        };
        command.SetAction(parse => Run(parse.GetValue(pairs), parse.GetValue(rounds)));
        return command;
    }

    private static int Run(int pairs, int rounds)
    {
        byte[] message = new byte[MessageLength];
        byte[] destination = new byte[MessageLength];
        Channel<byte[]> channel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = true });
        double channelNs = Best(rounds, () => ChannelRound(channel, message, pairs));
        Console.WriteLine(FormattableString.Invariant($"{"channel",-20}{channelNs,8:F2} ns per pair (best of {rounds} rounds of {pairs:N0})"));
        foreach ((string name, RingOptions options) in new[]
        {
            ("spsc", new RingOptions { Kind = RingKind.Spsc, Capacity = 1 << 16 }),
            ("mpmc", new RingOptions { Kind = RingKind.Mpmc, SlotCount = 1024, MaxMessageLength = MessageLength }),
            ("broadcast-block", new RingOptions { Kind = RingKind.Broadcast, Capacity = 1 << 16, Overflow = BroadcastOverflow.Block }),
            ("broadcast-overwrite", new RingOptions { Kind = RingKind.Broadcast, Capacity = 1 << 16, Overflow = BroadcastOverflow.Overwrite }),
        })
        {
            using BenchmarkRing ring = new(options);
            using RingWriter writer = ring.Segment.CreateWriter(WaitStrategy.BusySpin);
            using RingReader reader = ring.Segment.CreateReader(WaitStrategy.BusySpin);
            double ns = Best(rounds, () => RingRound(writer, reader, message, destination, pairs));
            Console.WriteLine(FormattableString.Invariant($"{name,-20}{ns,8:F2} ns per pair, {ns / channelNs:F2}× the channel"));
        }
        return 0;
    }

    private static double Best(int rounds, Func<double> round)
    {
        double best = double.MaxValue;
        for (int i = 0; i < rounds + 3; i++)
        {
            double ns = round();
            if (i >= 3) best = Math.Min(best, ns); // the first rounds run before tiered compilation settles
        }
        return best;
    }

    private static double RingRound(RingWriter writer, RingReader reader, byte[] message, byte[] destination, int pairs)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < pairs; i++)
        {
            if (!writer.TryWrite(message) || !reader.TryRead(destination, out _))
                throw new InvalidOperationException("the ring refused a write or a read with nothing else in it");
        }
        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / pairs;
    }

    private static double ChannelRound(Channel<byte[]> channel, byte[] message, int pairs)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < pairs; i++)
        {
            if (!channel.Writer.TryWrite(message) || !channel.Reader.TryRead(out _))
                throw new InvalidOperationException("the channel refused a write or a read with nothing else in it");
        }
        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / pairs;
    }
}
