using System.Diagnostics;
using System.Globalization;
using Ring.Stress;
using Ring.Tooling;
using Ring.Tooling.Platform;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Ring.Tests;

/// <summary>
/// Crash recovery across real process boundaries: a <c>Ring.Stress worker</c> child plays one end of a ring and
/// dies (SIGKILL, no finally block runs) or freezes (SIGSTOP) at an exact point of the protocol, chosen with
/// the worker's RING_STRESS_KILL_AT / RING_STRESS_STOP_AT variables, or at a random moment of a stream; this
/// process plays the other end and checks what survives: every committed message arrives intact exactly once
/// (or, for a consumer that died holding it, is counted in <see cref="SegmentStatus.LostInDelivery"/>), nothing
/// half-written is ever delivered, and the ring moves on within a second of the death.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class CrashRecoveryTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Longest any wait in a test may take; the tests are meant to need a second or two each.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>How soon after a death the ring must move on (the issue's bound).</summary>
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(1);

    /// <summary>How long a live claimer is kept stopped: six times the 50 ms stuck threshold.</summary>
    private static readonly TimeSpan StopDuration = TimeSpan.FromMilliseconds(300);

    /// <summary>What .NET reports for a child killed by SIGKILL: 128 + 9.</summary>
    private const int KilledExitCode = 128 + (int)Signal.SIGKILL;

    private const int Slots = 16;
    private const int MinSize = StressMessage.PrefixLength;
    private const int MaxSize = 128;

    private static readonly RingOptions MpmcOptions = new() { Kind = RingKind.Mpmc, SlotCount = Slots, MaxMessageLength = MaxSize };

    /// <summary>1 KiB of records: about a dozen messages, so a few dozen wrap the ring (and write padding) several times.</summary>
    private static readonly RingOptions SpscOptions = new() { Kind = RingKind.Spsc, Capacity = 1024, MaxMessageLength = MaxSize };

    private readonly TempSegmentDirectory _dir = new();
    private long _recoveredClaims;
    private long _lostInDelivery;

    public void Dispose() => _dir.Dispose();

    // ---------------------------------------------------------------- producer killed at a point

    [Theory]
    [InlineData("after-claim")]
    [InlineData("mid-payload")]
    [InlineData("after-commit")]
    public async Task MpmcRead_ChildProducerKilledAtPoint_DeliversEachCommittedMessageOnceAndMovesOnWithinOneSecond(string point)
    {
        const int KillAt = 40; // the 16 slots have wrapped twice
        const int AfterDeath = 40;
        bool diedCommitted = point == "after-commit";
        long committed = diedCommitted ? KillAt : KillAt - 1;
        const ulong Seed = 0xC4A5_0001;
        string name = _dir.NewName("mpmc");
        using RingSegment segment = RingSegment.Create(name, MpmcOptions);
        using RingReader reader = segment.CreateReader();
        using RingWriter writer = segment.CreateWriter();
        Collector got = new(Seed);
        using Background<bool> reading = ReadInBackground(reader, got);
        using ChildProcess child = StartWorker(name, "producer", messages: 1000, Seed, producerId: 0, environment: KillPlan(point, KillAt));
        // A new producer (this process) writes from the moment it sees the child dead; its first message sits behind the dead claim, if any.
        using Background<long> writing = new(cancel =>
        {
            long diedAt = WaitForDeath(child, cancel);
            Produce(writer, producer: 1, AfterDeath, Seed, cancel);
            return diedAt;
        });

        await DiedOfFaultAsync(child, "SIGKILL", point);
        long diedAt = await writing.Task.WaitAsync(Deadline);
        await WaitForAsync(got, g => g.CountFrom(0) >= committed && g.CountFrom(1) >= AfterDeath, reading, child);
        await reading.StopAsync();
        SegmentStatus status = segment.GetStatus();
        TimeSpan movedOn = Stopwatch.GetElapsedTime(diedAt, got.FirstArrivalFrom(1));
        output.WriteLine($"{point}: {got.CountFrom(0)} from the dead producer, {got.CountFrom(1)} from the new one; first message after the death {movedOn.TotalMilliseconds:0.0} ms after it; recoveries {status.Recoveries}");

        got.AssertExactly(child, (0, 0, committed), (1, 0, AfterDeath));
        Assert.False(reader.TryRead(new byte[MaxSize], out _), "a message beyond the expected ones");
        Assert.Equal(diedCommitted ? 0 : 1, status.Recoveries);
        Assert.Equal(0, status.LostInDelivery);
        Assert.Equal(committed + AfterDeath, status.MessagesWritten);
        Assert.Equal(committed + AfterDeath, status.MessagesRead);
        Assert.Equal(0, status.MessagesInRing);
        Assert.True(movedOn < RecoveryBound, $"the first message after the death arrived {movedOn.TotalMilliseconds:0} ms after it.\n{child.Describe()}");
    }

    [Theory]
    [InlineData("after-claim")]
    [InlineData("mid-payload")]
    [InlineData("after-commit")]
    public async Task SpscRead_ChildProducerKilledAtPoint_NewProducerContinuesFromTheCommittedTail(string point)
    {
        const int KillAt = 40; // the 1 KiB ring has wrapped several times
        const int AfterDeath = 40;
        long committed = point == "after-commit" ? KillAt : KillAt - 1;
        const ulong Seed = 0xC4A5_0002;
        string name = _dir.NewName("spsc");
        using RingSegment segment = RingSegment.Create(name, SpscOptions);
        using RingReader reader = segment.CreateReader();
        Collector got = new(Seed);
        using Background<bool> reading = ReadInBackground(reader, got);
        using ChildProcess child = StartWorker(name, "producer", messages: 1000, Seed, producerId: 0, environment: KillPlan(point, KillAt));
        // The role dies with the child: a new producer attaches the moment it is dead (RingRoleTakenException otherwise).
        long writtenAtDeath = -1;
        using Background<long> writing = new(cancel =>
        {
            long diedAt = WaitForDeath(child, cancel);
            writtenAtDeath = segment.GetStatus().MessagesWritten;
            using RingWriter writer = segment.CreateWriter();
            Produce(writer, producer: 1, AfterDeath, Seed, cancel);
            return diedAt;
        });

        await DiedOfFaultAsync(child, "SIGKILL", point);
        long diedAt = await writing.Task.WaitAsync(Deadline);
        await WaitForAsync(got, g => g.CountFrom(0) >= committed && g.CountFrom(1) >= AfterDeath, reading, child);
        await reading.StopAsync();
        SegmentStatus status = segment.GetStatus();
        TimeSpan movedOn = Stopwatch.GetElapsedTime(diedAt, got.FirstArrivalFrom(1));
        output.WriteLine($"{point}: {got.CountFrom(0)} from the dead producer, {got.CountFrom(1)} from the new one; first message after the death {movedOn.TotalMilliseconds:0.0} ms after it");

        got.AssertExactly(child, (0, 0, committed), (1, 0, AfterDeath));
        Assert.False(reader.TryRead(new byte[MaxSize], out _), "a message beyond the expected ones");
        Assert.Equal(committed, writtenAtDeath);
        Assert.Equal(committed + AfterDeath, status.MessagesWritten);
        Assert.Equal(committed + AfterDeath, status.MessagesRead);
        Assert.Equal((0L, 0L, 0L), (status.MessagesInRing, status.Recoveries, status.LostInDelivery));
        Assert.True(movedOn < RecoveryBound, $"the first message after the death arrived {movedOn.TotalMilliseconds:0} ms after it.\n{child.Describe()}");
    }

    [Fact]
    public async Task MpmcRead_OneOfThreeChildProducersKilledAfterClaim_EveryOtherStreamArrivesWhole()
    {
        const int KillAt = 100;
        const long Messages = 3000;
        const ulong Seed = 0xC4A5_0008;
        string name = _dir.NewName("mpmc");
        using RingSegment segment = RingSegment.Create(name, MpmcOptions);
        using RingReader reader = segment.CreateReader();
        Collector got = new(Seed);
        using Background<bool> reading = ReadInBackground(reader, got);
        // Two producers stream for most of a second (5 messages, then 1 ms); the third joins, dies holding a
        // claim in the middle of their messages, and they fill the ring behind it until it is recovered.
        string[] paced = ["--burst", "5", "--pause-ms", "1"];
        using ChildProcess producer1 = StartWorker(name, "producer", Messages, Seed, producerId: 1, extra: paced);
        using ChildProcess producer2 = StartWorker(name, "producer", Messages, Seed, producerId: 2, zeroCopy: true, extra: paced);
        await WaitForAsync(got, g => g.CountFrom(1) > 0 && g.CountFrom(2) > 0, reading, producer1);
        using ChildProcess dying = StartWorker(name, "producer", Messages, Seed, producerId: 0, environment: KillPlan("after-claim", KillAt));

        await DiedOfFaultAsync(dying, "SIGKILL", "after-claim");
        long diedAt = Stopwatch.GetTimestamp();
        foreach (ChildProcess child in new[] { producer1, producer2 })
        {
            int exitCode = await child.WaitForExitAsync(Deadline);
            Assert.True(exitCode == Worker.ExitOk, $"exit code {exitCode}.\n{child.Describe()}");
            Assert.Equal(Messages, child.ReadWorkerResult().Messages);
        }
        await WaitForAsync(got, g => g.CountFrom(0) >= KillAt - 1 && g.CountFrom(1) >= Messages && g.CountFrom(2) >= Messages, reading, dying);
        await reading.StopAsync();
        SegmentStatus status = segment.GetStatus();
        long after1 = got.CountArrivedAfter(1, diedAt), after2 = got.CountArrivedAfter(2, diedAt);
        output.WriteLine($"delivered {got.Describe()}; after the death: {after1} from producer 1, {after2} from producer 2; recoveries {status.Recoveries}");

        got.AssertExactly(dying, (0, 0, KillAt - 1), (1, 0, Messages), (2, 0, Messages));
        Assert.False(reader.TryRead(new byte[MaxSize], out _), "a message beyond the expected ones");
        Assert.Equal((1L, 0L, 0L), (status.Recoveries, status.LostInDelivery, status.MessagesInRing));
        Assert.Equal(KillAt - 1 + 2 * Messages, status.MessagesWritten);
        Assert.True(after1 > 0 && after2 > 0, "the other producers were done before the death: nothing was in the ring behind the dead claim");
    }

    // ---------------------------------------------------------------- consumer killed mid-read

    [Fact]
    public async Task MpmcWrite_ChildConsumerKilledMidRead_FreesItsSlotAndCountsItsMessageLostInDelivery()
    {
        const int KillAt = 40; // the child dies holding its 40th message, sequence 39
        const long Total = KillAt + 4 * Slots; // the producer laps the dead consumer's slot more than once
        const ulong Seed = 0xC4A5_0003;
        string name = _dir.NewName("mpmc");
        using RingSegment segment = RingSegment.Create(name, MpmcOptions);
        using RingWriter writer = segment.CreateWriter();
        using ChildProcess child = StartWorker(name, "consumer", messages: Total, Seed, environment: KillPlan("mid-read", KillAt));
        using Background<long> died = new(cancel => WaitForDeath(child, cancel));
        using Background<TimeSpan> writing = new(cancel => Produce(writer, producer: 0, Total, Seed, cancel));

        await DiedOfFaultAsync(child, "SIGKILL", "mid-read");
        long diedAt = await died.Task.WaitAsync(Deadline);
        using RingReader reader = segment.CreateReader(); // the surviving consumer
        Collector got = new(Seed);
        using Background<bool> reading = ReadInBackground(reader, got);
        TimeSpan longestWrite = await writing.Task.WaitAsync(Deadline); // the producer never stalls for good
        await WaitForAsync(got, g => g.CountFrom(0) >= Total - KillAt, reading, child);
        await reading.StopAsync();
        SegmentStatus status = segment.GetStatus();
        long readByChild = status.MessagesRead - got.Count;
        output.WriteLine($"child read {readByChild}, lost in delivery {status.LostInDelivery}, survivor read {got.Count} of {Total}; longest single write {longestWrite.TotalMilliseconds:0.0} ms; the survivor's last message {Stopwatch.GetElapsedTime(diedAt, got.LastArrival).TotalMilliseconds:0} ms after the death");

        got.AssertExactly(child, (0, KillAt, Total)); // never sequence KillAt-1, the message the child held
        Assert.Equal(KillAt - 1, readByChild);
        Assert.Equal(1, status.LostInDelivery);
        Assert.Equal(1, status.Recoveries);
        Assert.Equal(Total, readByChild + got.Count + status.LostInDelivery);
        Assert.Equal(Total, status.MessagesWritten);
        Assert.Equal(0, status.MessagesInRing);
    }

    [Fact]
    public async Task SpscRead_ChildConsumerKilledMidRead_NewConsumerContinuesFromTheCommittedHead()
    {
        const int KillAt = 40;
        const long Total = 200; // far more than the 1 KiB ring holds: the producer waits for the new consumer
        const ulong Seed = 0xC4A5_0004;
        string name = _dir.NewName("spsc");
        using RingSegment segment = RingSegment.Create(name, SpscOptions);
        using RingWriter writer = segment.CreateWriter();
        using ChildProcess child = StartWorker(name, "consumer", messages: Total, Seed, environment: KillPlan("mid-read", KillAt));
        using Background<TimeSpan> writing = new(cancel => Produce(writer, producer: 0, Total, Seed, cancel));

        await DiedOfFaultAsync(child, "SIGKILL", "mid-read");
        long headAtDeath = segment.GetStatus().MessagesRead; // messages whose room the child gave back
        // The role died with the child: a new consumer attaches at once (RingRoleTakenException otherwise).
        using RingReader reader = segment.CreateReader();
        Collector got = new(Seed);
        using Background<bool> reading = ReadInBackground(reader, got);
        await writing.Task.WaitAsync(Deadline);
        await WaitForAsync(got, g => g.CountFrom(0) >= Total - headAtDeath, reading, child);
        await reading.StopAsync();
        SegmentStatus status = segment.GetStatus();
        output.WriteLine($"child released {headAtDeath} messages and died in the handler of its {KillAt}th; the new consumer read {got.Count}");

        // At-least-once for SPSC: the message the child was reading is read again, from the committed head on.
        Assert.Equal(KillAt - 1, headAtDeath);
        got.AssertExactly(child, (0, KillAt - 1, Total));
        Assert.Equal(Total, status.MessagesRead);
        Assert.Equal(Total, status.MessagesWritten);
        Assert.Equal(0, status.MessagesInRing);
    }

    // ---------------------------------------------------------------- a slow, live claimer

    [Fact]
    public async Task MpmcRead_ChildProducerStoppedAfterClaim_IsNotSkippedAndDeliversAfterSigcont()
    {
        const ulong Seed = 0xC4A5_0005;
        string name = _dir.NewName("mpmc");
        using RingSegment segment = RingSegment.Create(name, MpmcOptions);
        using RingReader reader = segment.CreateReader();
        byte[] buffer = new byte[MaxSize];
        using ChildProcess child = StartWorker(name, "producer", messages: 3, Seed, environment: new()
        {
            [FaultPlan.StopAtVariable] = "after-claim",
            [FaultPlan.StopAfterVariable] = "2", // message 1 (sequence 0) committed, message 2 claimed
        });

        Assert.True(reader.TryRead(buffer, out int length, Deadline), $"the child wrote nothing.\n{child.Describe()}");
        Assert.Equal((0, 0L), Identify(buffer.AsSpan(0, length), Seed));
        await WaitUntilStoppedAsync(child);
        long recoveriesBefore = segment.GetStatus().Recoveries;

        // The reader sees the claimed position stuck, waits out the threshold and checks the claimer, again and
        // again: the claimer is alive (its lock held), so the position must stay unpublished.
        Stopwatch waited = Stopwatch.StartNew();
        bool readSomething = reader.TryRead(buffer, out length, StopDuration);
        waited.Stop();
        SegmentStatus whileStopped = segment.GetStatus();
        char stateAfter = ProcessState.Of(child.Id);
        output.WriteLine($"the claimer was stopped for at least {waited.Elapsed.TotalMilliseconds:0} ms while the reader waited; recoveries {whileStopped.Recoveries}");
        Assert.False(readSomething, $"the reader got a {length}-byte message while the claimer was stopped");
        Assert.True(waited.Elapsed >= StopDuration, $"the read waited only {waited.Elapsed.TotalMilliseconds:0} ms");
        Assert.Equal('T', stateAfter);
        Assert.Equal(recoveriesBefore, whileStopped.Recoveries);
        Assert.Equal((0L, (long)segment.SlotStride), (whileStopped.MessagesInRing, whileStopped.BytesInRing)); // the claimed, unpublished slot takes room and is no message
        Assert.Contains(whileStopped.Participants, p => p.Pid == child.Id && p.IsAlive && (p.Roles & RingRole.Producer) != 0);

        LibC.Kill(child.Id, Signal.SIGCONT);
        for (long sequence = 1; sequence <= 2; sequence++)
        {
            Assert.True(reader.TryRead(buffer, out length, Deadline), $"message {sequence} never came after SIGCONT.\n{child.Describe()}");
            Assert.Equal((0, sequence), Identify(buffer.AsSpan(0, length), Seed));
        }
        int exitCode = await child.WaitForExitAsync(Deadline);
        Assert.True(exitCode == Worker.ExitOk, $"exit code {exitCode}.\n{child.Describe()}");
        Assert.Equal(3, child.ReadWorkerResult().Messages);
        Assert.False(reader.TryRead(buffer, out _));
        Assert.Equal((recoveriesBefore, 0L), (segment.GetStatus().Recoveries, segment.GetStatus().LostInDelivery));
    }

    // ---------------------------------------------------------------- a reader asleep when the claimer dies

    [Fact]
    public async Task MpmcRead_ReaderAsleepWhenProducerDiesAfterClaim_RecoversWithinOneSecond()
    {
        const ulong Seed = 0xC4A5_0006;
        string name = _dir.NewName("mpmc");
        using RingSegment segment = RingSegment.Create(name, MpmcOptions);
        using RingReader reader = segment.CreateReader();
        Collector got = new(Seed);
        using Background<bool> reading = ReadInBackground(reader, got);
        // Message 1 committed; stopped before claiming message 2; on SIGCONT it claims message 2 and dies.
        using ChildProcess child = StartWorker(name, "producer", messages: 10, Seed, environment: new()
        {
            [FaultPlan.StopAtVariable] = "before-claim",
            [FaultPlan.StopAfterVariable] = "2",
            [FaultPlan.KillAtVariable] = "after-claim",
            [FaultPlan.KillAfterVariable] = "2",
        });
        await WaitForAsync(got, g => g.CountFrom(0) >= 1, reading, child);
        await WaitUntilStoppedAsync(child);
        await WaitUntilAsync(() => segment.Buffer.ReadInt32Acquire(SegmentLayout.ReadersEventOffset + SegmentLayout.EventWaitersOffset) > 0,
            "the reader to sleep on the empty ring", child);

        // One thread of its own sees the death and then the recovery (the counter, straight from the segment).
        using Background<(long DiedAt, long RecoveredAt)> watching = new(cancel =>
        {
            long diedAt = WaitForDeath(child, cancel);
            return (diedAt, Poll(() => segment.Buffer.ReadInt64Acquire(SegmentLayout.RecoveriesOffset) > 0, "the dead claim to be recovered", child, cancel));
        });
        LibC.Kill(child.Id, Signal.SIGCONT);
        await DiedOfFaultAsync(child, "SIGKILL", "after-claim");
        (long diedAt, long recoveredAt) = await watching.Task.WaitAsync(Deadline);
        TimeSpan recovered = Stopwatch.GetElapsedTime(diedAt, recoveredAt);
        output.WriteLine($"recovered {recovered.TotalMilliseconds:0} ms after the death");

        using (RingWriter writer = segment.CreateWriter())
        {
            Produce(writer, producer: 1, 3, Seed);
        }
        await WaitForAsync(got, g => g.CountFrom(1) >= 3, reading, child);
        await reading.StopAsync();
        got.AssertExactly(child, (0, 0, 1), (1, 0, 3));
        Assert.True(recovered < RecoveryBound,
            $"a reader asleep on the empty ring when the producer claimed and died recovered the position {recovered.TotalMilliseconds:0} ms after the death: " +
            "nothing wakes it when a claimer dies, so its sleep limit plus the stuck threshold must stay under the bound.");
    }

    // ---------------------------------------------------------------- kills at random moments

    /// <summary>
    /// Big messages for the random kills: generating or checking up to 64 KiB takes tens of µs, most of it (with
    /// the zero-copy calls, nearly all of it) while a slot is claimed, so a kill at a random moment often lands
    /// between claim and commit, or inside a read.
    /// </summary>
    private const int BigSize = 64 * 1024;

    [Fact]
    public async Task MpmcStream_ChildrenKilledAtRandomMoments_EveryCommittedMessageDeliveredOnceOrCountedLost()
    {
        const int Iterations = 10;
        int randomSeed = Environment.TickCount;
        output.WriteLine($"random seed {randomSeed}");
        Random random = new(randomSeed);
        string name = _dir.NewName("mpmc");
        using RingSegment segment = RingSegment.Create(name, MpmcOptions with { MaxMessageLength = BigSize });
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        Stopwatch elapsed = Stopwatch.StartNew();
        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            ulong seed = 0xC4A5_1000 + (ulong)iteration; // a stale message from an earlier round would not verify
            bool zeroCopy = random.Next(2) == 0;
            int killDelayMs = random.Next(0, 40);
            if (iteration % 2 == 0) await KillProducerMidStreamAsync(segment, reader, seed, killDelayMs, zeroCopy, iteration);
            else await KillConsumerMidStreamAsync(segment, writer, reader, seed, killDelayMs, zeroCopy, iteration);
        }

        // The ring still works: three laps from a new producer id, read back intact.
        const ulong FinalSeed = 0xC4A5_1FFF;
        SegmentStatus before = segment.GetStatus();
        Collector got = new(FinalSeed, BigSize);
        using (Background<bool> reading = ReadInBackground(reader, got))
        {
            Produce(writer, producer: 7, 3 * Slots, FinalSeed, maxSize: BigSize);
            await WaitForAsync(got, g => g.CountFrom(7) >= 3 * Slots, reading, child: null);
            await reading.StopAsync();
        }
        got.AssertExactly(child: null, (7, 0, 3 * Slots));
        SegmentStatus after = segment.GetStatus();
        Assert.Equal((0L, 0L, 0L), (after.MessagesInRing, after.Recoveries - before.Recoveries, after.LostInDelivery - before.LostInDelivery));
        output.WriteLine($"{Iterations} rounds in {elapsed.Elapsed.TotalSeconds:0.0} s; producers killed holding a claim: {_recoveredClaims}, consumers killed holding a message: {_lostInDelivery}");
        Assert.Equal((_recoveredClaims + _lostInDelivery, _lostInDelivery), (after.Recoveries, after.LostInDelivery));
    }

    /// <summary>
    /// A child producer writes through a <see cref="RingBatch"/>, publishing every 7 messages, and is SIGKILLed at a
    /// random moment, mostly with a batch half written; six children in turn, then this process. The reader must get
    /// each child's published messages intact and contiguous from 0 — nothing of the batch that died unpublished —
    /// and the next producer's right after them. A death between the counters' store and the tail's leaves
    /// <c>MessagesWritten</c> up to one batch ahead of what was published (design.md §9), never behind it: a record
    /// made visible before its batch's publish shows up as more delivered than counted (with the tail stored at each
    /// append, this failed at the fifth child of one run).
    /// </summary>
    [Fact]
    public async Task SpscStream_BatchingChildProducersKilledAtRandomMoments_ReaderGetsOnlyPublishedMessagesIntact()
    {
        const int Children = 6;
        const int Batch = 7;
        const ulong Seed = 0xC4A5_2000;
        int randomSeed = Environment.TickCount;
        output.WriteLine($"random seed {randomSeed}");
        Random random = new(randomSeed);
        string name = _dir.NewName("spsc");
        using RingSegment segment = RingSegment.Create(name, SpscOptions with { Capacity = 1 << 16 });
        using RingReader reader = segment.CreateReader();
        Collector got = new(Seed);
        using Background<bool> reading = ReadInBackground(reader, got);
        for (int producer = 0; producer < Children; producer++)
        {
            long writtenBefore = segment.GetStatus().MessagesWritten;
            using ChildProcess child = StartWorker(name, "producer", messages: 100_000_000, Seed, producerId: producer, extra: ["--batch", Invariant(Batch)]);
            int id = producer;
            await WaitForAsync(got, g => g.CountFrom(id) > 0, reading, child); // streaming
            int killDelayMs = random.Next(0, 40);
            await Task.Delay(killDelayMs); // not a synchronisation: the random moment of the kill
            LibC.Kill(child.Id, Signal.SIGKILL);
            int exitCode = await child.WaitForExitAsync(Deadline);
            Assert.True(exitCode == KilledExitCode, $"child {producer}: exit code {exitCode}.\n{child.Describe()}");
            // Settled: the reader has consumed everything the dead producer published.
            await WaitUntilAsync(() => Head(segment) == Tail(segment), $"child {producer}: the reader to drain the ring", child);
            long delivered = got.CountFrom(producer);
            long counted = segment.GetStatus().MessagesWritten - writtenBefore;
            output.WriteLine($"child {producer} killed {killDelayMs} ms into its stream: {delivered} published and delivered, {counted} counted written");
            got.AssertExactly(child, [.. Enumerable.Range(0, producer + 1).Select(p => (p, 0L, (long)got.CountFrom(p)))]);
            Assert.InRange(counted - delivered, 0, Batch);
        }

        using (RingWriter writer = segment.CreateWriter())
        {
            Produce(writer, producer: Children, 3 * 1024, Seed);
        }
        await WaitForAsync(got, g => g.CountFrom(Children) >= 3 * 1024, reading, null);
        await reading.StopAsync();
        got.AssertExactly(null, [.. Enumerable.Range(0, Children + 1).Select(p => (p, 0L, (long)got.CountFrom(p)))]);
        Assert.Equal(3 * 1024, got.CountFrom(Children));
        Assert.Equal(0, segment.GetStatus().MessagesInRing);
    }

    /// <summary>
    /// A child producer streams; the test SIGKILLs it at a random moment. Whatever the child was doing then,
    /// each position it claimed is either a message delivered once, in order and intact, or a recovered skip.
    /// </summary>
    private async Task KillProducerMidStreamAsync(RingSegment segment, RingReader reader, ulong seed, int killDelayMs, bool zeroCopy, int iteration)
    {
        SegmentStatus before = segment.GetStatus();
        long tailBefore = Tail(segment);
        Collector got = new(seed, BigSize);
        using ChildProcess child = StartWorker(segment.Name, "producer", messages: 100_000_000, seed, producerId: 0, zeroCopy: zeroCopy, maxSize: BigSize);
        using Background<bool> reading = ReadInBackground(reader, got, inPlace: true);
        await WaitForAsync(got, g => g.Count > 0, reading, child); // streaming
        await Task.Delay(killDelayMs); // not a synchronisation: the random moment of the kill
        LibC.Kill(child.Id, Signal.SIGKILL);
        int exitCode = await child.WaitForExitAsync(Deadline);
        Assert.True(exitCode == KilledExitCode, $"round {iteration}: exit code {exitCode}.\n{child.Describe()}");
        // Settled: the tail no longer moves; every position claimed was consumed, a dead claim after its recovery
        // (a count beyond that settles it too, and fails below).
        long tail = Tail(segment);
        await WaitUntilAsync(() => Head(segment) == tail && got.Count + (segment.GetStatus().Recoveries - before.Recoveries) >= tail - tailBefore,
            $"round {iteration}: the reader to consume every position the killed producer claimed", child, () => $"head {Head(segment)}, tail {tail} (from {tailBefore}), read {got.Count}");
        await reading.StopAsync();
        SegmentStatus after = segment.GetStatus();
        long recoveries = after.Recoveries - before.Recoveries;
        long written = after.MessagesWritten - before.MessagesWritten;
        output.WriteLine($"round {iteration}: producer ({(zeroCopy ? "claim/commit" : "write")}) killed {killDelayMs} ms into the stream: {got.Count} committed and delivered, {recoveries} claim recovered");

        got.AssertExactly(child, (0, 0, got.Count));
        Assert.InRange(recoveries, 0, 1);
        Assert.True(got.Count + recoveries == tail - tailBefore,
            $"round {iteration}: {tail - tailBefore} positions claimed, {got.Count} delivered and {recoveries} recovered");
        Assert.Equal(0, after.LostInDelivery - before.LostInDelivery);
        Assert.True(written == got.Count, $"round {iteration}: the ring counts {written} messages written by the killed producer, {got.Count} were committed and delivered ({recoveries} recovered)");
        Assert.Equal((long)got.Count, after.MessagesRead - before.MessagesRead);
        _recoveredClaims += recoveries;
    }

    /// <summary>
    /// A child consumer reads the test's stream; the test SIGKILLs it at a random moment, its producer going on
    /// writing until a few laps after the death. A new consumer (the test's reader) then gets a contiguous, intact
    /// tail of the stream; whatever the child was reading when it died counts as lost in delivery.
    /// </summary>
    private async Task KillConsumerMidStreamAsync(RingSegment segment, RingWriter writer, RingReader reader, ulong seed, int killDelayMs, bool zeroCopy, int iteration)
    {
        SegmentStatus before = segment.GetStatus();
        long headBefore = Head(segment);
        using ChildProcess child = StartWorker(segment.Name, "consumer", messages: 100_000_000, seed, zeroCopy: zeroCopy, maxSize: BigSize);
        await WaitForRoleAsync(segment, RingRole.Consumer, child);
        // Writes until a few laps past the death, so the dead consumer's slot must be freed for it to finish.
        using Background<(long Total, TimeSpan Longest)> writing = new(cancel =>
        {
            long stopAt = long.MaxValue;
            TimeSpan longest = TimeSpan.Zero;
            long sequence = 0;
            for (; sequence < stopAt; sequence++)
            {
                if (stopAt == long.MaxValue && child.HasExited) stopAt = sequence + 4 * Slots;
                TimeSpan took = Write(writer, producer: 0, sequence, seed, BigSize, cancel);
                if (took > longest) longest = took;
            }
            return (sequence, longest);
        });
        await WaitUntilAsync(() => Head(segment) > headBefore || writing.Task.IsCompleted, $"round {iteration}: the child to read", child); // streaming
        await Task.Delay(killDelayMs); // not a synchronisation: the random moment of the kill
        LibC.Kill(child.Id, Signal.SIGKILL);
        int exitCode = await child.WaitForExitAsync(Deadline);
        Assert.True(exitCode == KilledExitCode, $"round {iteration}: exit code {exitCode}.\n{child.Describe()}");
        Collector got = new(seed, BigSize);
        using Background<bool> reading = ReadInBackground(reader, got);
        (long total, TimeSpan longestWrite) = await writing.Task.WaitAsync(Deadline);
        // With one producer and, after the death, one consumer, the last message arriving means all are in.
        await WaitForAsync(got, g => g.Contains(0, total - 1), reading, child);
        await reading.StopAsync();
        SegmentStatus after = segment.GetStatus();
        long lost = after.LostInDelivery - before.LostInDelivery;
        long readByChild = after.MessagesRead - before.MessagesRead - got.Count;
        long first = got.FirstSequenceFrom(0);
        output.WriteLine($"round {iteration}: consumer ({(zeroCopy ? "handler" : "copy")}) killed {killDelayMs} ms into the stream: child read {readByChild}, lost {lost}, survivor read {got.Count} of {total}; longest write {longestWrite.TotalMilliseconds:0} ms");

        got.AssertExactly(child, (0, first, total));
        Assert.InRange(lost, 0, 1);
        Assert.Equal(lost, after.Recoveries - before.Recoveries);
        // A child killed between counting the message it holds and freeing its slot has it counted twice: read (its
        // count) and lost in delivery (the recovery's). Two stores cannot be one under SIGKILL (design.md §9 says so);
        // the overlap is that one message or none, never a message missing from every count.
        long countedTwice = readByChild + lost - first;
        Assert.True(countedTwice == 0 || (countedTwice == 1 && lost == 1),
            $"round {iteration}: the child read {readByChild} and {lost} was lost in delivery, but the survivor's stream starts at {first}");
        Assert.Equal(total, readByChild + got.Count + lost - countedTwice);
        Assert.Equal(total, after.MessagesWritten - before.MessagesWritten);
        Assert.Equal(0, after.MessagesInRing);
        _lostInDelivery += lost;
    }

    // ---------------------------------------------------------------- the worker with several producers

    [Fact]
    public async Task MpmcStream_ThreeChildProducersOneChildConsumer_ConsumerVerifiesEachProducersStream()
    {
        const long Messages = 20_000;
        const ulong Seed = 0xC4A5_0007;
        string name = _dir.NewName("mpmc");
        using RingSegment segment = RingSegment.Create(name, MpmcOptions);
        using ChildProcess consumer = StartWorker(name, "consumer", Messages, Seed, producers: 3);
        using ChildProcess producer0 = StartWorker(name, "producer", Messages, Seed, producerId: 0);
        using ChildProcess producer1 = StartWorker(name, "producer", Messages, Seed, producerId: 1, zeroCopy: true);
        using ChildProcess producer2 = StartWorker(name, "producer", Messages, Seed, producerId: 2);

        foreach (ChildProcess child in new[] { producer0, producer1, producer2, consumer })
        {
            int exitCode = await child.WaitForExitAsync(Deadline);
            Assert.True(exitCode == Worker.ExitOk, $"exit code {exitCode}.\n{child.Describe()}");
        }
        WorkerResult consumed = consumer.ReadWorkerResult();
        output.WriteLine($"consumer: {consumed.ToJson()}");
        Assert.Equal((3 * Messages, 0L, 0L, 0L, 0L), (consumed.Messages, consumed.Lost, consumed.Duplicated, consumed.Reordered, consumed.Corrupted));
        Assert.Equal(3 * Messages, segment.GetStatus().MessagesRead);
    }

    [Fact]
    public void Accept_InterleavedProducers_ChecksEachProducersOrderOnItsOwn()
    {
        const ulong Seed = 11;
        MessageVerifier verifier = new(3, Seed, MinSize, MaxSize, producers: 2);
        long now = Stopwatch.GetTimestamp();
        foreach ((int producer, long sequence) in new[] { (1, 0L), (0, 0L), (0, 1L), (1, 2L), (1, 1L), (0, 2L), (2, 0L), (0, 2L) })
        {
            verifier.Accept(Encode(Seed, producer, sequence, now), now);
        }

        // (1, 1) after (1, 2) is reordered; producer 2 does not exist; (0, 2) twice is a duplicate.
        Assert.Equal((6L, 1L, 1L, 1L, 0L), (verifier.Delivered, verifier.Reordered, verifier.Corrupted, verifier.Duplicated, verifier.Lost));
        Assert.Equal((3L, 3L), (verifier.NextSequenceFrom(0), verifier.NextSequenceFrom(1)));
    }

    [Fact]
    public void Accept_MessageWithAnotherProducersId_CountsItCorrupted()
    {
        const ulong Seed = 12;
        MessageVerifier verifier = new(2, Seed, MinSize, MaxSize, producers: 2);
        long now = Stopwatch.GetTimestamp();
        byte[] message = Encode(Seed, 0, 1, now);
        message[StressMessage.ProducerOffset] = 1; // the payload is producer 0's

        verifier.Accept(message, now);

        Assert.Equal((1L, 0L), (verifier.Corrupted, verifier.Delivered));
    }

    [Theory]
    [InlineData("producer", FaultPlan.KillAtVariable, "mid-air")]
    [InlineData("producer", FaultPlan.KillAtVariable, "mid-read")]
    [InlineData("consumer", FaultPlan.StopAtVariable, "after-claim")]
    [InlineData("producer", FaultPlan.KillAfterVariable, "0")]
    public async Task Worker_BadFaultPlan_ExitsWithUsageErrorAndNoResultLine(string role, string variable, string value)
    {
        Dictionary<string, string?> environment = new() { [FaultPlan.KillAtVariable] = "after-commit", [variable] = value };
        using ChildProcess child = StartWorker(_dir.NewName("absent"), role, messages: 10, 1, environment: environment);

        int exitCode = await child.WaitForExitAsync(Deadline);

        Assert.True(exitCode == Worker.ExitUsage, $"exit code {exitCode}.\n{child.Describe()}");
        Assert.Equal("", child.StandardOutput);
        Assert.Contains(value, child.StandardError, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- helpers

    private static Dictionary<string, string?> KillPlan(string point, int messageNumber) => new()
    {
        [FaultPlan.KillAtVariable] = point,
        [FaultPlan.KillAfterVariable] = messageNumber.ToString(CultureInfo.InvariantCulture),
    };

    private static ChildProcess StartWorker(string segment, string role, long messages, ulong seed, int producerId = 0, int producers = 1,
        bool zeroCopy = false, Dictionary<string, string?>? environment = null, int maxSize = MaxSize, IEnumerable<string>? extra = null)
    {
        List<string> arguments =
        [
            "worker", "--segment", segment, "--role", role,
            "--messages", Invariant(messages), "--seed", seed.ToString(CultureInfo.InvariantCulture),
            "--min-size", Invariant(MinSize), "--max-size", Invariant(maxSize), "--wait", "spin-then-block",
            "--read-timeout-ms", "20000", "--write-timeout-ms", "20000",
        ];
        if (role == "producer") arguments.AddRange(["--producer-id", Invariant(producerId)]);
        else arguments.AddRange(["--producers", Invariant(producers)]);
        if (zeroCopy) arguments.Add("--zero-copy");
        arguments.AddRange(extra ?? []);
        // The fault variables are the child's alone: clear any this process might have inherited.
        Dictionary<string, string?> childEnvironment = new()
        {
            [FaultPlan.KillAtVariable] = null,
            [FaultPlan.KillAfterVariable] = null,
            [FaultPlan.StopAtVariable] = null,
            [FaultPlan.StopAfterVariable] = null,
        };
        foreach ((string key, string? value) in environment ?? []) childEnvironment[key] = value;
        return ChildProcess.StartProgram(StressWorker.Program, arguments, new ChildOptions { Environment = childEnvironment });
    }

    /// <summary>Waits for the child to die of the planned fault (not of anything else).</summary>
    private static async Task DiedOfFaultAsync(ChildProcess child, string signal, string point)
    {
        int exitCode = await child.WaitForExitAsync(Deadline);
        Assert.True(exitCode == KilledExitCode, $"the child was to die of {signal} at {point}, but exited with code {exitCode}.\n{child.Describe()}");
        Assert.True(child.StandardError.Contains($"fault: {signal} at {point}", StringComparison.Ordinal),
            $"the child died, but not at {point}.\n{child.Describe()}");
        Assert.Equal("", child.StandardOutput); // killed: no result line
    }

    /// <summary>
    /// Blocks until the child is dead — every thread of it gone, so its descriptors are closed and its locks
    /// released — and returns when that was seen (Stopwatch ticks). It polls /proc on the calling thread, so the
    /// time does not depend on when a thread-pool thread gets round to an exit notification: call it on a
    /// thread of its own (<see cref="Background{T}"/>).
    /// </summary>
    private static long WaitForDeath(ChildProcess child, CancellationToken cancel) =>
        Poll(() => ProcessState.IsGone(child.Id), "the child to die", child, cancel);

    /// <summary>
    /// Polls <paramref name="condition"/> on the calling thread, tens of µs apart, until it holds; returns when it
    /// first did (Stopwatch ticks). For timing when something happens, on a thread of its own.
    /// </summary>
    private static long Poll(Func<bool> condition, string what, ChildProcess? child, CancellationToken cancel)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            long now = Stopwatch.GetTimestamp();
            if (condition()) return now;
            cancel.ThrowIfCancellationRequested();
            if (Stopwatch.GetElapsedTime(start, now) > Deadline)
                throw new XunitException($"timed out after {Deadline.TotalSeconds:0} s waiting for {what}.\n{child?.Describe()}");
            Thread.SpinWait(100);
            Thread.Yield();
        }
    }

    private static async Task WaitUntilStoppedAsync(ChildProcess child) =>
        await WaitUntilAsync(() => ProcessState.Of(child.Id) == 'T', "the child to stop itself", child);

    private static Task WaitUntilAsync(Func<bool> condition, string what, ChildProcess? child, Func<string>? state = null) =>
        Polling.UntilAsync(condition, what, Deadline, child, state: state);

    private static Task WaitForRoleAsync(RingSegment segment, RingRole role, ChildProcess child) => Polling.UntilRoleAsync(segment, role, child, Deadline);

    /// <summary>Waits until the collector satisfies <paramref name="condition"/>; fails if the reader dies or the deadline passes.</summary>
    private static async Task WaitForAsync(Collector got, Func<Collector, bool> condition, Background<bool> reading, ChildProcess? child)
    {
        Task satisfied = got.WhenAsync(condition);
        Task first = await Task.WhenAny(satisfied, reading.Task, Task.Delay(Deadline));
        if (first == reading.Task) await reading.Task; // throws what stopped the reader
        if (first != satisfied)
            throw new XunitException($"timed out waiting for the reader; it has {got.Describe()}.\n{child?.Describe()}");
    }

    /// <summary>
    /// Reads with blocking reads (as long as it takes) into the collector until stopped; <paramref name="inPlace"/>
    /// checks each message inside a read handler instead of copying it out first.
    /// </summary>
    private static Background<bool> ReadInBackground(RingReader reader, Collector into, bool inPlace = false) => new(stop =>
    {
        byte[] buffer = new byte[reader.MaxMessageLength];
        RingMessageHandler handler = into.Add;
        try
        {
            while (true)
            {
                if (inPlace)
                {
                    if (!reader.TryRead(handler)) reader.WaitToRead(Timeout.InfiniteTimeSpan, stop);
                }
                else if (reader.TryRead(buffer, out int length, Timeout.InfiniteTimeSpan, stop))
                {
                    into.Add(buffer.AsSpan(0, length));
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return true;
        }
    });

    /// <summary>Writes messages 0..count-1 of <paramref name="producer"/> with blocking writes; returns the longest single write.</summary>
    private static TimeSpan Produce(RingWriter writer, int producer, long count, ulong seed, CancellationToken cancel = default, int maxSize = MaxSize)
    {
        TimeSpan longest = TimeSpan.Zero;
        for (long sequence = 0; sequence < count; sequence++)
        {
            TimeSpan took = Write(writer, producer, sequence, seed, maxSize, cancel);
            if (took > longest) longest = took;
        }
        return longest;
    }

    /// <summary>Writes one message with a blocking write; returns how long the write took, encoding included.</summary>
    private static TimeSpan Write(RingWriter writer, int producer, long sequence, ulong seed, int maxSize, CancellationToken cancel)
    {
        byte[] buffer = t_buffer is { } reused && reused.Length >= maxSize ? reused : t_buffer = new byte[maxSize];
        Span<byte> message = buffer.AsSpan(0, StressMessage.SizeFor(seed, producer, sequence, MinSize, maxSize));
        long start = Stopwatch.GetTimestamp();
        StressMessage.Encode(message, seed, producer, sequence, start);
        if (!writer.TryWrite(message, Deadline, cancel))
            throw new XunitException($"producer {producer} found no room for {Deadline.TotalSeconds:0} s at sequence {sequence}: the ring stalled");
        return Stopwatch.GetElapsedTime(start);
    }

    [ThreadStatic]
    private static byte[]? t_buffer;

    private static byte[] Encode(ulong seed, int producer, long sequence, long timestamp)
    {
        byte[] message = new byte[StressMessage.SizeFor(seed, producer, sequence, MinSize, MaxSize)];
        StressMessage.Encode(message, seed, producer, sequence, timestamp);
        return message;
    }

    /// <summary>(producer, sequence) of an intact message; fails on anything else.</summary>
    private static (int Producer, long Sequence) Identify(ReadOnlySpan<byte> message, ulong seed)
    {
        Assert.True(StressMessage.IsIntact(message, seed, MinSize, MaxSize, out int producer, out long sequence),
            $"a damaged {message.Length}-byte message: {Convert.ToHexString(message[..Math.Min(message.Length, 48)])}");
        return (producer, sequence);
    }

    private static long Tail(RingSegment segment) => segment.Buffer.ReadInt64Acquire(SegmentLayout.TailOffset);

    private static long Head(RingSegment segment) => segment.Buffer.ReadInt64Acquire(SegmentLayout.HeadOffset);

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>One message the test's reader got: who sent it and when it arrived (Stopwatch ticks); producer −1 when damaged.</summary>
    private readonly record struct Arrival(int Producer, long Sequence, long At, string? Damage);

    /// <summary>
    /// Everything a reader got, checked on arrival against the stress format: intact messages by (producer,
    /// sequence), damaged ones with their first bytes. Thread-safe; conditions are re-evaluated on each arrival.
    /// </summary>
    private sealed class Collector(ulong seed, int maxSize = MaxSize)
    {
        private readonly Lock _gate = new();
        private readonly List<Arrival> _arrivals = [];
        private readonly Dictionary<int, int> _counts = [];
        private readonly HashSet<(int Producer, long Sequence)> _seen = [];
        private readonly List<(Func<Collector, bool> Condition, TaskCompletionSource Satisfied)> _waiters = [];

        public int Count
        {
            get
            {
                lock (_gate) return _arrivals.Count;
            }
        }

        public long LastArrival
        {
            get
            {
                lock (_gate) return _arrivals[^1].At;
            }
        }

        public void Add(ReadOnlySpan<byte> message)
        {
            long at = Stopwatch.GetTimestamp();
            bool intact = StressMessage.IsIntact(message, seed, MinSize, maxSize, out int producer, out long sequence);
            Arrival arrival = intact
                ? new Arrival(producer, sequence, at, null)
                : new Arrival(-1, -1, at, $"{message.Length} bytes: {Convert.ToHexString(message[..Math.Min(message.Length, 48)])}");
            lock (_gate)
            {
                _arrivals.Add(arrival);
                _counts[arrival.Producer] = _counts.GetValueOrDefault(arrival.Producer) + 1;
                _seen.Add((arrival.Producer, arrival.Sequence));
                for (int i = _waiters.Count - 1; i >= 0; i--)
                {
                    if (!_waiters[i].Condition(this)) continue;
                    _waiters[i].Satisfied.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }

        public Task WhenAsync(Func<Collector, bool> condition)
        {
            lock (_gate)
            {
                if (condition(this)) return Task.CompletedTask;
                TaskCompletionSource satisfied = new(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((condition, satisfied));
                return satisfied.Task;
            }
        }

        public int CountFrom(int producer)
        {
            lock (_gate) return _counts.GetValueOrDefault(producer);
        }

        public bool Contains(int producer, long sequence)
        {
            lock (_gate) return _seen.Contains((producer, sequence));
        }

        public long FirstArrivalFrom(int producer)
        {
            lock (_gate) return _arrivals.First(a => a.Producer == producer).At;
        }

        public int CountArrivedAfter(int producer, long timestamp)
        {
            lock (_gate) return _arrivals.Count(a => a.Producer == producer && a.At > timestamp);
        }

        public long FirstSequenceFrom(int producer)
        {
            lock (_gate) return _arrivals.FirstOrDefault(a => a.Producer == producer, new Arrival(producer, -1, 0, null)).Sequence;
        }

        public string Describe()
        {
            lock (_gate)
            {
                string byProducer = string.Join(", ", _arrivals.GroupBy(a => a.Producer).OrderBy(g => g.Key)
                    .Select(g => g.Key < 0 ? $"{g.Count()} damaged" : $"producer {g.Key}: {g.Count()} (sequences {g.Min(a => a.Sequence)}..{g.Max(a => a.Sequence)})"));
                return $"{_arrivals.Count} messages [{byProducer}]";
            }
        }

        /// <summary>
        /// Asserts that exactly these streams arrived — for each (producer, from, to) the sequences from..to-1,
        /// in order, each once — and nothing else: no damaged message, no other producer.
        /// </summary>
        public void AssertExactly(ChildProcess? child, params (int Producer, long From, long To)[] streams)
        {
            List<Arrival> arrivals;
            lock (_gate) arrivals = [.. _arrivals];
            string context = $"{Describe()}\n{child?.Describe()}";
            List<Arrival> damaged = arrivals.Where(a => a.Producer < 0).ToList();
            Assert.True(damaged.Count == 0, $"{damaged.Count} damaged message(s), first: {damaged.FirstOrDefault().Damage}\n{context}");
            foreach ((int producer, long from, long to) in streams)
            {
                long[] sequences = arrivals.Where(a => a.Producer == producer).Select(a => a.Sequence).ToArray();
                long[] expected = Enumerable.Range(0, (int)(to - from)).Select(i => from + i).ToArray();
                if (!sequences.SequenceEqual(expected))
                {
                    long duplicates = sequences.Length - sequences.Distinct().Count();
                    throw new XunitException(
                        $"producer {producer}: expected sequences {from}..{to - 1} once each in order, got {sequences.Length} " +
                        $"({(sequences.Length == 0 ? "none" : $"{sequences.Min()}..{sequences.Max()}")}, {duplicates} duplicated, " +
                        $"first out of place at index {FirstMismatch(sequences, expected)})\n{context}");
                }
            }
            int[] others = arrivals.Select(a => a.Producer).Distinct().Except(streams.Select(s => s.Producer)).ToArray();
            Assert.True(others.Length == 0, $"messages from unexpected producers {string.Join(", ", others)}\n{context}");
        }

        private static int FirstMismatch(long[] actual, long[] expected)
        {
            int i = 0;
            while (i < actual.Length && i < expected.Length && actual[i] == expected[i]) i++;
            return i;
        }
    }
}
