using System.Diagnostics;
using System.Globalization;
using Ring.Stress;
using Ring.Tooling;
using Xunit.Abstractions;

namespace Ring.Tests;

/// <summary>
/// Messages across a real process boundary: one end of the ring is a <c>Ring.Stress worker</c> child process,
/// the other end is this test process, using the same <see cref="StressMessage"/> encoder and
/// <see cref="MessageVerifier"/>. Every test has a hard deadline; a child still running when a test ends
/// (passed, failed or timed out) is killed, and the segment directory is removed.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class CrossProcessTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Longest any test may take; they are meant to need a few seconds.</summary>
    internal static readonly TimeSpan Deadline = TimeSpan.FromSeconds(45);

    /// <summary>
    /// A delivery slower than this means a sleeper was not woken and the bounded 1 s sleep rescued it. The
    /// sleeper goes to sleep a few µs after its side ran dry and the other side's next message comes within a
    /// few ms, so a missed wake-up costs nearly the whole 1 s (a simulated one measured 949 ms). Healthy runs
    /// stay under 100 ms on a 2-core machine; one run at a load average of 12 reached 326 ms.
    /// </summary>
    internal static readonly TimeSpan MaxHealthyLatency = TimeSpan.FromMilliseconds(500);

    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Stream_ChildConsumer_ReceivesEveryMessageIntact()
    {
        const long Messages = 1_000_000;
        WorkerSettings settings = Settings(WorkerRole.Producer, Messages, seed: 0x5EED_0001);
        using RingSegment segment = RingSegment.Create(settings.Segment, new RingOptions { Capacity = 64 * 1024 });
        using RingWriter writer = segment.CreateWriter(WaitStrategy.SpinThenBlock);
        using ChildProcess child = StressWorker.Start(ConsumerArguments(settings));
        await WaitForRoleAsync(segment, RingRole.Consumer, child); // so the timings cover the stream, not the child's start-up

        WorkerResult produced = await ProduceAsync(writer, settings, child);
        WorkerResult consumed = await CollectAsync(child);
        SegmentStatus status = segment.GetStatus();
        Report(produced, consumed, status);

        AssertClean(consumed, Messages, child);
        AssertProducedAll(produced, Messages, child);
        Assert.Equal(produced.Bytes, consumed.Bytes);
        Assert.Equal(Messages, status.MessagesRead);
        Assert.Equal(0, status.MessagesInRing);
    }

    [Fact]
    public async Task Bursty_BlockingConsumer_NeverLosesAWakeUp()
    {
        const long Messages = 60_000;
        WorkerSettings settings = Settings(WorkerRole.Producer, Messages, seed: 0x5EED_0002) with
        {
            Burst = new IntRange(1, 50),
            PauseMs = new IntRange(0, 3),
            ReadTimeout = TimeSpan.FromMilliseconds(2000),
        };
        using RingSegment segment = RingSegment.Create(settings.Segment, new RingOptions { Capacity = 64 * 1024 });
        using RingWriter writer = segment.CreateWriter(WaitStrategy.SpinThenBlock);
        using ChildProcess child = StressWorker.Start(ConsumerArguments(settings));
        // Producing before the child attached would time the child's start-up as latency.
        await WaitForRoleAsync(segment, RingRole.Consumer, child);
        long readerSleepsBefore = ReaderSleeps(segment);

        WorkerResult produced = await ProduceAsync(writer, settings, child);
        WorkerResult consumed = await CollectAsync(child);
        SegmentStatus status = segment.GetStatus();
        long readerSleeps = ReaderSleeps(segment) - readerSleepsBefore;
        Report(produced, consumed, status);
        output.WriteLine($"consumer sleeps: {readerSleeps} over {produced.Pauses} producer pauses");

        AssertClean(consumed, Messages, child);
        AssertProducedAll(produced, Messages, child);
        // Vacuous unless the consumer really went to sleep in the kernel and was woken, over and over: three
        // quarters of the pauses last 1-3 ms, a hundred times the consumer's ~10 µs of spinning, and on a quiet
        // machine about 70% of the pauses end in a sleep. A busy neighbour stretches the consumer's yields past
        // the pauses (one CPU hog brought it down to ~25%), so the floor is 10%: still hundreds of sleeps.
        Assert.True(readerSleeps >= produced.Pauses / 10,
            $"the consumer slept {readerSleeps} times over {produced.Pauses} producer pauses: the blocking path was hardly exercised.\n{child.Describe()}");
        Assert.True(consumed.MaxLatencyUs < MaxHealthyLatency.TotalMicroseconds,
            $"a message took {consumed.MaxLatencyUs} µs to arrive: a wake-up was lost and the bounded sleep rescued it.\n{child.Describe()}");
    }

    /// <summary>
    /// A sleeper in a process that publishes fenced (this test process: the default) on a segment where a producer
    /// process publishes without fences (<c>RING_MEMBARRIER=on</c>, <see cref="PublishOrdering"/>): it cannot run the
    /// barrier that would make the producer's release stores safe for it, so it looks again every millisecond. Half a
    /// second of idle blocking read between two messages counts hundreds of sleeps there, and next to none when the
    /// producer fences too (the control: one sleep of up to 1 s covers it). Both messages arrive either way.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task IdleRead_ProducerWithOrWithoutMembarrier_FencedReaderSleepsAMillisecondAtATimeOnlyWith(bool producerWithoutFences)
    {
        string name = _dir.NewName("xproc");
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Capacity = 4096 });
        using RingReader reader = segment.CreateReader(WaitStrategy.Block);
        Dictionary<string, string?> environment = new() { [PublishOrdering.Variable] = producerWithoutFences ? "on" : null };
        using ChildProcess child = StressWorker.Start(environment,
            "--segment", name, "--role", "producer", "--messages", "2", "--burst", "1", "--pause-ms", "500",
            "--wait", "block", "--seed", "11");
        byte[] message = new byte[reader.MaxMessageLength];
        Assert.True(reader.TryRead(message, out _, Deadline), $"the first message never came.\n{child.Describe()}");

        long sleepsBefore = ReaderSleeps(segment);
        Stopwatch idle = Stopwatch.StartNew();
        Assert.True(reader.TryRead(message, out _, Deadline), $"the second message never came.\n{child.Describe()}");
        long sleeps = ReaderSleeps(segment) - sleepsBefore;
        output.WriteLine($"producer {(producerWithoutFences ? "without fences" : "fenced")}: {sleeps} reader sleeps in {idle.ElapsedMilliseconds} ms of idle read; segment flag {segment.GetStatus().MembarrierPublishers}");
        Assert.Equal(Worker.ExitOk, await child.WaitForExitAsync(Deadline));

        // A kernel that refuses the child its barrier leaves it fenced: then this is the control case again.
        bool flagged = segment.GetStatus().MembarrierPublishers;
        Assert.True(producerWithoutFences || !flagged, "a fenced producer flagged the segment");
        if (flagged) Assert.True(sleeps >= 50, $"{sleeps} sleeps in ~500 ms: a fenced sleeper on a flagged segment must look again every millisecond.\n{child.Describe()}");
        else Assert.True(sleeps <= 5, $"{sleeps} sleeps in ~500 ms: with every publisher fenced one sleep should cover it.\n{child.Describe()}");
    }

    [Fact]
    public async Task FullRing_ChildProducerBlocks_TestConsumerReceivesEveryMessageIntact()
    {
        const long Messages = 40_000;
        WorkerSettings settings = Settings(WorkerRole.Consumer, Messages, seed: 0x5EED_0003) with
        {
            // The consumer dawdles so the 4 KiB ring (~28 messages) fills and the child producer must sleep.
            Burst = new IntRange(1, 100),
            PauseMs = new IntRange(1, 4),
            ReadTimeout = TimeSpan.FromMilliseconds(2000),
            FirstReadTimeout = Deadline, // the child is still starting up
        };
        using RingSegment segment = RingSegment.Create(settings.Segment, new RingOptions { Capacity = 4096 });
        using RingReader reader = segment.CreateReader(WaitStrategy.SpinThenBlock);
        long writerSleepsBefore = WriterSleeps(segment);
        using ChildProcess child = StressWorker.Start(
            "--segment", settings.Segment, "--role", "producer", "--messages", Invariant(Messages),
            "--min-size", Invariant(settings.MinSize), "--max-size", Invariant(settings.MaxSize),
            "--wait", "spin-then-block", "--seed", Invariant(settings.Seed));

        WorkerResult consumed = await ConsumeAsync(reader, settings, child);
        WorkerResult produced = await CollectAsync(child);
        SegmentStatus status = segment.GetStatus();
        long writerSleeps = WriterSleeps(segment) - writerSleepsBefore;
        Report(produced, consumed, status);
        output.WriteLine($"producer sleeps: {writerSleeps} over {consumed.Pauses} consumer pauses");

        AssertClean(consumed, Messages, child);
        AssertProducedAll(produced, Messages, child);
        Assert.Equal(produced.Bytes, consumed.Bytes);
        // As above: most pauses end with the producer asleep on a full ring; the floor leaves room for a noisy machine.
        Assert.True(status.FullEvents > 0 && writerSleeps >= consumed.Pauses / 10,
            $"the child producer found the ring full {status.FullEvents} times and slept {writerSleeps} times over {consumed.Pauses} consumer pauses: the blocking write path was hardly exercised.\n{child.Describe()}");
        Assert.True(consumed.MaxLatencyUs < MaxHealthyLatency.TotalMicroseconds,
            $"a message took {consumed.MaxLatencyUs} µs to arrive: the blocked producer missed a wake-up and the bounded sleep rescued it.\n{child.Describe()}");
    }

    // ---- The detectors: a verifier or worker that flags nothing would make the tests above vacuous ----

    [Fact]
    public void Accept_MissingSequence_CountsItLost()
    {
        MessageVerifier verifier = Feed(5, 0, 1, 3, 4);

        Assert.Equal((1L, 0L, 0L, 0L), (verifier.Lost, verifier.Duplicated, verifier.Reordered, verifier.Corrupted));
    }

    [Fact]
    public void Accept_RepeatedSequence_CountsItDuplicated()
    {
        MessageVerifier verifier = Feed(3, 0, 1, 1, 2);

        Assert.Equal((0L, 1L, 0L, 0L), (verifier.Lost, verifier.Duplicated, verifier.Reordered, verifier.Corrupted));
    }

    [Fact]
    public void Accept_SwappedSequences_CountsOneReordered()
    {
        MessageVerifier verifier = Feed(4, 0, 2, 1, 3);

        Assert.Equal((0L, 0L, 1L, 0L), (verifier.Lost, verifier.Duplicated, verifier.Reordered, verifier.Corrupted));
    }

    [Theory]
    [InlineData("payload")]
    [InlineData("last byte")]
    [InlineData("checksum")]
    [InlineData("sequence")]
    [InlineData("truncated")]
    [InlineData("sent in the future")]
    public void Accept_DamagedMessage_CountsItCorruptedAndLost(string damage)
    {
        const ulong Seed = 7;
        MessageVerifier verifier = new(3, Seed, StressMessage.PrefixLength, 256);
        long now = Stopwatch.GetTimestamp();
        byte[] damaged = Encode(Seed, 1, now);
        switch (damage)
        {
            case "payload": damaged[StressMessage.PrefixLength] ^= 1; break;
            case "last byte": damaged[^1] ^= 0x80; break;
            case "checksum": damaged[StressMessage.ChecksumOffset] ^= 1; break;
            case "sequence": damaged[StressMessage.SequenceOffset] ^= 2; break; // 1 becomes 3: out of range
            case "truncated": damaged = damaged[..^1]; break;
            case "sent in the future": StressMessage.Stamp(damaged, now + Stopwatch.Frequency); break;
        }

        verifier.Accept(Encode(Seed, 0, now), now);
        verifier.Accept(damaged, now);
        verifier.Accept(Encode(Seed, 2, now), now);

        Assert.Equal((1L, 1L, 0L, 0L), (verifier.Corrupted, verifier.Lost, verifier.Duplicated, verifier.Reordered));
    }

    [Fact]
    public async Task Worker_ProducerStopsShort_ExitsOneReportingTheLostMessages()
    {
        WorkerSettings settings = Settings(WorkerRole.Producer, 90, seed: 0x5EED_0004) with { ReadTimeout = TimeSpan.FromMilliseconds(300) };
        using RingSegment segment = RingSegment.Create(settings.Segment, new RingOptions { Capacity = 64 * 1024 });
        using RingWriter writer = segment.CreateWriter(WaitStrategy.SpinThenBlock);
        StressProducer.Run(writer, settings); // 90 messages fit: nothing blocks
        using ChildProcess child = StressWorker.Start(ConsumerArguments(settings with { Messages = 100 }));

        int exitCode = await child.WaitForExitAsync(Deadline);
        WorkerResult consumed = child.ReadWorkerResult();

        Assert.True(exitCode == Worker.ExitViolations, $"exit code {exitCode}, expected {Worker.ExitViolations}.\n{child.Describe()}");
        Assert.Equal((90L, 10L, 0L, 0L), (consumed.Messages, consumed.Lost, consumed.Corrupted, consumed.LostWakeups));
        Assert.Contains("producer stopped", child.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("end of day", "end of day", Worker.ExitOk)]
    [InlineData("end of day", null, Worker.ExitOk)]
    [InlineData("end of day", "restart", Worker.ExitViolations)]
    public async Task Worker_ConsumerExpectingCompletion_ExitsZeroOnlyForTheExpectedReason(string reason, string? expected, int expectedExitCode)
    {
        WorkerSettings settings = Settings(WorkerRole.Producer, 90, seed: 0x5EED_0007);
        using RingSegment segment = RingSegment.Create(settings.Segment, new RingOptions { Capacity = 64 * 1024 });
        using (RingWriter writer = segment.CreateWriter(WaitStrategy.SpinThenBlock))
        {
            StressProducer.Run(writer, settings with { Complete = true, CompleteReason = reason });
        }
        using ChildProcess child = StressWorker.Start([.. ConsumerArguments(settings), "--complete", .. expected is null ? Array.Empty<string>() : [expected]]);

        int exitCode = await child.WaitForExitAsync(Deadline);
        WorkerResult consumed = child.ReadWorkerResult();

        Assert.True(exitCode == expectedExitCode, $"exit code {exitCode}, expected {expectedExitCode}.\n{child.Describe()}");
        Assert.Equal((90L, 0L, StreamEnd.Completed, reason), (consumed.Messages, consumed.Lost, consumed.Completion, consumed.CompletionReason));
        if (expectedExitCode != Worker.ExitOk) Assert.Contains($"completed with the reason '{reason}', not '{expected}'", child.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_RingCompletedShort_ConsumerExitsOneReportingTheShortfallLost()
    {
        // A read timeout the run never comes near: the end must come from the completion.
        WorkerSettings settings = Settings(WorkerRole.Producer, 90, seed: 0x5EED_0008) with { ReadTimeout = Deadline };
        using RingSegment segment = RingSegment.Create(settings.Segment, new RingOptions { Capacity = 64 * 1024 });
        using (RingWriter writer = segment.CreateWriter(WaitStrategy.SpinThenBlock))
        {
            StressProducer.Run(writer, settings with { Complete = true, CompleteReason = "shift over" });
        }
        using ChildProcess child = StressWorker.Start(ConsumerArguments(settings with { Messages = 100 }));

        int exitCode = await child.WaitForExitAsync(Deadline);
        WorkerResult consumed = child.ReadWorkerResult();

        Assert.True(exitCode == Worker.ExitViolations, $"exit code {exitCode}, expected {Worker.ExitViolations}.\n{child.Describe()}");
        Assert.Equal((90L, 10L, 0L, StreamEnd.Completed, "shift over"), (consumed.Messages, consumed.Lost, consumed.Corrupted, consumed.Completion, consumed.CompletionReason));
        Assert.Contains("the stream ended (completed: shift over) after 90 of 100 were delivered", child.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_ConsumerExpectingCompletion_RingLeftOpen_ExitsOne()
    {
        WorkerSettings settings = Settings(WorkerRole.Producer, 20, seed: 0x5EED_0009) with { ReadTimeout = TimeSpan.FromMilliseconds(300) };
        using RingSegment segment = RingSegment.Create(settings.Segment, new RingOptions { Capacity = 64 * 1024 });
        using (RingWriter writer = segment.CreateWriter(WaitStrategy.SpinThenBlock))
        {
            StressProducer.Run(writer, settings);
        }
        using ChildProcess child = StressWorker.Start([.. ConsumerArguments(settings), "--complete"]);

        int exitCode = await child.WaitForExitAsync(Deadline);
        WorkerResult consumed = child.ReadWorkerResult();

        Assert.True(exitCode == Worker.ExitViolations, $"exit code {exitCode}, expected {Worker.ExitViolations}.\n{child.Describe()}");
        Assert.Equal((20L, 0L, null), (consumed.Messages, consumed.Lost, consumed.Completion));
        Assert.Contains("the ring was not completed within 300 ms of the last message", child.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_ConsumerPeerLossComplete_ProducerDetachedShort_ExitsOneReportingPeerLostAndTheShortfall()
    {
        WorkerSettings settings = Settings(WorkerRole.Producer, 30, seed: 0x5EED_000A) with { ReadTimeout = Deadline };
        using RingSegment segment = RingSegment.Create(settings.Segment, new RingOptions { Capacity = 64 * 1024 });
        using (RingWriter writer = segment.CreateWriter(WaitStrategy.SpinThenBlock))
        {
            StressProducer.Run(writer, settings);
        }
        using ChildProcess child = StressWorker.Start([.. ConsumerArguments(settings with { Messages = 100 }), "--peer-loss", "complete"]);

        int exitCode = await child.WaitForExitAsync(Deadline);
        WorkerResult consumed = child.ReadWorkerResult();

        Assert.True(exitCode == Worker.ExitViolations, $"exit code {exitCode}, expected {Worker.ExitViolations}.\n{child.Describe()}");
        Assert.Equal((30L, 70L, StreamEnd.PeerLost), (consumed.Messages, consumed.Lost, consumed.Completion));
        Assert.Equal("every producer is gone: the last one detached", consumed.CompletionReason);
    }

    [Fact]
    public async Task Worker_ProducerPeerLossComplete_ConsumerDetachesFromAFullRing_ExitsOneReportingPeerLost()
    {
        string name = _dir.NewName("xproc");
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Capacity = 4096 });
        RingReader reader = segment.CreateReader(WaitStrategy.SpinThenBlock);
        using ChildProcess child = StressWorker.Start(
            "--segment", name, "--role", "producer", "--messages", "1000", "--peer-loss", "complete", "--write-timeout-ms", Invariant((long)Deadline.TotalMilliseconds));
        await WaitForRoleAsync(segment, RingRole.Producer, child);
        await Polling.UntilAsync(() => segment.GetStatus().WritersWaiting > 0, "the child producer to wait for room", Deadline, child, childMustRun: true);

        reader.Dispose(); // a clean detach wakes the writer at once
        int exitCode = await child.WaitForExitAsync(Deadline);
        WorkerResult produced = child.ReadWorkerResult();

        Assert.True(exitCode == Worker.ExitViolations, $"exit code {exitCode}, expected {Worker.ExitViolations}.\n{child.Describe()}");
        Assert.Equal((StreamEnd.PeerLost, "every consumer is gone: the last one detached"), (produced.Completion, produced.CompletionReason));
        Assert.Equal(produced.Messages, segment.GetStatus().MessagesInRing);
        Assert.Contains($"after {produced.Messages} of 1000 were written", child.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_MessageDamagedInTheRing_ExitsOneReportingItCorrupted()
    {
        WorkerSettings settings = Settings(WorkerRole.Producer, 20, seed: 0x5EED_0005) with { ReadTimeout = TimeSpan.FromMilliseconds(300) };
        using RingSegment segment = RingSegment.Create(settings.Segment, new RingOptions { Capacity = 64 * 1024 });
        using (RingWriter writer = segment.CreateWriter(WaitStrategy.SpinThenBlock))
        {
            for (long sequence = 0; sequence < settings.Messages; sequence++)
            {
                byte[] message = Encode(settings.Seed, sequence, Stopwatch.GetTimestamp(), settings.MaxSize);
                if (sequence == 11) message[^1] ^= 0x10;
                Assert.True(writer.TryWrite(message));
            }
        }
        using ChildProcess child = StressWorker.Start(ConsumerArguments(settings));

        int exitCode = await child.WaitForExitAsync(Deadline);
        WorkerResult consumed = child.ReadWorkerResult();

        Assert.True(exitCode == Worker.ExitViolations, $"exit code {exitCode}, expected {Worker.ExitViolations}.\n{child.Describe()}");
        Assert.Equal((20L, 1L, 1L), (consumed.Messages, consumed.Corrupted, consumed.Lost));
    }

    [Fact]
    public async Task Worker_NobodyReads_ProducerExitsOneWhenTheRingStaysFull()
    {
        string name = _dir.NewName("xproc");
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Capacity = 4096 });
        using ChildProcess child = StressWorker.Start(
            "--segment", name, "--role", "producer", "--messages", "1000", "--write-timeout-ms", "300");

        int exitCode = await child.WaitForExitAsync(Deadline);
        WorkerResult produced = child.ReadWorkerResult();

        Assert.True(exitCode == Worker.ExitViolations, $"exit code {exitCode}, expected {Worker.ExitViolations}.\n{child.Describe()}");
        Assert.InRange(produced.Messages, 1, 4096 / 32); // what fits in 4 KiB of records of 32 bytes or more
        Assert.Equal(produced.Messages, segment.GetStatus().MessagesInRing);
        Assert.Contains("consumer stopped", child.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Worker.ExitUsage, "--role", "sideways")]
    [InlineData(Worker.ExitUsage, "--role", "consumer", "--min-size", "19")]
    [InlineData(Worker.ExitUsage, "--role", "consumer", "--burst", "5")]
    [InlineData(Worker.ExitAttachFailed, "--role", "consumer")]
    public async Task Worker_BadInvocation_ExitsWithItsCodeAndNoResultLine(int expectedExitCode, params string[] arguments)
    {
        using ChildProcess child = StressWorker.Start(["--segment", _dir.NewName("absent"), "--messages", "10", .. arguments]);

        int exitCode = await child.WaitForExitAsync(Deadline);

        Assert.True(exitCode == expectedExitCode, $"exit code {exitCode}, expected {expectedExitCode}.\n{child.Describe()}");
        Assert.Equal("", child.StandardOutput);
        Assert.NotEqual("", child.StandardError);
    }

    private static MessageVerifier Feed(long expected, params long[] sequences)
    {
        const ulong Seed = 3;
        MessageVerifier verifier = new(expected, Seed, StressMessage.PrefixLength, 256);
        long now = Stopwatch.GetTimestamp();
        foreach (long sequence in sequences) verifier.Accept(Encode(Seed, sequence, now), now);
        return verifier;
    }

    private static byte[] Encode(ulong seed, long sequence, long timestamp, int maxSize = 256)
    {
        byte[] message = new byte[StressMessage.SizeFor(seed, sequence, StressMessage.PrefixLength, maxSize)];
        StressMessage.Encode(message, seed, sequence, timestamp);
        return message;
    }

    private WorkerSettings Settings(WorkerRole role, long messages, ulong seed) => new()
    {
        Segment = _dir.NewName("xproc"),
        Role = role,
        Messages = messages,
        MinSize = StressMessage.PrefixLength,
        MaxSize = 256,
        Wait = WaitStrategy.SpinThenBlock,
        Seed = seed,
    };

    private static string[] ConsumerArguments(WorkerSettings producer) =>
    [
        "--segment", producer.Segment, "--role", "consumer", "--messages", Invariant(producer.Messages),
        "--min-size", Invariant(producer.MinSize), "--max-size", Invariant(producer.MaxSize),
        "--wait", EnumNames.Of(producer.Wait), "--seed", Invariant(producer.Seed),
        "--read-timeout-ms", Invariant((long)producer.ReadTimeout.TotalMilliseconds),
    ];

    /// <summary>Runs the in-process producer; stops it (and fails) if the child exits first or the deadline passes.</summary>
    private static async Task<WorkerResult> ProduceAsync(RingWriter writer, WorkerSettings settings, ChildProcess child)
    {
        using CancellationTokenSource stop = new(Deadline);
        // A child that has exited reads nothing more: a producer waiting for room would wait forever. A child
        // that exits having read everything only exits after the last write returned, so this never cuts a
        // healthy run short.
        StopWhenExited(child, stop);
        try
        {
            return await Task.Factory.StartNew(() => StressProducer.Run(writer, settings, stop.Token),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"the producer was stopped while blocked: {(child.HasExited ? "the child exited" : $"past the {Deadline.TotalSeconds} s deadline")}.\n{child.Describe()}");
        }
    }

    /// <summary>Runs the in-process consumer; stops it (and fails) if the child fails or the deadline passes.</summary>
    private static async Task<WorkerResult> ConsumeAsync(RingReader reader, WorkerSettings settings, ChildProcess child)
    {
        using CancellationTokenSource stop = new(Deadline);
        // A child producer that exits cleanly has written everything; the consumer then drains the ring.
        StopWhenExited(child, stop, onlyOnFailure: true);
        try
        {
            return await Task.Factory.StartNew(() => StressConsumer.Run(reader, settings, stop.Token),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"the consumer was stopped while waiting: {(child.HasExited ? "the child failed" : $"past the {Deadline.TotalSeconds} s deadline")}.\n{child.Describe()}");
        }
    }

    private static void StopWhenExited(ChildProcess child, CancellationTokenSource stop, bool onlyOnFailure = false)
    {
        _ = child.Exited.ContinueWith(exited =>
        {
            if (onlyOnFailure && exited.Result == 0) return;
            try
            {
                stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The run is over already.
            }
        }, TaskScheduler.Default);
    }

    /// <summary>Waits for the child to exit and returns its result line; a non-zero exit fails with its output.</summary>
    private static async Task<WorkerResult> CollectAsync(ChildProcess child)
    {
        int exitCode = await child.WaitForExitAsync(Deadline);
        Assert.True(exitCode == Worker.ExitOk, $"the worker exited with code {exitCode}.\n{child.Describe()}");
        return child.ReadWorkerResult();
    }

    private static Task WaitForRoleAsync(RingSegment segment, RingRole role, ChildProcess child) => Polling.UntilRoleAsync(segment, role, child, Deadline);

    private static void AssertClean(WorkerResult consumed, long messages, ChildProcess child)
    {
        List<string> problems = [];
        if (consumed.Error is not null) problems.Add($"error: {consumed.Error}");
        if (consumed.Messages != messages) problems.Add($"{consumed.Messages} messages read, {messages} sent");
        if (consumed.Lost != 0) problems.Add($"{consumed.Lost} lost");
        if (consumed.Duplicated != 0) problems.Add($"{consumed.Duplicated} duplicated");
        if (consumed.Reordered != 0) problems.Add($"{consumed.Reordered} reordered");
        if (consumed.Corrupted != 0) problems.Add($"{consumed.Corrupted} corrupted");
        if (consumed.LostWakeups != 0) problems.Add($"{consumed.LostWakeups} LOST WAKE-UPS");
        Assert.True(problems.Count == 0, $"{string.Join("; ", problems)}\nconsumer: {consumed.ToJson()}\n{child.Describe()}");
    }

    private static void AssertProducedAll(WorkerResult produced, long messages, ChildProcess child) =>
        Assert.True(produced.Error is null && produced.Messages == messages,
            $"the producer wrote {produced.Messages} of {messages} messages{(produced.Error is null ? "" : $": {produced.Error}")}\nproducer: {produced.ToJson()}\n{child.Describe()}");

    private void Report(WorkerResult produced, WorkerResult consumed, SegmentStatus status)
    {
        output.WriteLine($"producer: {produced.ToJson()}");
        output.WriteLine($"consumer: {consumed.ToJson()}");
        output.WriteLine($"segment: written {status.MessagesWritten}, read {status.MessagesRead}, full {status.FullEvents}, empty {status.EmptyEvents}, sleeps {status.Sleeps}, wakes {status.Wakes}");
    }

    // The public status adds both directions' sleeps; these tell them apart.
    private static long ReaderSleeps(RingSegment segment) => new EventCount<SharedBuffer>(segment.Buffer, SegmentLayout.ReadersEventOffset).Sleeps;

    private static long WriterSleeps(RingSegment segment) => new EventCount<SharedBuffer>(segment.Buffer, SegmentLayout.WritersEventOffset).Sleeps;

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Invariant(ulong value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Cross-process tests run alone, after the parallel ones: each keeps two threads busy in two processes on a
/// 2-core machine, and they measure wake-up latency and count kernel sleeps, which a CPU-bound neighbour
/// would distort (a sched_yield that has to wait for a busy neighbour's slice stretches the spin-then-block
/// phase past the producer's pauses, and the consumer never sleeps).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CrossProcessCollection
{
    public const string Name = "Cross-process";
}

