using System.Diagnostics;
using Ring.Bench.Common;
using Ring.Tooling;

namespace Ring.Bench.Demo;

/// <summary>
/// The demo's peer process: reads and checks the stream, then echoes every ping. It waits without timeouts
/// because it never decides anything alone: the parent stops it with a message or kills it, and if the
/// parent dies the stdin watcher removes the segments and exits.
/// </summary>
internal sealed class DemoChild
{
    // Read-side batches give back ring space once per batch instead of once per message.
    private const int BatchLimit = 256;
    private const int ParentGoneExitCode = 3;

    private readonly RingReader _reader;
    private readonly RingWriter _writer;
    private readonly int _messageSize;

    private DemoChild(RingReader reader, RingWriter writer, int messageSize)
    {
        _reader = reader;
        _writer = writer;
        _messageSize = messageSize;
    }

    public static int Run(string forwardName, int messageSize, WaitStrategy wait)
    {
        string backName = DemoWire.BackSegmentName(forwardName);
        ParentLifeline.OnParentExit(() =>
        {
            RingSegment.Unlink(forwardName);
            RingSegment.Unlink(backName);
            Console.Error.WriteLine("demo-child: the parent is gone; removed its segments and quit");
            Environment.Exit(ParentGoneExitCode);
        });
        using IDisposable sigint = ParentLifeline.IgnoreInterrupt();
        try
        {
            using RingSegment forward = RingSegment.Open(forwardName);
            using RingSegment back = RingSegment.Open(backName);
            using RingReader reader = forward.CreateReader(wait);
            using RingWriter writer = back.CreateWriter(wait);
            new DemoChild(reader, writer, messageSize).Serve();
            return 0;
        }
        catch (Exception e) when (e is BenchFailure or RingException)
        {
            Console.Error.WriteLine($"demo-child: error: {e.Message}");
            return 1;
        }
    }

    private void Serve()
    {
        SendControl(DemoTag.Ready, new ReadyMessage(Environment.ProcessId));
        SendControl(DemoTag.StreamReport, ReceiveStream()); // the warm-up stream: the same loop, checked, then dropped
        StreamReport stream = ReceiveStream();
        SendControl(DemoTag.StreamReport, stream);

        byte[] buffer = new byte[Math.Max(_messageSize, DemoWire.LengthOf<StopMessage>())];
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long echoed = Echo(buffer, out StopMessage stop);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        if (stop.Pings != echoed) throw new BenchFailure($"the parent sent {stop.Pings} pings but {echoed} arrived here");
        using Process self = Process.GetCurrentProcess();
        SendControl(DemoTag.FinalReport, new FinalReport(
            echoed,
            self.TotalProcessorTime,
            DateTime.Now - self.StartTime,
            stream.AllocatedBytes + allocated));
    }

    private StreamReport ReceiveStream()
    {
        StreamCheck check = new(_messageSize);
        RingMessageHandler handler = check.OnMessage;
        _reader.WaitToRead(Timeout.InfiniteTimeSpan);
        // Counted from the first message on: the wait before it lasts as long as the parent takes to start,
        // and one-time runtime work that lands there (seen as a 6 KB allocation now and then) is not the loop's.
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        while (!check.Ended)
        {
            _reader.WaitToRead(Timeout.InfiniteTimeSpan);
            _reader.ReadBatch(handler, BatchLimit);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        return check.Report(Stopwatch.GetElapsedTime(start, check.EndTimestamp), allocated);
    }

    /// <summary>Sends every data message straight back until the stop message; returns how many it echoed.</summary>
    private long Echo(byte[] buffer, out StopMessage stop)
    {
        Span<byte> destination = buffer;
        long echoed = 0;
        while (true)
        {
            _reader.WaitToRead(Timeout.InfiniteTimeSpan);
            _reader.TryRead(destination, out int length); // the sole consumer: what WaitToRead saw is still there
            ReadOnlySpan<byte> message = destination[..length];
            if (DemoWire.TagOf(message) < 0)
            {
                stop = DemoWire.ReadControl<StopMessage>(message, DemoTag.Stop, "parent");
                return echoed;
            }
            _writer.Write(message);
            echoed++;
        }
    }

    private void SendControl<T>(DemoTag tag, in T payload) where T : unmanaged
    {
        Span<byte> message = stackalloc byte[DemoWire.LengthOf<T>()];
        DemoWire.WriteControl(message, tag, payload);
        _writer.Write(message);
    }

    /// <summary>Checks the stream in place, message by message, as the ring hands them out.</summary>
    private sealed class StreamCheck(int messageSize)
    {
        private long _expected;
        private long _received;
        private long _payloadBytes;
        private long _outOfOrder;
        private long _firstExpected = -1;
        private long _firstActual = -1;
        private long _wrongLength;
        private long _sentPerParent;

        public bool Ended { get; private set; }

        public long EndTimestamp { get; private set; }

        public void OnMessage(ReadOnlySpan<byte> message)
        {
            long tag = DemoWire.TagOf(message);
            if (tag == _expected && message.Length == messageSize)
            {
                _expected++;
                _received++;
                _payloadBytes += messageSize;
                return;
            }
            OnIrregular(message, tag);
        }

        public StreamReport Report(TimeSpan elapsed, long allocatedBytes) => new(
            _received, _payloadBytes, elapsed, _outOfOrder, _firstExpected, _firstActual, _wrongLength, _sentPerParent, allocatedBytes);

        private void OnIrregular(ReadOnlySpan<byte> message, long tag)
        {
            if (tag < 0)
            {
                EndTimestamp = Stopwatch.GetTimestamp();
                _sentPerParent = DemoWire.ReadControl<EndOfStreamMessage>(message, DemoTag.EndOfStream, "parent").Sent;
                Ended = true;
                return;
            }
            _received++;
            _payloadBytes += message.Length;
            if (message.Length != messageSize) _wrongLength++;
            if (tag != _expected)
            {
                if (_outOfOrder++ == 0)
                {
                    _firstExpected = _expected;
                    _firstActual = tag;
                }
                _expected = tag;
            }
            _expected++;
        }
    }
}
