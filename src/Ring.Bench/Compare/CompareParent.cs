using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using HdrHistogram;
using Ring.Bench.Common;
using Ring.Bench.Compare.Iceoryx;
using Ring.Tooling;

namespace Ring.Bench.Compare;

/// <summary>
/// The <c>compare</c> command: for every round, size and transport, starts a child over that transport,
/// measures round trips then a one-way stream, and finally prints the medians of the rounds. The demo measures
/// its baseline through <see cref="Measure"/> too. A <see cref="ChildSupervisor"/> owns the cleanup, as in
/// <c>DemoParent</c>: the child is killed and every name removed on each way out this process controls; a child
/// whose parent vanished removes them itself.
/// </summary>
internal sealed class CompareParent
{
    // Reading the clock costs about as much as sending a small message over the ring: look every 1024.
    private const long ClockCheckMask = 1023;
    private const long HighestTrackableNs = 60_000_000_000;
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(10);

    private readonly CompareSettings _settings;
    private readonly ChildSupervisor _supervisor;
    private readonly IReadOnlyList<int> _cpus = CpuPinning.AllowedCpus();
    private int _sessions;

    private CompareParent(CompareSettings settings, ChildSupervisor supervisor)
    {
        _settings = settings;
        _supervisor = supervisor;
    }

    public static int Run(CompareSettings settings)
    {
        Stopwatch total = Stopwatch.StartNew();
        Console.WriteLine($"Ring compare · {MachineInfo.Describe()}");
        Console.WriteLine(CompareReport.Setup(settings, PinningDescription(settings)));
        foreach (Transport transport in settings.Transports) Console.WriteLine($"  {CompareReport.NameColumn(transport.Name)}{transport.Definition}");
        if (settings.Transports.Any(t => t.Kind == TransportKind.Iceoryx) && IceoryxDaemon.Unavailable() is string reason)
        {
            Console.WriteLine($"  {CompareReport.NameColumn("iceoryx")}skipped: {reason}");
            settings = settings with { Transports = [.. settings.Transports.Where(t => t.Kind != TransportKind.Iceoryx)] };
        }
        Console.WriteLine();
        List<Sample> samples;
        try
        {
            samples = Measure(settings, "compare", (round, sample) => Console.WriteLine(CompareReport.Progress(round, sample)));
        }
        catch (BenchFailure e)
        {
            Console.Error.WriteLine($"compare: error: {e.Message}");
            return 1;
        }

        List<Sample> medians = CompareReport.Medians(samples);
        Console.WriteLine();
        foreach (string line in CompareReport.Tables(medians, settings)) Console.WriteLine(line);
        if (settings.JsonPath is not null)
        {
            CompareReport.WriteJson(samples, medians, settings.JsonPath);
            Console.WriteLine($"wrote {medians.Count} records to {settings.JsonPath} (draw them with src/Ring.Bench.Chart)");
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total {total.Elapsed.TotalSeconds:F1} s"));
        return 0;
    }

    /// <summary>
    /// Runs every round of every size and transport, each session with a child of its own, and returns the samples
    /// in run order; <paramref name="onSample"/> sees each as it comes. Any failure is a <see cref="BenchFailure"/>.
    /// </summary>
    /// <param name="program">The name the cleanup's error lines start with.</param>
    public static List<Sample> Measure(CompareSettings settings, string program, Action<int, Sample> onSample)
    {
        using ChildSupervisor supervisor = new(program);
        try
        {
            TransportHost.RemoveNamesOfDeadRuns();
            if (settings.Transports.Any(t => t.Kind == TransportKind.Iceoryx)) IceoryxDaemon.EnsureRunning(settings.Sizes);
            CompareParent parent = new(settings, supervisor);
            List<Sample> samples = [];
            for (int round = 1; round <= settings.Rounds; round++)
            {
                foreach (int size in settings.Sizes)
                {
                    foreach (Transport transport in settings.Transports)
                    {
                        foreach (Sample sample in parent.RunSession(transport, size))
                        {
                            samples.Add(sample);
                            onSample(round, sample);
                        }
                    }
                }
            }
            return samples;
        }
        catch (Exception e) when (e is RingException or IOException or SocketException or OperationCanceledException)
        {
            throw new BenchFailure(e.Message);
        }
    }

    private static string PinningDescription(CompareSettings settings)
    {
        IReadOnlyList<int> cpus = CpuPinning.AllowedCpus();
        return !settings.Pin ? "none: the scheduler places both processes"
            : cpus.Count < 2 ? $"none: this process may run on {cpus.Count} CPU only"
            : $"parent main thread on CPU {cpus[0]}, each child's main thread on CPU {cpus[1]} (Process.ProcessorAffinity; other runtime threads unpinned)";
    }

    private List<Sample> RunSession(Transport transport, int size)
    {
        string uniqueName = string.Create(CultureInfo.InvariantCulture, $"compare-{Environment.ProcessId}-{++_sessions}");
        using TransportHost host = TransportHost.Create(transport, size, uniqueName);
        _supervisor.OwnNames(host.RemoveNames);
        _supervisor.Activity = $"measuring {transport.Name} at {CompareReport.Bytes(size)}";
        try
        {
            ChildProcess child = StartChild(transport, size, host.Endpoint);
            IChannel channel = host.Connect();
            byte[] buffer = new byte[size];
            CompareWire.Receive(channel, buffer, CompareTag.Ready, "child");
            if (CompareWire.ValueAt(buffer, 0) != child.Id) throw new BenchFailure($"process {CompareWire.ValueAt(buffer, 0)} answered instead of the child (pid {child.Id})");

            List<Sample> samples = [MeasureRoundTrips(transport, size, channel, buffer)];
            MeasureStream(transport, size, channel, buffer, _settings.WarmupTime); // checked like the measured one, then dropped
            samples.Add(MeasureStream(transport, size, channel, buffer, _settings.StreamDuration));

            CompareWire.Send(channel, buffer, CompareTag.Quit);
            if (!child.WaitForExit(ExitTimeout)) throw new BenchFailure($"the {transport.Name} child did not exit within {ExitTimeout.TotalSeconds:0} s of Quit");
            if (child.ExitCode != 0) throw new BenchFailure($"the {transport.Name} child exited with code {child.ExitCode}");
            return samples;
        }
        finally
        {
            _supervisor.EndChild();
        }
    }

    private ChildProcess StartChild(Transport transport, int size, string endpoint) => _supervisor.StartChild(() =>
    {
        bool pin = _settings.Pin && _cpus.Count >= 2;
        // A child forked from the pinned main thread would start on CPU 0 and keep there the threads it
        // creates before it is moved: unpin for the start, then pin both.
        if (pin) CpuPinning.Unpin(Environment.ProcessId, _cpus);
        ChildProcess child = BenchChild.Start([
            CompareCommands.ChildCommandName,
            CompareCommands.TransportOptionName, transport.Name,
            CompareCommands.SizeOptionName, size.ToString(CultureInfo.InvariantCulture),
            CompareCommands.EndpointOptionName, endpoint,
        ]);
        if (pin)
        {
            CpuPinning.PinTo(Environment.ProcessId, _cpus[0]);
            CpuPinning.PinTo(child.Id, _cpus[1]);
        }
        return child;
    });

    private Sample MeasureRoundTrips(Transport transport, int size, IChannel channel, byte[] buffer)
    {
        LongHistogram histogram = new(HighestTrackableNs, numberOfSignificantValueDigits: 3);
        long sleepsBefore = channel.Sleeps ?? 0;
        TimeSpan cpuBefore = ProcessCpu.Total();
        long wallStart = Stopwatch.GetTimestamp();
        (long sent, long allocated) = RoundTrips(channel, new byte[size], buffer, histogram);
        CompareWire.Send(channel, buffer, CompareTag.EndRoundTrips, sent);
        CompareWire.Receive(channel, buffer, CompareTag.RoundTripReport, "child");
        double wall = Stopwatch.GetElapsedTime(wallStart).TotalSeconds;
        double parentCpu = (ProcessCpu.Total() - cpuBefore).TotalSeconds;
        if (CompareWire.ValueAt(buffer, 0) != sent) throw new BenchFailure($"{transport.Name}: sent {sent} pings, the child echoed {CompareWire.ValueAt(buffer, 0)}");
        double childCpu = CompareWire.ValueAt(buffer, 1) / 1e9;
        double? sleeps = channel.Sleeps is long after ? (after - sleepsBefore) / (double)sent : null;
        return new Sample(transport, size, Sample.RoundTrip,
            histogram.GetValueAtPercentile(50), histogram.GetValueAtPercentile(90), histogram.GetValueAtPercentile(99),
            histogram.GetValueAtPercentile(99.9), histogram.GetMaxValue(), null, null,
            parentCpu, childCpu, wall, sleeps, allocated);
    }

    /// <summary>
    /// Runs the warm-up (at least <see cref="CompareSettings.WarmupRoundTrips"/> and <see cref="CompareSettings.WarmupTime"/>)
    /// and the measured round trips in one loop; returns how many were sent and the bytes allocated after the warm-up.
    /// </summary>
    private (long Sent, long Allocated) RoundTrips(IChannel channel, byte[] pingBuffer, byte[] pongBuffer, LongHistogram histogram)
    {
        Span<byte> ping = pingBuffer;
        Span<byte> pong = pongBuffer;
        double nanosecondsPerTick = 1e9 / Stopwatch.Frequency;
        long warmupEnd = Stopwatch.GetTimestamp() + (long)(_settings.WarmupTime.TotalSeconds * Stopwatch.Frequency);
        long total = long.MaxValue;
        long allocatedBefore = 0;
        for (long sequence = 0; sequence < total; sequence++)
        {
            if (total == long.MaxValue && sequence >= _settings.WarmupRoundTrips && (sequence & ClockCheckMask) == 0 && Stopwatch.GetTimestamp() >= warmupEnd)
            {
                // The warm-up ran this very loop, recording included: tiered up, one-time allocations behind us.
                total = sequence + _settings.MeasuredRoundTrips;
                histogram.Reset();
                allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            }
            BinaryPrimitives.WriteInt64LittleEndian(ping, sequence);
            long start = Stopwatch.GetTimestamp();
            channel.Send(ping);
            int length = channel.Receive(pong);
            long elapsed = Stopwatch.GetTimestamp() - start;
            if (length != ping.Length || CompareWire.TagOf(pong) != sequence) ThrowBadEcho(sequence, length, CompareWire.TagOf(pong));
            histogram.RecordValue(Math.Min((long)(elapsed * nanosecondsPerTick), HighestTrackableNs));
        }
        return (total, GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
    }

    private static Sample MeasureStream(Transport transport, int size, IChannel channel, byte[] buffer, TimeSpan duration)
    {
        long sleepsBefore = channel.Sleeps ?? 0;
        TimeSpan cpuBefore = ProcessCpu.Total();
        long wallStart = Stopwatch.GetTimestamp();
        CompareWire.Send(channel, buffer, CompareTag.StartStream);
        byte[] message = new byte[size];
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long sent = StreamFor(channel, message, (long)(duration.TotalSeconds * Stopwatch.Frequency));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        CompareWire.Send(channel, buffer, CompareTag.EndStream, sent);
        CompareWire.Receive(channel, buffer, CompareTag.StreamReport, "child");
        double wall = Stopwatch.GetElapsedTime(wallStart).TotalSeconds;
        double parentCpu = (ProcessCpu.Total() - cpuBefore).TotalSeconds;
        long received = CompareWire.ValueAt(buffer, 0);
        double seconds = CompareWire.ValueAt(buffer, 1) / 1e9;
        long outOfOrder = CompareWire.ValueAt(buffer, 2);
        long wrongLength = CompareWire.ValueAt(buffer, 3);
        double childCpu = CompareWire.ValueAt(buffer, 4) / 1e9;
        if (received != sent || outOfOrder != 0 || wrongLength != 0 || CompareWire.ValueAt(buffer, 5) != sent)
            throw new BenchFailure($"{transport.Name} stream: sent {sent:N0}, the child received {received:N0} with {outOfOrder:N0} sequence breaks and {wrongLength:N0} wrong lengths");
        double? sleeps = channel.Sleeps is long after ? (after - sleepsBefore) / (double)sent : null;
        return new Sample(transport, size, Sample.Stream, null, null, null, null, null,
            received / seconds, received * (double)size / seconds / 1e6, parentCpu, childCpu, wall, sleeps, allocated);
    }

    private static long StreamFor(IChannel channel, byte[] buffer, long durationTicks)
    {
        Span<byte> message = buffer;
        long end = Stopwatch.GetTimestamp() + durationTicks;
        long sequence = 0;
        while ((sequence & ClockCheckMask) != 0 || Stopwatch.GetTimestamp() < end)
        {
            BinaryPrimitives.WriteInt64LittleEndian(message, sequence);
            channel.Send(message);
            sequence++;
        }
        return sequence;
    }


    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadEcho(long sequence, int length, long tag) =>
        throw new BenchFailure($"ping {sequence} came back as {length} bytes carrying tag {tag}");
}
