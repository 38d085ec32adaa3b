using System.Diagnostics;
using System.Globalization;
using Ring.Bench.Common;
using Ring.Tooling;

namespace Ring.Bench.Demo;

/// <summary>
/// The <c>demo</c> command: creates the two segments, starts the child, pins both processes, runs the
/// phases and prints the report, then measures its baseline (<see cref="DemoBaseline"/>). The cleanup (the
/// segments unlinked, the child killed) is a <see cref="ChildSupervisor"/>'s: the measured loops wait without
/// timeouts, so a child that exits with an error, or SIGINT/SIGTERM, end the process from the thread that
/// notices. A child that hangs without exiting leaves the parent waiting until it is interrupted.
/// </summary>
internal sealed class DemoParent
{
    private const long SegmentCapacity = 1 << 20;
    private const int WarmupRoundTrips = 10_000;

    /// <summary>
    /// An unmeasured stream first, so the measured one runs optimized code: the JIT's background recompilation finds
    /// no free CPU while both pinned sides spin, and without it the 64 B stream measured 4–5× below its steady state
    /// (compare's <see cref="Compare.CompareSettings.WarmupTime"/> says more).
    /// </summary>
    private static readonly TimeSpan StreamWarmup = TimeSpan.FromSeconds(3);
    private const int MeasuredRoundTrips = 100_000;

    private readonly DemoSettings _settings;
    private readonly string _forwardName = $"demo-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}";
    private readonly string _backName;
    private readonly ChildSupervisor _supervisor;
    private readonly IReadOnlyList<int> _cpus;

    private DemoParent(DemoSettings settings, ChildSupervisor supervisor, IReadOnlyList<int> cpus)
    {
        _settings = settings;
        _supervisor = supervisor;
        _cpus = cpus;
        _backName = DemoWire.BackSegmentName(_forwardName);
    }

    public static int Run(DemoSettings settings)
    {
        try
        {
            IReadOnlyList<int> cpus = CpuPinning.AllowedCpus();
            RingFigures ring;
            // The ring's child and segments are gone before the baseline's sessions start theirs.
            using (ChildSupervisor supervisor = new("demo")) ring = new DemoParent(settings, supervisor, cpus).Execute();
            // The main thread gets all its CPUs back: compare's harness reads the CPUs it may pin to from its mask,
            // and a child started from it would inherit CPU 0 alone.
            if (settings.Pin) CpuPinning.Unpin(Environment.ProcessId, cpus);
            foreach (string line in DemoBaseline.Measure(settings, ring)) Console.WriteLine(line);
            return 0;
        }
        catch (Exception e) when (e is BenchFailure or RingException or IOException or OperationCanceledException)
        {
            Console.Error.WriteLine($"demo: error: {e.Message}");
            return 1;
        }
    }

    private RingFigures Execute()
    {
        Console.WriteLine($"Ring demo · {MachineInfo.Describe()}");
        _supervisor.OwnNames(() =>
        {
            RingSegment.Unlink(_forwardName);
            RingSegment.Unlink(_backName);
        });
        RingOptions options = new() { Kind = RingKind.Spsc, Capacity = SegmentCapacity };
        using RingSegment forward = CreateFresh(_forwardName, options);
        using RingSegment back = CreateFresh(_backName, options);
        if (_settings.MessageSize > forward.MaxMessageLength)
            throw new BenchFailure($"--size {_settings.MessageSize} is more than the {forward.MaxMessageLength} bytes a message may carry in a {DemoReport.Bytes(SegmentCapacity)} ring");
        using RingWriter writer = forward.CreateWriter(_settings.Wait);
        using RingReader reader = back.CreateReader(_settings.Wait);

        ChildProcess child = StartChild();
        string pinning = Pin(child);
        ChildSession session = new(writer, reader, child, _settings.MessageSize);
        _supervisor.Activity = "waiting for the child to attach";
        session.WaitForReady();
        Console.WriteLine(DemoReport.Pinning(pinning));
        Console.WriteLine(DemoReport.Rings(forward, back, _settings.Wait));

        _supervisor.Activity = "warming up";
        StreamResult warmup = session.Stream(StreamWarmup);
        if (!warmup.InOrder) throw new BenchFailure($"warm-up stream: {warmup.Problem}");
        _supervisor.Activity = "streaming";
        StreamResult stream = session.Stream(_settings.StreamDuration);
        Console.WriteLine(DemoReport.Stream(stream, _settings.MessageSize));
        if (!stream.InOrder) throw new BenchFailure($"stream: {stream.Problem}");

        _supervisor.Activity = "measuring round trips";
        LatencyResult latency = session.PingPong(WarmupRoundTrips, MeasuredRoundTrips);
        Console.WriteLine(DemoReport.Latency(latency, _settings.MessageSize));

        _supervisor.Activity = "waiting for the child's final report";
        FinalReport final = session.Finish();
        using Process self = Process.GetCurrentProcess();
        Console.WriteLine(DemoReport.CpuTime(self.TotalProcessorTime, DateTime.Now - self.StartTime, final));
        Console.WriteLine(DemoReport.Allocations(stream.AllocatedBytes + latency.AllocatedBytes, final.AllocatedBytes));
        return new RingFigures(stream.Report.Received / stream.Report.Elapsed.TotalSeconds, latency.RoundTripNs.GetValueAtPercentile(50));
    }

    private static RingSegment CreateFresh(string name, RingOptions options)
    {
        // The name carries this process's id, so a segment already there is a leftover of a dead process that had it.
        RingSegment.Unlink(name);
        return RingSegment.Create(name, options);
    }

    private ChildProcess StartChild() => _supervisor.StartChild(() => BenchChild.Start([
        DemoCommands.ChildCommandName,
        DemoCommands.SegmentOptionName, _forwardName,
        DemoCommands.SizeOptionName, _settings.MessageSize.ToString(CultureInfo.InvariantCulture),
        DemoCommands.WaitOptionName, EnumNames.Of(_settings.Wait),
    ]));

    /// <summary>
    /// Pins after the child has started rather than before: a child forked from a pinned parent would start
    /// on the parent's CPU, and runtime threads it creates before being moved would stay there.
    /// </summary>
    private string Pin(ChildProcess child)
    {
        if (!_settings.Pin) return "none (--no-pin): the scheduler places both processes";
        IReadOnlyList<int> cpus = _cpus;
        if (cpus.Count < 2) return $"none: this process may run on {cpus.Count} CPU only";
        string parentCpus = CpuPinning.PinTo(Environment.ProcessId, cpus[0]);
        string childCpus = CpuPinning.PinTo(child.Id, cpus[1]);
        return $"parent pid {Environment.ProcessId} on CPU {parentCpus}, child pid {child.Id} on CPU {childCpus} (main threads, Process.ProcessorAffinity)";
    }
}
