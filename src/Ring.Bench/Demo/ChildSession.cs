using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using HdrHistogram;
using Ring.Bench.Common;
using Ring.Tooling;

namespace Ring.Bench.Demo;

/// <summary>
/// The parent's side of the demo's protocol: runs the phases against the child and measures them. The
/// measured loops allocate nothing and wait without timeouts, so they run the library's fast path as is
/// (a finite timeout would read the clock on every spin); <see cref="DemoParent"/> notices a child that dies.
/// </summary>
internal sealed class ChildSession
{
    // Reading the clock costs about as much as writing a small message, so the stream loop reads it every 1024.
    private const long ClockCheckMask = 1023;
    private const long HighestTrackableNs = 60_000_000_000;
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(10);

    private readonly RingWriter _writer;
    private readonly RingReader _reader;
    private readonly ChildProcess _child;
    private readonly int _messageSize;
    private readonly byte[] _inbox;

    public ChildSession(RingWriter writer, RingReader reader, ChildProcess child, int messageSize)
    {
        _writer = writer;
        _reader = reader;
        _child = child;
        _messageSize = messageSize;
        _inbox = new byte[reader.MaxMessageLength];
    }

    public void WaitForReady()
    {
        ReadyMessage ready = ReceiveControl<ReadyMessage>(DemoTag.Ready);
        if (ready.Pid != _child.Id) throw new BenchFailure($"process {ready.Pid} answered on the back ring instead of the child (pid {_child.Id})");
    }

    public StreamResult Stream(TimeSpan duration)
    {
        byte[] message = new byte[_messageSize];
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long sent = StreamFor(message, (long)(duration.TotalSeconds * Stopwatch.Frequency));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        SendControl(DemoTag.EndOfStream, new EndOfStreamMessage(sent));
        StreamReport report = ReceiveControl<StreamReport>(DemoTag.StreamReport);
        return new StreamResult(report, sent, allocated);
    }

    public LatencyResult PingPong(int warmup, int measured)
    {
        byte[] ping = new byte[_messageSize];
        LongHistogram histogram = new(HighestTrackableNs, numberOfSignificantValueDigits: 3);
        long allocated = RoundTrips(ping, warmup, measured, histogram);
        SendControl(DemoTag.Stop, new StopMessage(warmup + (long)measured));
        return new LatencyResult(histogram, warmup, allocated);
    }

    /// <summary>Collects the child's final report and waits for it to exit cleanly.</summary>
    public FinalReport Finish()
    {
        FinalReport report = ReceiveControl<FinalReport>(DemoTag.FinalReport);
        if (!_child.WaitForExit(ExitTimeout)) throw new BenchFailure($"the child did not exit within {ExitTimeout.TotalSeconds:0} s of its final report");
        if (_child.ExitCode != 0) throw new BenchFailure($"the child exited with code {_child.ExitCode} after its final report");
        return report;
    }

    private long StreamFor(byte[] buffer, long durationTicks)
    {
        Span<byte> message = buffer;
        long end = Stopwatch.GetTimestamp() + durationTicks;
        long sequence = 0;
        while ((sequence & ClockCheckMask) != 0 || Stopwatch.GetTimestamp() < end)
        {
            BinaryPrimitives.WriteInt64LittleEndian(message, sequence);
            _writer.Write(message);
            sequence++;
        }
        return sequence;
    }

    /// <summary>Runs the warm-up and the measured round trips in one loop; returns the bytes allocated after the warm-up.</summary>
    private long RoundTrips(byte[] pingBuffer, int warmup, int measured, LongHistogram histogram)
    {
        Span<byte> ping = pingBuffer;
        double nanosecondsPerTick = 1e9 / Stopwatch.Frequency;
        long total = warmup + (long)measured;
        long allocatedBefore = 0;
        for (long sequence = 0; sequence < total; sequence++)
        {
            if (sequence == warmup)
            {
                // The warm-up ran this very loop, recording included: the JIT has tiered it up and one-time
                // initialisation (the histogram's first record allocates a lookup table) is behind us.
                histogram.Reset();
                allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            }
            BinaryPrimitives.WriteInt64LittleEndian(ping, sequence);
            long start = Stopwatch.GetTimestamp();
            _writer.Write(ping);
            int length = Receive();
            long elapsed = Stopwatch.GetTimestamp() - start;
            if (length != ping.Length || DemoWire.TagOf(_inbox) != sequence) ThrowBadEcho(sequence, length);
            histogram.RecordValue(Math.Min((long)(elapsed * nanosecondsPerTick), HighestTrackableNs));
        }
        return GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
    }

    /// <summary>Waits for the next message from the child and copies it into <see cref="_inbox"/>.</summary>
    private int Receive()
    {
        _reader.WaitToRead(Timeout.InfiniteTimeSpan);
        _reader.TryRead(_inbox, out int length); // the sole consumer: what WaitToRead saw is still there
        return length;
    }

    private void SendControl<T>(DemoTag tag, in T payload) where T : unmanaged
    {
        Span<byte> message = stackalloc byte[DemoWire.LengthOf<T>()];
        DemoWire.WriteControl(message, tag, payload);
        _writer.Write(message);
    }

    private T ReceiveControl<T>(DemoTag tag) where T : unmanaged
    {
        int length = Receive();
        return DemoWire.ReadControl<T>(_inbox.AsSpan(0, length), tag, "child");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowBadEcho(long sequence, int length) =>
        throw new BenchFailure($"ping {sequence} ({_messageSize} bytes) came back as {length} bytes carrying tag {DemoWire.TagOf(_inbox)}");
}

/// <summary>The stream phase: the child's report, and what the parent sent and allocated.</summary>
internal sealed record StreamResult(StreamReport Report, long Sent, long AllocatedBytes)
{
    public bool InOrder => Report.OutOfOrder == 0 && Report.WrongLength == 0 && Report.Received == Sent && Report.SentPerParent == Sent;

    public string Problem =>
        Report.OutOfOrder > 0
            ? $"sequence number {Report.FirstExpected} missing or out of order (next came {Report.FirstActual}; {Report.OutOfOrder:N0} break(s) in the sequence)"
        : Report.WrongLength > 0 ? $"{Report.WrongLength:N0} messages arrived with a length other than the message size"
        : $"the parent sent {Sent:N0} messages (the child was told {Report.SentPerParent:N0}) but the child received {Report.Received:N0}";
}

/// <summary>The ping-pong phase: round-trip times in nanoseconds, after the warm-up.</summary>
internal sealed record LatencyResult(LongHistogram RoundTripNs, int Warmup, long AllocatedBytes);
