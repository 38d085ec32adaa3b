using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Ring.Tooling;
using Ring.Tooling.Platform;

namespace Ring.Tests;

/// <summary>A broadcast subscriber in another process, killed while the Block publisher waits for it.</summary>
[Collection(CrossProcessCollection.Name)]
public sealed class BroadcastCrossProcessTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>The bound the issue sets (250 ms: a 50 ms probe and a 100 ms sleep at most), with room for a loaded 2-core machine.</summary>
    private static readonly TimeSpan DetachBound = TimeSpan.FromMilliseconds(250 + 500);

    private const int KilledExitCode = 128 + (int)Signal.SIGKILL;

    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Write_BlockSubscriberProcessKilledWhileGating_PublisherGoesOnAndTheOtherSubscriberLosesNothing()
    {
        string name = _dir.NewName("feed");
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Kind = RingKind.Broadcast, Capacity = 4096, Overflow = BroadcastOverflow.Block });
        using RingWriter writer = segment.CreateWriter();
        using RingReader other = segment.CreateSubscriber();
        // `ring tail` on a broadcast ring is a subscriber in its own process; stopped, it reads nothing and gates.
        using ChildProcess child = StartTail(name);
        await UntilAllJoinedAsync(segment, [child]);
        LibC.Kill(child.Id, Signal.SIGSTOP);

        long seq = 0;
        while (writer.TryWrite(BitConverter.GetBytes(seq)))
        {
            Assert.Equal(seq++, ReadSeq(other));
            Assert.True(seq < 10_000, "the stopped subscriber never held the publisher up");
        }
        Assert.False(writer.TryWrite(BitConverter.GetBytes(seq), TimeSpan.FromMilliseconds(300)), "a live, stopped subscriber stopped gating");

        LibC.Kill(child.Id, Signal.SIGKILL);
        Assert.Equal(KilledExitCode, await child.WaitForExitAsync(Deadline));
        Stopwatch clock = Stopwatch.StartNew();
        Assert.True(writer.TryWrite(BitConverter.GetBytes(seq), Deadline));

        Assert.True(clock.Elapsed < DetachBound, $"the dead subscriber held the publisher up for {clock.Elapsed.TotalMilliseconds:F0} ms after its death");
        Assert.Equal(seq++, ReadSeq(other));
        for (long end = seq + 1000; seq < end; seq++)
        {
            Assert.True(writer.TryWrite(BitConverter.GetBytes(seq)), "the ring is still full for the dead subscriber");
            Assert.Equal(seq, ReadSeq(other));
        }
    }

    [Fact]
    public Task Stream_BlockFourSubscriberProcessesOneKilledMidStream_TheOthersGetEveryMessage() =>
        WithSubscriberProcessesAsync(BroadcastOverflow.Block, capacity: 4096, subscribers: 4, async (writer, tails) =>
        {
            const int Messages = 5_000;
            using CancellationTokenSource timeout = new(Deadline);
            for (int seq = 0; seq < Messages; seq++)
            {
                if (seq == Messages / 3) LibC.Kill(tails[0].Id, Signal.SIGKILL); // mid-stream, gating or not
                writer.Write(Line(seq), timeout.Token);
            }
            writer.Complete();

            Assert.Equal(KilledExitCode, await tails[0].WaitForExitAsync(Deadline));
            foreach (ChildProcess tail in tails[1..])
            {
                Assert.True(await tail.WaitForExitAsync(Deadline) == 0, tail.Describe());
                Assert.Equal(Enumerable.Range(0, Messages).Select(seq => Encoding.UTF8.GetString(Line(seq))), Lines(tail.StandardOutput));
            }
        });

    [Fact]
    public Task Stream_OverwriteWithASubscriberProcessStoppedAgainAndAgain_NoTornMessageAndEveryLossReported() =>
        WithSubscriberProcessesAsync(BroadcastOverflow.Overwrite, capacity: 1024, subscribers: 3, async (writer, tails) =>
        {
            const int Messages = 3_000;
            for (int seq = 0; seq < Messages; seq++)
            {
                // The slow one: stopped for 150 messages (a 1 KiB ring holds a few dozen) every 500.
                if (seq % 500 == 0) LibC.Kill(tails[0].Id, Signal.SIGSTOP);
                if (seq % 500 == 150) LibC.Kill(tails[0].Id, Signal.SIGCONT);
                Assert.True(writer.TryWrite(Line(seq)), "an overwriting publisher found the ring full");
            }
            LibC.Kill(tails[0].Id, Signal.SIGCONT);
            writer.Complete();

            long totalLost = 0;
            foreach (ChildProcess tail in tails)
            {
                Assert.True(await tail.WaitForExitAsync(Deadline) == 0, tail.Describe());
                totalLost += AssertGapsAreTheReportedLosses(tail, Messages);
            }
            Assert.True(totalLost > 0, "the stopped subscriber was never lapped");
        });

    /// <summary>A broadcast ring, its publisher here, and <paramref name="subscribers"/> `ring tail` processes that have joined.</summary>
    private async Task WithSubscriberProcessesAsync(BroadcastOverflow overflow, long capacity, int subscribers, Func<RingWriter, ChildProcess[], Task> body)
    {
        string name = _dir.NewName("feed");
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Kind = RingKind.Broadcast, Capacity = capacity, Overflow = overflow });
        using RingWriter writer = segment.CreateWriter();
        ChildProcess[] tails = [.. Enumerable.Range(0, subscribers).Select(_ => StartTail(name))];
        try
        {
            await UntilAllJoinedAsync(segment, tails);
            await body(writer, tails);
        }
        finally
        {
            foreach (ChildProcess tail in tails) tail.Dispose();
        }
    }

    /// <summary>Every line a message as published, in order, the gaps exactly the losses reported on stderr; returns them.</summary>
    private static long AssertGapsAreTheReportedLosses(ChildProcess tail, int messages)
    {
        long expected = 0;
        long gaps = 0;
        foreach (string line in Lines(tail.StandardOutput))
        {
            int seq = int.Parse(line[..line.IndexOf(':', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(line == Encoding.UTF8.GetString(Line(seq)), $"a torn or foreign message: '{line}'");
            Assert.True(seq >= expected, $"message {seq} after {expected - 1}");
            gaps += seq - expected;
            expected = seq + 1;
        }
        Assert.Equal(messages, expected);
        const string Lapped = "ring: lapped by the publisher: ";
        long reported = Lines(tail.StandardError).Sum(line => long.Parse(line[Lapped.Length..line.IndexOf(" messages lost", StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(gaps, reported);
        return reported;
    }

    /// <summary>Message <paramref name="seq"/>: its number, a colon, and 0 to 39 letters derived from it (a torn copy mixes two).</summary>
    private static byte[] Line(int seq) => Encoding.UTF8.GetBytes($"{seq}:{new string((char)('a' + seq % 26), seq % 40)}");

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// Until every subscriber process has joined (at tail 0: nothing is published yet) and sleeps waiting for a message:
    /// a subscriber is a participant before it has joined, so the participant count alone would let the publisher start
    /// ahead of a joiner, which then rightly starts later.
    /// </summary>
    private static Task UntilAllJoinedAsync(RingSegment segment, ChildProcess[] tails) =>
        Polling.UntilAsync(() => segment.GetStatus().ReadersWaiting == tails.Length, $"{tails.Length} subscriber processes asleep", Deadline, tails[0]);

    private static ChildProcess StartTail(string name) =>
        ChildProcess.Start(ChildProcess.DotnetHost, [Path.Combine(AppContext.BaseDirectory, "Ring.Cli.dll"), "tail", name]);

    private static long ReadSeq(RingReader reader)
    {
        byte[] buffer = new byte[8];
        Assert.True(reader.TryRead(buffer, out int length), "the subscriber in this process is missing a message");
        return BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(0, length));
    }
}
