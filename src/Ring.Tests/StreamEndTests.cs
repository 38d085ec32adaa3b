using System.Diagnostics;
using System.Globalization;
using Ring.Stress;
using Ring.Tooling;
using Ring.Tooling.Platform;
using Xunit.Abstractions;

namespace Ring.Tests;

/// <summary>
/// The end of the stream across a real process boundary: a <c>Ring.Stress worker</c> child plays the other end and
/// completes the ring, or dies (SIGKILL) or freezes (SIGSTOP) between messages, while this process's endpoint is at
/// rest or asleep in the kernel. How long a sleeper takes to notice a death is measured from the SIGKILL to the
/// exception and printed ("detected in").
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class StreamEndTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Longest any wait in a test may take; the tests need a second or two each.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The bound a blocked endpoint is held to. The design aims at about 250 ms: a watching sleeper wakes every
    /// 100 ms, looks at its peers at most every 50 ms, and the dying process's locks go only once its last thread has
    /// exited.
    /// </summary>
    private static readonly TimeSpan DetectionBound = TimeSpan.FromSeconds(1);

    /// <summary>How long a reader that must see no end waits: many times the ~250 ms in which a loss is noticed.</summary>
    private static readonly TimeSpan QuietWait = TimeSpan.FromSeconds(2);

    /// <summary>How long before the end of a <see cref="QuietWait"/> the peer must have died or stopped, for the wait to show anything.</summary>
    private static readonly TimeSpan QuietMargin = TimeSpan.FromMilliseconds(750);

    /// <summary>What .NET reports for a child killed by SIGKILL: 128 + 9.</summary>
    private const int KilledExitCode = 128 + (int)Signal.SIGKILL;

    private const int MinSize = StressMessage.PrefixLength;
    private const int MaxSize = 128;

    /// <summary>What an idle producer writes before it pauses for a minute (<see cref="StartIdleProducer"/>).</summary>
    private const int Burst = 3;

    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task Read_ChildProducerCompletesWithReason_GetsEveryMessageInOrderThenRingCompletedException(RingKind kind)
    {
        const long Messages = 2000; // the small ring fills and wraps many times
        const ulong Seed = 0xE9D0_0001;
        string name = _dir.NewName("end");
        using RingSegment segment = Create(name, kind);
        using RingReader reader = segment.CreateReader();
        using ReadingThread reading = new(reader, Messages, Seed);
        using ChildProcess child = StartWorker(name, "producer", Messages, Seed, "--complete", "shift over");

        int exitCode = await child.WaitForExitAsync(Deadline);
        Assert.True(exitCode == Worker.ExitOk, $"exit code {exitCode}.\n{child.Describe()}");
        (RingCompletedException ended, _) = await reading.Ended.WaitAsync(Deadline);
        WorkerResult produced = child.ReadWorkerResult();
        MessageVerifier got = reading.Verifier;

        Assert.Equal((Messages, StreamEnd.Completed, "shift over"), (produced.Messages, produced.Completion, produced.CompletionReason));
        Assert.IsType<RingCompletedException>(ended); // the completion, not the producer's detach right after it
        Assert.Equal("shift over", ended.Reason);
        Assert.Equal((Messages, Messages, 0L, 0L, 0L), (got.Received, got.Delivered, got.Duplicated, got.Reordered, got.Corrupted));
        Assert.True(reader.IsCompleted);
        SegmentStatus status = segment.GetStatus();
        Assert.Equal((true, "shift over", 0L), (status.IsCompleted, status.CompletionReason, status.MessagesInRing));
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task Read_PeerLossCompleteChildProducerKilledAtRest_DrainsThenThrowsRingPeerLostExceptionNamingThePid(RingKind kind)
    {
        const ulong Seed = 0xE9D0_0002;
        string name = _dir.NewName("end");
        using RingSegment segment = Create(name, kind);
        using RingReader reader = segment.CreateReader(WaitStrategy.SpinThenBlock, PeerLoss.Complete);
        using ChildProcess child = StartIdleProducer(name, Seed);
        await Polling.UntilAsync(() => segment.GetStatus().MessagesWritten >= Burst, "the child to write its burst", Deadline, child, childMustRun: true);
        Assert.False(reader.IsCompleted, "the stream ended while its producer was alive");
        Assert.Equal(1, reader.ProducersAlive);

        LibC.Kill(child.Id, Signal.SIGKILL);
        Assert.Equal(KilledExitCode, await child.WaitForExitAsync(Deadline));
        using CancellationTokenSource limit = new(Deadline);
        byte[] buffer = new byte[MaxSize];
        MessageVerifier got = new(Burst, Seed, MinSize, MaxSize);
        for (int i = 0; i < Burst; i++) got.Accept(buffer.AsSpan(0, reader.Read(buffer, limit.Token)), Stopwatch.GetTimestamp());
        Stopwatch took = Stopwatch.StartNew();
        RingPeerLostException lost = Assert.Throws<RingPeerLostException>(() => reader.Read(buffer, limit.Token));
        output.WriteLine($"{kind}: the drained reader ended {took.Elapsed.TotalMilliseconds:0.0} ms into its read after the death");

        Assert.Equal(((long)Burst, 0L, 0L), (got.Delivered, got.Corrupted, got.Reordered));
        Assert.Equal($"every producer is gone: pid {child.Id} died", lost.Reason);
        Assert.Contains($"pid {child.Id} died", lost.Message, StringComparison.Ordinal);
        Assert.Equal((true, lost.Reason, 0), (reader.IsCompleted, reader.CompletionReason, reader.ProducersAlive));
        Assert.False(segment.GetStatus().IsCompleted, "the ring itself was completed: the loss is this reader's view, not a completion");
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task Read_PeerLossCompleteChildProducerKilledWhileReaderSleeps_ThrowsRingPeerLostExceptionWithinOneSecond(RingKind kind)
    {
        const ulong Seed = 0xE9D0_0003;
        string name = _dir.NewName("end");
        using RingSegment segment = Create(name, kind);
        using RingReader reader = segment.CreateReader(WaitStrategy.SpinThenBlock, PeerLoss.Complete);
        using ChildProcess child = StartIdleProducer(name, Seed);
        using ReadingThread reading = new(reader, Burst, Seed);
        await Polling.UntilAsync(() => reading.Received == Burst && segment.GetStatus().ReadersWaiting > 0,
            "the reader to drain the ring and fall asleep", Deadline, child, childMustRun: true);

        await KillWhileAsleepAsync(child, reading.Ended, "producer", $"{kind}: reader asleep, producer killed");

        Assert.Equal(((long)Burst, 0L), (reading.Verifier.Delivered, reading.Verifier.Corrupted));
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task TryRead_PeerLossWaitChildProducerKilledWhileReaderSleeps_TimesOutNotCompletedAndASuccessorWrites(RingKind kind)
    {
        const ulong Seed = 0xE9D0_0004;
        string name = _dir.NewName("end");
        using RingSegment segment = Create(name, kind);
        using RingReader reader = segment.CreateReader(WaitStrategy.SpinThenBlock); // PeerLoss.Wait, the default
        using ChildProcess child = StartIdleProducer(name, Seed);
        Drain(reader, Burst, Seed, child);
        using Background<TimedRead> waiting = new(_ => TimedRead.Run(reader, QuietWait));
        await Polling.UntilAsync(() => segment.GetStatus().ReadersWaiting > 0, "the reader to fall asleep", Deadline, child, childMustRun: true);

        long killedAt = Stopwatch.GetTimestamp();
        LibC.Kill(child.Id, Signal.SIGKILL);
        Assert.Equal(KilledExitCode, await child.WaitForExitAsync(Deadline));
        TimedRead read = await waiting.Task.WaitAsync(Deadline);
        output.WriteLine($"{kind}: reader asleep, producer killed, PeerLoss.Wait: {read.Describe(killedAt, QuietWait)}");

        Assert.False(read.Got, "a message came from a dead producer");
        read.AssertWaitedOut(QuietWait, killedAt, QuietMargin);
        Assert.Equal((false, null, 0), (reader.IsCompleted, reader.CompletionReason, reader.ProducersAlive));
        using (RingWriter successor = segment.CreateWriter())
        {
            Assert.True(successor.TryWrite(Message(Seed, Burst)));
        }
        Assert.True(reader.TryRead(new byte[MaxSize], out _), "the successor's message did not arrive");
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task Write_PeerLossCompleteChildConsumerKilledWhileWriterBlocked_ThrowsRingPeerLostExceptionWithinOneSecond(RingKind kind)
    {
        const ulong Seed = 0xE9D0_0005;
        string name = _dir.NewName("end");
        using RingSegment segment = Create(name, kind);
        using RingWriter writer = segment.CreateWriter(WaitStrategy.SpinThenBlock, PeerLoss.Complete);
        // The child reads one message and then pauses for a minute: the ring fills behind it.
        using ChildProcess child = StartWorker(name, "consumer", 1_000_000, Seed, "--burst", "1", "--pause-ms", "60000");
        await Polling.UntilRoleAsync(segment, RingRole.Consumer, child, Deadline);
        long written = 0;
        using Background<(RingCompletedException Ended, long At)> writing = new(stop =>
        {
            try
            {
                for (long sequence = 0; ; sequence++)
                {
                    writer.Write(Message(Seed, sequence), stop);
                    Interlocked.Increment(ref written);
                }
            }
            catch (RingCompletedException ended)
            {
                return (ended, Stopwatch.GetTimestamp());
            }
        });
        await Polling.UntilAsync(() => segment.GetStatus() is { MessagesRead: >= 1, WritersWaiting: > 0 },
            "the ring to fill behind the paused consumer and the writer to fall asleep", Deadline, child, childMustRun: true);

        await KillWhileAsleepAsync(child, writing.Task, "consumer", $"{kind}: writer asleep on a full ring, consumer killed");

        SegmentStatus status = segment.GetStatus();
        Assert.Equal((Interlocked.Read(ref written), 1L), (status.MessagesWritten, status.MessagesRead));
        Assert.False(writer.IsCompleted, "the writer reports the ring completed: the loss is its own view, not a completion");
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task TryRead_PeerLossCompleteChildProducerStoppedWhileReaderSleeps_KeepsWaitingUntilItIsKilled(RingKind kind)
    {
        const ulong Seed = 0xE9D0_0006;
        string name = _dir.NewName("end");
        using RingSegment segment = Create(name, kind);
        using RingReader reader = segment.CreateReader(WaitStrategy.SpinThenBlock, PeerLoss.Complete);
        using ChildProcess child = StartIdleProducer(name, Seed);
        Drain(reader, Burst, Seed, child);
        using Background<TimedRead> waiting = new(_ => TimedRead.Run(reader, QuietWait));
        await Polling.UntilAsync(() => segment.GetStatus().ReadersWaiting > 0, "the reader to fall asleep", Deadline, child, childMustRun: true);

        long stoppedAt = Stopwatch.GetTimestamp();
        LibC.Kill(child.Id, Signal.SIGSTOP);
        await Polling.UntilAsync(() => ProcessState.Of(child.Id) == 'T', "the child to stop", Deadline, child, childMustRun: true);
        TimedRead read = await waiting.Task.WaitAsync(Deadline);
        output.WriteLine($"{kind}: reader asleep, producer stopped, PeerLoss.Complete: {read.Describe(stoppedAt, QuietWait)}");

        Assert.False(read.Got, "a message came from a stopped producer");
        read.AssertWaitedOut(QuietWait, stoppedAt, QuietMargin);
        Assert.Equal('T', ProcessState.Of(child.Id));
        Assert.Equal((false, null, 1), (reader.IsCompleted, reader.CompletionReason, reader.ProducersAlive));
        // The same reader was watching all along: once the stopped producer is killed, the stream ends.
        LibC.Kill(child.Id, Signal.SIGKILL);
        Assert.Equal(KilledExitCode, await child.WaitForExitAsync(Deadline));
        using CancellationTokenSource limit = new(Deadline);
        Assert.Throws<RingPeerLostException>(() => reader.Read(new byte[MaxSize], limit.Token));
    }

    /// <summary>
    /// SIGKILLs the child while this process's endpoint sleeps waiting for it; the endpoint's stream must end with the
    /// loss of the <paramref name="peer"/>, naming the child, within <see cref="DetectionBound"/> of the kill (printed).
    /// </summary>
    private async Task KillWhileAsleepAsync(ChildProcess child, Task<(RingCompletedException Ended, long At)> ending, string peer, string what)
    {
        long killedAt = Stopwatch.GetTimestamp();
        LibC.Kill(child.Id, Signal.SIGKILL);
        (RingCompletedException ended, long endedAt) = await ending.WaitAsync(Deadline);
        TimeSpan latency = Stopwatch.GetElapsedTime(killedAt, endedAt);
        output.WriteLine($"{what}: detected in {latency.TotalMilliseconds:0.0} ms");

        RingPeerLostException lost = Assert.IsType<RingPeerLostException>(ended);
        Assert.Equal($"every {peer} is gone: pid {child.Id} died", lost.Reason);
        Assert.Equal(KilledExitCode, await child.WaitForExitAsync(Deadline));
        Assert.True(latency < DetectionBound, $"the sleeper learned of the death {latency.TotalMilliseconds:0} ms after the SIGKILL.\n{child.Describe()}");
    }

    private static RingSegment Create(string name, RingKind kind) => RingSegment.Create(name, kind == RingKind.Spsc
        ? new RingOptions { Capacity = 1024, MaxMessageLength = MaxSize }
        : new RingOptions { Kind = RingKind.Mpmc, SlotCount = 16, MaxMessageLength = MaxSize });

    private static ChildProcess StartWorker(string segment, string role, long messages, ulong seed, params string[] extra) =>
        StressWorker.Start(
        [
            "--segment", segment, "--role", role, "--messages", Invariant(messages), "--seed", seed.ToString(CultureInfo.InvariantCulture),
            "--min-size", Invariant(MinSize), "--max-size", Invariant(MaxSize), "--read-timeout-ms", "60000", "--write-timeout-ms", "60000",
            .. extra,
        ]);

    /// <summary>A producer that writes <see cref="Burst"/> messages and then pauses for a minute: alive, attached and idle.</summary>
    private static ChildProcess StartIdleProducer(string segment, ulong seed) =>
        StartWorker(segment, "producer", 1000, seed, "--burst", Invariant(Burst), "--pause-ms", "60000");

    /// <summary>Reads the child's first <paramref name="count"/> messages, in order and intact.</summary>
    private static void Drain(RingReader reader, int count, ulong seed, ChildProcess child)
    {
        byte[] buffer = new byte[MaxSize];
        for (long sequence = 0; sequence < count; sequence++)
        {
            Assert.True(reader.TryRead(buffer, out int length, Deadline), $"message {sequence} never came.\n{child.Describe()}");
            Assert.True(StressMessage.IsIntact(buffer.AsSpan(0, length), seed, MinSize, MaxSize, out _, out long got), $"message {sequence} is damaged");
            Assert.Equal(sequence, got);
        }
    }

    /// <summary>Message <paramref name="sequence"/> of producer 0's stream, stamped now.</summary>
    private static byte[] Message(ulong seed, long sequence)
    {
        byte[] message = new byte[StressMessage.SizeFor(seed, sequence, MinSize, MaxSize)];
        StressMessage.Encode(message, seed, sequence, Stopwatch.GetTimestamp());
        return message;
    }

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>One timed read on a thread of its own: whether it got a message, and when it began and ended (Stopwatch ticks).</summary>
    private readonly record struct TimedRead(bool Got, long Began, long Ended)
    {
        public TimeSpan Waited => Stopwatch.GetElapsedTime(Began, Ended);

        public static TimedRead Run(RingReader reader, TimeSpan timeout)
        {
            long began = Stopwatch.GetTimestamp();
            bool got = reader.TryRead(new byte[reader.MaxMessageLength], out _, timeout);
            return new TimedRead(got, began, Stopwatch.GetTimestamp());
        }

        public string Describe(long peerHitAt, TimeSpan timeout) =>
            $"waited {Waited.TotalMilliseconds:0} ms of {timeout.TotalMilliseconds:0}, {Stopwatch.GetElapsedTime(peerHitAt, Ended).TotalMilliseconds:0} ms of them after the signal";

        /// <summary>
        /// The read ran to its timeout, and the signal came early enough in it that a loss, had it been taken for one,
        /// would have ended it.
        /// </summary>
        public void AssertWaitedOut(TimeSpan timeout, long peerHitAt, TimeSpan margin)
        {
            Assert.True(Waited >= timeout, $"the read ended after {Waited.TotalMilliseconds:0} ms, before its {timeout.TotalMilliseconds:0} ms timeout");
            TimeSpan after = Stopwatch.GetElapsedTime(peerHitAt, Ended);
            Assert.True(after >= margin, $"the signal came only {after.TotalMilliseconds:0} ms before the read timed out: too late to show anything");
        }
    }

    /// <summary>
    /// This process's reader on a thread of its own, reading with blocking reads until the stream ends: it checks each
    /// message against the child's stream and notes when the end came (Stopwatch ticks) and how. Declare it after the
    /// reader: disposing it cancels the read and waits for the thread.
    /// </summary>
    private sealed class ReadingThread : IDisposable
    {
        private readonly Background<(RingCompletedException Ended, long At)> _thread;
        private long _received;

        public ReadingThread(RingReader reader, long messages, ulong seed)
        {
            Verifier = new MessageVerifier(messages, seed, MinSize, MaxSize);
            _thread = new(stop =>
            {
                byte[] buffer = new byte[reader.MaxMessageLength];
                try
                {
                    while (true)
                    {
                        int length = reader.Read(buffer, stop);
                        Verifier.Accept(buffer.AsSpan(0, length), Stopwatch.GetTimestamp());
                        Interlocked.Increment(ref _received);
                    }
                }
                catch (RingCompletedException ended)
                {
                    return (ended, Stopwatch.GetTimestamp());
                }
            });
        }

        /// <summary>What the thread read; look at it only once <see cref="Ended"/> has completed.</summary>
        public MessageVerifier Verifier { get; }

        public long Received => Interlocked.Read(ref _received);

        public Task<(RingCompletedException Ended, long At)> Ended => _thread.Task;

        public void Dispose() => _thread.Dispose();
    }
}
