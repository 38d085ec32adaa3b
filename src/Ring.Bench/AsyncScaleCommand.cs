using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ring.Bench.Common;

namespace Ring.Bench;

/// <summary>
/// The <c>async-scale</c> command: what async waits cost. (1) The OS threads the process holds while
/// segments × readers async reads are pending on MPMC rings, against the same process idle. (2) Round-trip latency of
/// an async ping-pong against the blocking one (<see cref="WaitStrategy.Block"/>), both in this process between two
/// sides over two SPSC segments, alternated in blocks so the machine's drift hits both. (3) Bytes allocated per
/// awaited message in the async ping-pong after warm-up, counted over every thread of the process.
/// </summary>
internal static class AsyncScaleCommand
{
    private const int MessageLength = 64;
    private const int Blocks = 3; // of each kind, alternated, after one warm-up block of each
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    public static Command Create()
    {
        Option<int> segments = new("--segments") { Description = "MPMC segments with pending async reads.", DefaultValueFactory = _ => 100 };
        Option<int> readers = new("--readers-per-segment") { Description = "Readers per segment, each with one pending async read.", DefaultValueFactory = _ => 10 };
        Option<int> roundTrips = new("--round-trips") { Description = "Round trips per measured block; 3 blocks of each ping-pong.", DefaultValueFactory = _ => 20_000 };
        Option<string> json = new("--json") { Description = "Also write the results as JSON to this file." };
        foreach ((Option<int> count, int least) in new[] { (segments, 1), (readers, 1), (roundTrips, 2) })
        {
            count.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<int>() < least || result.GetValueOrDefault<int>() > 1_000_000)
                    result.AddError($"{count.Name} must be from {least} to 1,000,000.");
            });
        }
        Command command = new("async-scale", "Async waits: OS threads while many async reads are pending, async against blocking ping-pong latency, bytes allocated per awaited message.")
        {
            segments, readers, roundTrips, json,
        };
        command.SetAction(parse => Run(parse.GetValue(segments), parse.GetValue(readers), parse.GetValue(roundTrips), parse.GetValue(json)));
        return command;
    }

    private static int Run(int segmentCount, int readersPerSegment, int roundTrips, string? jsonPath)
    {
        Console.WriteLine(MachineInfo.Describe());
        Console.WriteLine($"async waits: {RingSegment.AsyncWaitMechanism}");
        string prefix = string.Create(CultureInfo.InvariantCulture, $"async-scale-{Environment.ProcessId}");
        try
        {
            (int idle, int pending) = PendingReadThreads(prefix, segmentCount, readersPerSegment);
            Console.WriteLine($"{segmentCount * readersPerSegment} pending async reads on {segmentCount} segments: {pending} OS threads, {idle} idle (+{pending - idle})");
            PingPong pingPong = MeasurePingPong(prefix, roundTrips);
            Console.WriteLine($"ping-pong round trip p50: async {pingPong.AsyncP50Ns:F0} ns, blocking {pingPong.SyncP50Ns:F0} ns (× {pingPong.AsyncP50Ns / pingPong.SyncP50Ns:F2}); " +
                              $"{pingPong.AllocatedBytesPerMessage:F2} B allocated per awaited message");
            if (jsonPath is not null)
            {
                AsyncScaleResult result = new(segmentCount * readersPerSegment, idle, pending, pingPong.AsyncP50Ns, pingPong.SyncP50Ns, pingPong.AllocatedBytesPerMessage);
                File.WriteAllText(jsonPath, JsonSerializer.Serialize(result, AsyncScaleJsonContext.Default.AsyncScaleResult) + "\n");
            }
            return 0;
        }
        catch (Exception e) when (e is BenchFailure or RingException)
        {
            Console.Error.WriteLine($"async-scale: {e.Message}");
            return 1;
        }
    }

    /// <summary>OS threads with every reader's async read pending, and before any was started; then they all complete.</summary>
    private static (int Idle, int Pending) PendingReadThreads(string prefix, int segmentCount, int readersPerSegment)
    {
        List<RingSegment> segments = [];
        List<RingWriter> writers = [];
        List<RingReader> readers = [];
        try
        {
            for (int s = 0; s < segmentCount; s++)
            {
                RingSegment segment = Create($"{prefix}-{s}", new RingOptions { Kind = RingKind.Mpmc, SlotCount = Math.Max(16, readersPerSegment), MaxMessageLength = MessageLength });
                segments.Add(segment);
                writers.Add(segment.CreateWriter());
                for (int r = 0; r < readersPerSegment; r++) readers.Add(segment.CreateReader());
            }
            int idle = OsThreads();
            Task<bool>[] reads = [.. readers.Select(reader => reader.WaitToReadAsync().AsTask())];
            // Every read is pending once its registration shows in its segment's waiter count.
            if (!SpinWait.SpinUntil(() => segments.Sum(s => s.GetStatus().ReadersWaiting) == reads.Length || reads.Any(r => r.IsCompleted), Bound))
                throw new BenchFailure($"the {reads.Length} async reads did not all register within {Bound.TotalSeconds:0} s");
            if (reads.FirstOrDefault(r => r.IsCompleted) is { } early) throw new BenchFailure($"an async read on an empty ring completed: {early.Status}");
            int pending = OsThreads();
            byte[] message = new byte[MessageLength];
            foreach (RingWriter writer in writers)
            {
                for (int r = 0; r < readersPerSegment; r++)
                {
                    if (!writer.TryWrite(message)) throw new BenchFailure("a ring with a slot per reader was full");
                }
            }
            if (!Task.WaitAll(reads, Bound)) throw new BenchFailure($"not every async read completed within {Bound.TotalSeconds:0} s of its message");
            if (reads.Any(r => !r.Result)) throw new BenchFailure("an async read completed without a message");
            return (idle, pending);
        }
        finally
        {
            foreach (RingReader reader in readers) reader.Dispose();
            foreach (RingWriter writer in writers) writer.Dispose();
            foreach (RingSegment segment in segments) Remove(segment);
        }
    }

    private static PingPong MeasurePingPong(string prefix, int roundTrips)
    {
        RingOptions options = new() { Kind = RingKind.Spsc, Capacity = 64 * 1024 };
        using RingSegment ping = Create($"{prefix}-ping", options);
        using RingSegment pong = Create($"{prefix}-pong", options);
        try
        {
            using RingWriter pingWriter = ping.CreateWriter(WaitStrategy.Block);
            using RingReader pingReader = ping.CreateReader(WaitStrategy.Block);
            using RingWriter pongWriter = pong.CreateWriter(WaitStrategy.Block);
            using RingReader pongReader = pong.CreateReader(WaitStrategy.Block);
            Sides sides = new(pingWriter, pingReader, pongWriter, pongReader);
            long[] samples = new long[roundTrips];
            AsyncRoundTrips(sides, samples); // warm-up: the JIT, the wait service's thread, the pooled async boxes
            SyncRoundTrips(sides, samples);
            long[] asyncP50 = new long[Blocks];
            long[] syncP50 = new long[Blocks];
            long allocated = 0;
            for (int block = 0; block < Blocks; block++)
            {
                allocated += AsyncRoundTrips(sides, samples);
                asyncP50[block] = MedianNs(samples);
                SyncRoundTrips(sides, samples);
                syncP50[block] = MedianNs(samples);
            }
            Array.Sort(asyncP50);
            Array.Sort(syncP50);
            // Counted from the end of each block's first round trip; each round trip awaits two messages, the echo side's and the pinging side's.
            return new PingPong(asyncP50[Blocks / 2], syncP50[Blocks / 2], (double)allocated / (2L * Blocks * (roundTrips - 1)));
        }
        finally
        {
            RingSegment.Unlink(ping.Name);
            RingSegment.Unlink(pong.Name);
        }
    }

    /// <summary>
    /// Both sides as async loops on the thread pool. Returns the bytes the process allocated, on every thread, from
    /// the end of the first round trip (the loops are set up by then) to the end of the last.
    /// </summary>
    private static long AsyncRoundTrips(Sides sides, long[] samples)
    {
        Task echo = Task.Run(() => EchoAsync(sides, samples.Length));
        Task<long> pinger = Task.Run(() => PingAsync(sides, samples));
        if (!Task.WaitAll([echo, pinger], Bound)) throw new BenchFailure($"the async ping-pong did not finish within {Bound.TotalSeconds:0} s");
        return pinger.Result;
    }

    private static async Task EchoAsync(Sides sides, int count)
    {
        byte[] buffer = new byte[MessageLength];
        for (int i = 0; i < count; i++)
        {
            int length = await sides.PingReader.ReadAsync(buffer).ConfigureAwait(false);
            await sides.PongWriter.WriteAsync(buffer.AsMemory(0, length)).ConfigureAwait(false);
        }
    }

    private static async Task<long> PingAsync(Sides sides, long[] samples)
    {
        byte[] message = new byte[MessageLength];
        byte[] reply = new byte[MessageLength];
        long allocatedBefore = 0;
        for (int i = 0; i < samples.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await sides.PingWriter.WriteAsync(message).ConfigureAwait(false);
            await sides.PongReader.ReadAsync(reply).ConfigureAwait(false);
            samples[i] = Stopwatch.GetTimestamp() - start;
            if (i == 0) allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        }
        return GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
    }

    /// <summary>Both sides on threads of their own, blocking in Read with <see cref="WaitStrategy.Block"/>.</summary>
    private static void SyncRoundTrips(Sides sides, long[] samples)
    {
        Thread echo = new(() =>
        {
            byte[] buffer = new byte[MessageLength];
            for (int i = 0; i < samples.Length; i++)
            {
                int length = sides.PingReader.Read(buffer);
                sides.PongWriter.Write(buffer.AsSpan(0, length));
            }
        }) { IsBackground = true, Name = "blocking echo" };
        echo.Start();
        byte[] message = new byte[MessageLength];
        byte[] reply = new byte[MessageLength];
        for (int i = 0; i < samples.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            sides.PingWriter.Write(message);
            sides.PongReader.Read(reply);
            samples[i] = Stopwatch.GetTimestamp() - start;
        }
        if (!echo.Join(Bound)) throw new BenchFailure($"the blocking echo did not finish within {Bound.TotalSeconds:0} s");
    }

    /// <summary>The median of Stopwatch tick counts, in nanoseconds; sorts <paramref name="ticks"/>.</summary>
    private static long MedianNs(long[] ticks)
    {
        Array.Sort(ticks);
        return (long)(ticks[ticks.Length / 2] * (1e9 / Stopwatch.Frequency));
    }

    private static int OsThreads()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("Threads:", StringComparison.Ordinal)) return int.Parse(line.AsSpan("Threads:".Length).Trim(), CultureInfo.InvariantCulture);
        }
        throw new BenchFailure("/proc/self/status has no Threads: line");
    }

    private static RingSegment Create(string name, RingOptions options)
    {
        RingSegment.Unlink(name);
        return RingSegment.Create(name, options);
    }

    private static void Remove(RingSegment segment)
    {
        segment.Dispose();
        RingSegment.Unlink(segment.Name);
    }

    private sealed record Sides(RingWriter PingWriter, RingReader PingReader, RingWriter PongWriter, RingReader PongReader);

    private readonly record struct PingPong(double AsyncP50Ns, double SyncP50Ns, double AllocatedBytesPerMessage);
}

/// <summary>The JSON record; field names as the issue fixes them.</summary>
internal sealed record AsyncScaleResult(
    [property: JsonPropertyName("pending_reads")] int PendingReads,
    [property: JsonPropertyName("os_threads_idle")] int OsThreadsIdle,
    [property: JsonPropertyName("os_threads_pending")] int OsThreadsPending,
    [property: JsonPropertyName("async_rtt_p50_ns")] double AsyncRttP50Ns,
    [property: JsonPropertyName("sync_block_rtt_p50_ns")] double SyncBlockRttP50Ns,
    [property: JsonPropertyName("allocated_bytes_per_message")] double AllocatedBytesPerMessage);

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(AsyncScaleResult))]
internal sealed partial class AsyncScaleJsonContext : JsonSerializerContext;
