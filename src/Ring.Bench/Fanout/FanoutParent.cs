using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipes;
using System.Text.Json;
using Ring.Bench.Common;
using Ring.Bench.Compare;
using Ring.Tooling;

namespace Ring.Bench.Fanout;

/// <summary>What a fan-out run measures, and how much of it.</summary>
internal sealed record FanoutSettings(
    IReadOnlyList<int> Subscribers,
    IReadOnlyList<int> Sizes,
    IReadOnlyList<FanoutTransport> Transports,
    int Rounds,
    TimeSpan StreamDuration,
    TimeSpan WarmupTime,
    string? JsonPath);

/// <summary>One transport × subscriber count × size in one round, or the median of the rounds.</summary>
internal sealed record FanoutSample(
    FanoutTransport Transport,
    int Subscribers,
    int Size,
    double PublishedPerSecond,
    double SlowestSubscriberPerSecond,
    double CpuSeconds,
    long Published);

/// <summary>
/// The <c>fanout</c> command: one publisher (this process) and N subscriber processes, every message to every
/// subscriber, lossless. For each round, size and subscriber count it runs the transports one after another, each
/// in a session of its own: create the publisher's side, start the subscribers, wait until all have attached,
/// publish for the stream duration, send the end marker, collect each subscriber's count and check.
/// </summary>
internal sealed class FanoutParent(FanoutSettings settings, ChildSupervisor supervisor)
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(10);
    private const long ClockCheckMask = 1023;

    private int _sessions;

    public static int Run(FanoutSettings settings)
    {
        Stopwatch total = Stopwatch.StartNew();
        Console.WriteLine($"Ring fan-out · {MachineInfo.Describe()}");
        Console.WriteLine(Invariant($"subscribers {string.Join(", ", settings.Subscribers)} · sizes {string.Join(", ", settings.Sizes.Select(CompareReport.Bytes))} · {settings.Rounds} rounds, transports alternated within each round, medians reported"));
        Console.WriteLine(Invariant($"each measurement: a {settings.WarmupTime.TotalSeconds:0.##} s warm-up stream, then the publisher writes for {settings.StreamDuration.TotalSeconds:0.##} s; every subscriber must get every message in order (first 8 bytes a sequence number it checks)"));
        Console.WriteLine("pinning: none (publisher and subscribers share the machine's CPUs as the scheduler places them; more processes than CPUs from 2 subscribers on a 2-CPU machine)");
        Console.WriteLine("publisher msg/s: messages published per second of the publisher's loop; subscriber msg/s: the slowest subscriber's messages per second from its first message to the end marker");
        Console.WriteLine("transports:");
        foreach (FanoutTransport transport in settings.Transports) Console.WriteLine($"  {transport.Name,-12}{transport.Definition}");
        Console.WriteLine();
        List<FanoutSample> samples = [];
        try
        {
            using ChildSupervisor supervisor = new("fanout");
            TransportHost.RemoveNamesOfDeadRuns();
            FanoutParent parent = new(settings, supervisor);
            for (int round = 1; round <= settings.Rounds; round++)
            {
                foreach (int size in settings.Sizes)
                {
                    foreach (int subscribers in settings.Subscribers)
                    {
                        foreach (FanoutTransport transport in settings.Transports)
                        {
                            FanoutSample sample = parent.RunSession(transport, subscribers, size);
                            samples.Add(sample);
                            Console.WriteLine(Invariant($"round {round} {transport.Name,-12}{CompareReport.Bytes(size),7} 1→{subscribers}  publisher {sample.PublishedPerSecond / 1e6:F3} M msg/s · slowest subscriber {sample.SlowestSubscriberPerSecond / 1e6:F3} M msg/s · cpu {sample.CpuSeconds:F2} s"));
                        }
                    }
                }
            }
        }
        catch (Exception e) when (e is BenchFailure or RingException or IOException or OperationCanceledException)
        {
            Console.Error.WriteLine($"fanout: error: {e.Message}");
            return 1;
        }

        List<FanoutSample> medians = Medians(samples);
        Console.WriteLine();
        foreach (string line in Tables(medians, settings)) Console.WriteLine(line);
        if (settings.JsonPath is not null)
        {
            File.WriteAllText(settings.JsonPath, JsonSerializer.Serialize(medians.Select(m => new FanoutRecord(
                m.Transport.Name, m.Subscribers, m.Size, settings.Rounds, m.PublishedPerSecond, m.SlowestSubscriberPerSecond, m.CpuSeconds,
                [.. samples.Where(s => Same(s, m)).Select(s => s.PublishedPerSecond)])).ToList(), FanoutJsonContext.Default.ListFanoutRecord) + "\n");
            Console.WriteLine($"wrote {medians.Count} records to {settings.JsonPath}");
        }
        Console.WriteLine(Invariant($"total {total.Elapsed.TotalSeconds:F1} s"));
        return 0;
    }

    private FanoutSample RunSession(FanoutTransport transport, int subscribers, int size)
    {
        // compare-PID-… so that TransportHost.RemoveNamesOfDeadRuns removes what a killed run leaves behind.
        string name = string.Create(CultureInfo.InvariantCulture, $"compare-{Environment.ProcessId}-fanout-{++_sessions}");
        supervisor.OwnNames(() => FanoutEndpoints.RemoveNames(name, subscribers));
        supervisor.Activity = $"publishing over {transport.Name} to {subscribers} subscribers";
        List<AnonymousPipeServerStream> reports = [];
        try
        {
            using IFanoutPublisher publisher = FanoutEndpoints.CreatePublisher(transport, name, subscribers);
            for (int i = 0; i < subscribers; i++)
            {
                AnonymousPipeServerStream report = new(PipeDirection.In, HandleInheritability.Inheritable);
                reports.Add(report);
                string endpoint = publisher.EndpointFor(i);
                supervisor.StartChild(() => BenchChild.Start([
                    FanoutCommands.ChildCommandName,
                    FanoutCommands.TransportOptionName, transport.Name,
                    FanoutCommands.SizeOptionName, size.ToString(CultureInfo.InvariantCulture),
                    FanoutCommands.EndpointOptionName, endpoint,
                    FanoutCommands.ReportOptionName, report.GetClientHandleAsString(),
                ]));
                report.DisposeLocalCopyOfClientHandle(); // the child's exit then reads as the end of its report
            }
            publisher.ChildrenStarted();
            foreach (AnonymousPipeServerStream report in reports) FanoutReport.Read(report, 1, "that it had attached");

            // A warm-up stream first, so the subscribers' new processes run optimized code when it counts (compare's
            // CompareSettings.WarmupTime says why it must last seconds, not messages).
            Publish(publisher, size, (long)(settings.WarmupTime.TotalSeconds * Stopwatch.Frequency));
            Marker(publisher, size, StreamCounter.WarmupEnd);
            TimeSpan cpuBefore = ProcessCpu.Total();
            long start = Stopwatch.GetTimestamp();
            long published = Publish(publisher, size, (long)(settings.StreamDuration.TotalSeconds * Stopwatch.Frequency));
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            Marker(publisher, size, StreamCounter.End);

            double slowest = double.MaxValue;
            double childCpu = 0;
            foreach (AnonymousPipeServerStream report in reports)
            {
                long[] r = FanoutReport.Read(report, FanoutReport.FinalValues, "its count");
                (long received, long elapsedNs, long outOfOrder, long wrongLength, long cpuNs) = (r[0], r[1], r[2], r[3], r[4]);
                if (received != published || outOfOrder != 0 || wrongLength != 0)
                    throw new BenchFailure($"{transport.Name} 1→{subscribers}: published {published:N0}, a subscriber received {received:N0} with {outOfOrder:N0} sequence breaks and {wrongLength:N0} wrong lengths");
                slowest = Math.Min(slowest, received / (elapsedNs / 1e9));
                childCpu += cpuNs / 1e9;
            }
            double parentCpu = (ProcessCpu.Total() - cpuBefore).TotalSeconds;
            return new FanoutSample(transport, subscribers, size, published / seconds, slowest, parentCpu + childCpu, published);
        }
        finally
        {
            foreach (AnonymousPipeServerStream report in reports) report.Dispose();
            supervisor.EndChild();
        }
    }

    private static long Publish(IFanoutPublisher publisher, int size, long durationTicks)
    {
        Span<byte> message = new byte[size];
        long end = Stopwatch.GetTimestamp() + durationTicks;
        long sequence = 0;
        // Reading the clock costs about as much as publishing a small message: look every 1024.
        while ((sequence & ClockCheckMask) != 0 || Stopwatch.GetTimestamp() < end)
        {
            BinaryPrimitives.WriteInt64LittleEndian(message, sequence);
            publisher.Publish(message);
            sequence++;
        }
        return sequence;
    }

    private static void Marker(IFanoutPublisher publisher, int size, long marker)
    {
        byte[] message = new byte[size];
        BinaryPrimitives.WriteInt64LittleEndian(message, marker);
        publisher.Publish(message);
    }

    private static List<FanoutSample> Medians(List<FanoutSample> samples) =>
        samples.GroupBy(s => (s.Transport.Name, s.Subscribers, s.Size))
            .Select(g => g.First() with
            {
                PublishedPerSecond = CompareReport.Median(g.Select(s => (double?)s.PublishedPerSecond))!.Value,
                SlowestSubscriberPerSecond = CompareReport.Median(g.Select(s => (double?)s.SlowestSubscriberPerSecond))!.Value,
                CpuSeconds = CompareReport.Median(g.Select(s => (double?)s.CpuSeconds))!.Value,
            })
            .ToList();

    private static bool Same(FanoutSample a, FanoutSample b) => a.Transport == b.Transport && a.Subscribers == b.Subscribers && a.Size == b.Size;

    private static IEnumerable<string> Tables(List<FanoutSample> medians, FanoutSettings settings)
    {
        foreach (int size in settings.Sizes)
        {
            yield return Invariant($"fan-out · {CompareReport.Bytes(size)} · median of {settings.Rounds} rounds · broadcast/x = broadcast's publisher msg/s ÷ this one's · cpu: all processes, user+sys, per million messages published");
            yield return $"  {"subs",-6}{"transport",-12}{"pub M msg/s",13}{"sub M msg/s",13}{"broadcast/x",13}{"cpu s/M",10}";
            foreach (int subscribers in settings.Subscribers)
            {
                List<FanoutSample> row = medians.Where(s => s.Size == size && s.Subscribers == subscribers).ToList();
                FanoutSample? broadcast = row.FirstOrDefault(s => s.Transport.Kind == FanoutKind.Broadcast);
                foreach (FanoutSample s in row)
                {
                    string ratio = broadcast is null ? "-" : Invariant($"{broadcast.PublishedPerSecond / s.PublishedPerSecond:F2}×");
                    yield return Invariant($"  1→{subscribers,-4}{s.Transport.Name,-12}{s.PublishedPerSecond / 1e6,13:F3}{s.SlowestSubscriberPerSecond / 1e6,13:F3}{ratio,13}{s.CpuSeconds / (s.Published / 1e6),10:F2}");
                }
            }
            yield return "";
        }
    }


    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
