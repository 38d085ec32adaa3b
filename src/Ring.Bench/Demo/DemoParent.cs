using System.Diagnostics;
using System.Globalization;
using Ring.Bench.Common;
using Ring.Tooling;

namespace Ring.Bench.Demo;

/// <summary>
/// The <c>demo</c> command: creates the two segments, starts the child, pins both processes, runs the
/// phases and prints the report. The cleanup (the segments unlinked, the child killed) is a
/// <see cref="ChildSupervisor"/>'s: the measured loops wait without timeouts, so a child that exits with an
/// error, or SIGINT/SIGTERM, end the process from the thread that notices. A child that hangs without exiting
/// leaves the parent waiting until it is interrupted.
/// </summary>
internal sealed class DemoParent
{
    private const long SegmentCapacity = 1 << 20;
    private const int WarmupRoundTrips = 10_000;
    private const int MeasuredRoundTrips = 100_000;

    private readonly DemoSettings _settings;
    private readonly string _forwardName = $"demo-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}";
    private readonly string _backName;
    private readonly ChildSupervisor _supervisor;

    private DemoParent(DemoSettings settings, ChildSupervisor supervisor)
    {
        _settings = settings;
        _supervisor = supervisor;
        _backName = DemoWire.BackSegmentName(_forwardName);
    }

    public static int Run(DemoSettings settings)
    {
        using ChildSupervisor supervisor = new("demo");
        try
        {
            new DemoParent(settings, supervisor).Execute();
            return 0;
        }
        catch (Exception e) when (e is BenchFailure or RingException or IOException or OperationCanceledException)
        {
            Console.Error.WriteLine($"demo: error: {e.Message}");
            return 1;
        }
    }

    private void Execute()
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
        foreach (string line in DemoReport.Context()) Console.WriteLine(line);
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
        DemoCommands.WaitOptionName, WaitStrategyNames.Of(_settings.Wait),
    ]));

    /// <summary>
    /// Pins after the child has started rather than before: a child forked from a pinned parent would start
    /// on the parent's CPU, and runtime threads it creates before being moved would stay there.
    /// </summary>
    private string Pin(ChildProcess child)
    {
        if (!_settings.Pin) return "none (--no-pin): the scheduler places both processes";
        IReadOnlyList<int> cpus = CpuPinning.AllowedCpus();
        if (cpus.Count < 2) return $"none: this process may run on {cpus.Count} CPU only";
        string parentCpus = CpuPinning.PinTo(Environment.ProcessId, cpus[0]);
        string childCpus = CpuPinning.PinTo(child.Id, cpus[1]);
        return $"parent pid {Environment.ProcessId} on CPU {parentCpus}, child pid {child.Id} on CPU {childCpus} (main threads, Process.ProcessorAffinity)";
    }
}
