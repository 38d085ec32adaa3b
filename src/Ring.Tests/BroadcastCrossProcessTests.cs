using System.Buffers.Binary;
using System.Diagnostics;
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
        using ChildProcess child = ChildProcess.Start(ChildProcess.DotnetHost, [Path.Combine(AppContext.BaseDirectory, "Ring.Cli.dll"), "tail", name]);
        await Polling.UntilRoleAsync(segment, RingRole.Consumer, child, Deadline);
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

    private static long ReadSeq(RingReader reader)
    {
        byte[] buffer = new byte[8];
        Assert.True(reader.TryRead(buffer, out int length), "the subscriber in this process is missing a message");
        return BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(0, length));
    }
}
