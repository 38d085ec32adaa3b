using System.Diagnostics;
using System.Globalization;
using Ring.Stress;
using Ring.Tooling;
using Xunit.Abstractions;

namespace Ring.Tests;

/// <summary>
/// Async reads and writes against a real <c>Ring.Stress worker</c> child at the other end: the child produces or
/// consumes in bursts with pauses, so this process's async calls go pending again and again and must be completed by
/// another process's publishes through the wait service. Both mechanisms, both ring kinds.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class AsyncWaitProcessTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Deadline = CrossProcessTests.Deadline;

    /// <summary>A delivery slower than this was rescued by a sleep limit, not woken (see <see cref="CrossProcessTests"/>).</summary>
    private static readonly TimeSpan MaxHealthyLatency = CrossProcessTests.MaxHealthyLatency;

    private const long Messages = 20_000;
    private const int MinSize = StressMessage.PrefixLength;
    private const int MaxSize = 200;
    private const ulong Seed = 0xA5_1C;

    private readonly TempSegmentDirectory _dir = new();

    public static TheoryData<RingKind, AsyncWaitMechanism> Cases => AsyncWaitTests.Cases;

    public void Dispose() => _dir.Dispose();

    [Theory, MemberData(nameof(Cases))]
    public async Task ReadAsync_ChildProducerInBursts_ReadsEveryMessageIntact(RingKind kind, AsyncWaitMechanism mechanism)
    {
        AsyncWaitService service = new(mechanism);
        using AsyncWaitService.Scope scope = AsyncWaitService.Use(service);
        using RingSegment segment = CreateSegment(kind);
        using RingReader reader = segment.CreateReader();
        long sleepsBefore = ReaderSleeps(segment);
        using ChildProcess child = StressWorker.Start(WorkerArguments(segment.Path, "producer"));

        MessageVerifier verifier = new(Messages, Seed, MinSize, MaxSize);
        byte[] buffer = new byte[reader.MaxMessageLength];
        using CancellationTokenSource budget = new(Deadline);
        while (!verifier.IsComplete)
        {
            int length = await ReadOrExplainAsync(reader, buffer, budget.Token, child);
            verifier.Accept(buffer.AsSpan(0, length), Stopwatch.GetTimestamp());
        }
        Assert.Equal(0, await child.WaitForExitAsync(Deadline));
        long sleeps = ReaderSleeps(segment) - sleepsBefore;
        output.WriteLine($"{verifier.Delivered} messages, {sleeps} async sleeps, slowest delivery {verifier.MaxLatencyMicroseconds} µs");

        Assert.False(verifier.HasViolations, $"lost {verifier.Lost}, duplicated {verifier.Duplicated}, reordered {verifier.Reordered}, corrupted {verifier.Corrupted}\n{child.Describe()}");
        Assert.True(sleeps >= 10, $"the reader went pending only {sleeps} times: the async path was hardly exercised");
        Assert.True(verifier.MaxLatencyMicroseconds < MaxHealthyLatency.TotalMicroseconds,
            $"a message took {verifier.MaxLatencyMicroseconds} µs to arrive: a pending read missed its wake-up and the sleep limit rescued it");
        Assert.Equal(0, service.Registrations);
    }

    [Theory, MemberData(nameof(Cases))]
    public async Task WriteAsync_ChildConsumerInBursts_EveryMessageArrivesIntact(RingKind kind, AsyncWaitMechanism mechanism)
    {
        AsyncWaitService service = new(mechanism);
        using AsyncWaitService.Scope scope = AsyncWaitService.Use(service);
        using RingSegment segment = CreateSegment(kind);
        using RingWriter writer = segment.CreateWriter();
        long sleepsBefore = WriterSleeps(segment);
        using ChildProcess child = StressWorker.Start(WorkerArguments(segment.Path, "consumer"));
        await WaitForConsumerAsync(segment, child); // messages written before the child runs would time its start-up

        byte[] message = new byte[MaxSize];
        using CancellationTokenSource budget = new(Deadline);
        for (long sequence = 0; sequence < Messages; sequence++)
        {
            int size = StressMessage.SizeFor(Seed, sequence, MinSize, MaxSize);
            StressMessage.Encode(message.AsSpan(0, size), Seed, sequence, Stopwatch.GetTimestamp());
            await WriteOrExplainAsync(writer, message.AsMemory(0, size), budget.Token, child);
        }
        Assert.Equal(0, await child.WaitForExitAsync(Deadline));
        WorkerResult consumed = child.ReadWorkerResult();
        long sleeps = WriterSleeps(segment) - sleepsBefore;
        output.WriteLine($"consumer: {consumed.ToJson()}; {sleeps} async sleeps");

        Assert.False(consumed.HasViolations, $"consumer: {consumed.ToJson()}\n{child.Describe()}");
        Assert.Equal(Messages, consumed.Messages);
        Assert.True(sleeps >= 10, $"the writer went pending only {sleeps} times: the async path was hardly exercised");
        Assert.True(consumed.MaxLatencyUs < MaxHealthyLatency.TotalMicroseconds,
            $"a message took {consumed.MaxLatencyUs} µs to arrive: a pending write missed its wake-up and the sleep limit rescued it");
        Assert.Equal(0, service.Registrations);
    }

    private static async Task WaitForConsumerAsync(RingSegment segment, ChildProcess child)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (!segment.GetStatus().Participants.Any(p => p.IsAlive && p.Pid == child.Id && (p.Roles & RingRole.Consumer) != 0))
        {
            if (child.HasExited || waited.Elapsed > Deadline)
                throw new Xunit.Sdk.XunitException($"the child never took the consumer role.\n{child.Describe()}");
            await Task.Delay(5);
        }
    }

    private static async Task<int> ReadOrExplainAsync(RingReader reader, byte[] buffer, CancellationToken budget, ChildProcess child)
    {
        try
        {
            return await reader.ReadAsync(buffer, budget);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"the async reader was still waiting after {Deadline.TotalSeconds} s.\n{child.Describe()}");
        }
    }

    private static async Task WriteOrExplainAsync(RingWriter writer, ReadOnlyMemory<byte> message, CancellationToken budget, ChildProcess child)
    {
        try
        {
            await writer.WriteAsync(message, budget);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"the async writer was still waiting after {Deadline.TotalSeconds} s.\n{child.Describe()}");
        }
    }

    /// <summary>A child that pauses 1-3 ms after every 1-40 messages, so the ring runs dry (or full) between bursts.</summary>
    private static string[] WorkerArguments(string segment, string role) =>
    [
        "--segment", segment, "--role", role, "--messages", Messages.ToString(CultureInfo.InvariantCulture),
        "--min-size", MinSize.ToString(CultureInfo.InvariantCulture), "--max-size", MaxSize.ToString(CultureInfo.InvariantCulture),
        "--wait", "spin-then-block", "--seed", Seed.ToString(CultureInfo.InvariantCulture), "--burst", "1..40", "--pause-ms", "1..3",
        "--read-timeout-ms", ((int)Deadline.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        "--write-timeout-ms", ((int)Deadline.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
    ];

    // The public status adds both directions' sleeps, the child's included; these tell them apart.
    private static long ReaderSleeps(RingSegment segment) => new EventCount<SharedBuffer>(segment.Buffer, SegmentLayout.ReadersEventOffset).Sleeps;

    private static long WriterSleeps(RingSegment segment) => new EventCount<SharedBuffer>(segment.Buffer, SegmentLayout.WritersEventOffset).Sleeps;

    private RingSegment CreateSegment(RingKind kind) => RingSegment.Create(_dir.NewName(kind.ToString().ToLowerInvariant()),
        kind == RingKind.Spsc
            ? new RingOptions { Kind = RingKind.Spsc, Capacity = 4096 }
            : new RingOptions { Kind = RingKind.Mpmc, SlotCount = 16, MaxMessageLength = MaxSize });
}
