using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Ring.Bench.Common;

namespace Ring.Bench.Demo;

/// <summary>
/// The <c>demo</c> command: creates the two segments, starts the child, pins both processes, runs the
/// phases and prints the report. Owns the cleanup: the segments are unlinked and the child killed on every
/// way out this process controls; the child covers the rest (see <see cref="SelfProcess"/>).
/// <para>
/// The measured loops wait without timeouts, so failures elsewhere end the process from where they are
/// noticed: a child that exits with an error, or SIGINT/SIGTERM, clean up and exit on their own thread.
/// A child that hangs without exiting leaves the parent waiting until it is interrupted.
/// </para>
/// </summary>
internal sealed class DemoParent
{
    private const long SegmentCapacity = 1 << 20;
    private const int WarmupRoundTrips = 10_000;
    private const int MeasuredRoundTrips = 100_000;

    private readonly DemoSettings _settings;
    private readonly string _forwardName = $"demo-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}";
    private readonly string _backName;
    private readonly Lock _gate = new();
    private Process? _child; // guarded by _gate, shared with the signal handler
    private bool _stopping; // guarded by _gate: the child's exit is expected from here on
    private volatile string _activity = "starting the child";

    private DemoParent(DemoSettings settings)
    {
        _settings = settings;
        _backName = DemoWire.BackSegmentName(_forwardName);
    }

    public static int Run(DemoSettings settings) => new DemoParent(settings).Run();

    private int Run()
    {
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            Execute();
            return 0;
        }
        catch (Exception e) when (e is BenchFailure or RingException)
        {
            Console.Error.WriteLine($"demo: error: {e.Message}");
            return 1;
        }
        finally
        {
            Cleanup();
            lock (_gate)
            {
                _child?.Dispose();
                _child = null;
            }
        }
    }

    private void Execute()
    {
        Console.WriteLine($"Ring demo · {MachineInfo.Describe()}");
        RingOptions options = new() { Kind = RingKind.Spsc, Capacity = SegmentCapacity };
        using RingSegment forward = CreateFresh(_forwardName, options);
        using RingSegment back = CreateFresh(_backName, options);
        if (_settings.MessageSize > forward.MaxMessageLength)
            throw new BenchFailure($"--size {_settings.MessageSize} is more than the {forward.MaxMessageLength} bytes a message may carry in a {DemoReport.Bytes(SegmentCapacity)} ring");
        using RingWriter writer = forward.CreateWriter(_settings.Wait.Strategy);
        using RingReader reader = back.CreateReader(_settings.Wait.Strategy);

        Process child = StartChild();
        string pinning = Pin(child);
        ChildSession session = new(writer, reader, child, _settings.MessageSize);
        _activity = "waiting for the child to attach";
        session.WaitForReady();
        Console.WriteLine(DemoReport.Pinning(pinning));
        Console.WriteLine(DemoReport.Rings(forward, back, _settings.Wait));

        _activity = "streaming";
        StreamResult stream = session.Stream(_settings.StreamDuration);
        Console.WriteLine(DemoReport.Stream(stream, _settings.MessageSize));
        if (!stream.InOrder) throw new BenchFailure($"stream: {stream.Problem}");

        _activity = "measuring round trips";
        LatencyResult latency = session.PingPong(WarmupRoundTrips, MeasuredRoundTrips);
        Console.WriteLine(DemoReport.Latency(latency, _settings.MessageSize));

        _activity = "waiting for the child's final report";
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

    private Process StartChild()
    {
        lock (_gate)
        {
            // Under the lock, so a signal either comes first and no child starts, or comes after and finds it to kill.
            if (_stopping) throw new BenchFailure("stopped before the child started");
            _child = SelfProcess.StartChild([
                DemoCommands.ChildCommandName,
                DemoCommands.SegmentOptionName, _forwardName,
                DemoCommands.SizeOptionName, _settings.MessageSize.ToString(CultureInfo.InvariantCulture),
                DemoCommands.WaitOptionName, _settings.Wait.Name,
            ]);
            _child.EnableRaisingEvents = true;
            _child.Exited += OnChildExited;
            return _child;
        }
    }

    /// <summary>
    /// Pins after the child has started rather than before: a child forked from a pinned parent would start
    /// on the parent's CPU, and runtime threads it creates before being moved would stay there.
    /// </summary>
    private string Pin(Process child)
    {
        if (!_settings.Pin) return "none (--no-pin): the scheduler places both processes";
        IReadOnlyList<int> cpus = CpuPinning.AllowedCpus();
        if (cpus.Count < 2) return $"none: this process may run on {cpus.Count} CPU only";
        using Process self = Process.GetCurrentProcess();
        string parentCpus = CpuPinning.PinTo(self, cpus[0]);
        string childCpus = CpuPinning.PinTo(child, cpus[1]);
        return $"parent pid {self.Id} on CPU {parentCpus}, child pid {child.Id} on CPU {childCpus} (main threads, Process.ProcessorAffinity)";
    }

    private void OnChildExited(object? sender, EventArgs e)
    {
        int code;
        lock (_gate)
        {
            if (_stopping) return;
            code = _child!.ExitCode;
            // Exit code 0 comes only after the child sent its final report, which the main thread then reads.
            if (code == 0) return;
        }
        Console.Error.WriteLine($"demo: error: the child exited with code {code} while the parent was {_activity}");
        Cleanup();
        Environment.Exit(1);
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // the default would end the process without removing the segments
        Console.Error.WriteLine($"demo: {context.Signal}: stopping the child and removing the segments");
        Cleanup();
        Environment.Exit(context.Signal == PosixSignal.SIGINT ? 128 + 2 : 128 + 15);
    }

    private void Cleanup()
    {
        lock (_gate)
        {
            _stopping = true;
            if (_child is { HasExited: false }) _child.Kill();
            RingSegment.Unlink(_forwardName);
            RingSegment.Unlink(_backName);
        }
    }
}
