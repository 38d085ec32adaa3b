using System.Diagnostics;
using System.Net.Sockets;
using Ring.Bench.Common;
using Ring.Tooling;

namespace Ring.Bench.Compare;

/// <summary>
/// The harness's peer process for one transport and one size: echoes pings, checks and counts a stream.
/// It waits without timeouts; the parent stops it with a message or kills it, and if the parent dies the
/// stdin watcher removes the names the parent created and exits.
/// </summary>
internal static class CompareChild
{
    private const int ParentGoneExitCode = 3;

    public static int Run(Transport transport, int messageSize, string endpoint)
    {
        ParentLifeline.OnParentExit(() =>
        {
            TransportHost.RemoveNamesAfterParent(transport, endpoint);
            Console.Error.WriteLine("compare-child: the parent is gone; removed its files and quit");
            Environment.Exit(ParentGoneExitCode);
        });
        using IDisposable sigint = ParentLifeline.IgnoreInterrupt();
        try
        {
            using IChannel channel = TransportHost.ConnectChild(transport, messageSize, endpoint);
            Serve(channel, messageSize);
            return 0;
        }
        catch (Exception e) when (e is BenchFailure or RingException or IOException or SocketException)
        {
            Console.Error.WriteLine($"compare-child ({transport.Name}): error: {e.Message}");
            return 1;
        }
    }

    private static void Serve(IChannel channel, int messageSize)
    {
        byte[] buffer = new byte[messageSize];
        CompareWire.Send(channel, buffer, CompareTag.Ready, Environment.ProcessId);
        TimeSpan cpuStart = ProcessCpu.Total();
        long echoed = Echo(channel, buffer);
        if (CompareWire.TagOf(buffer) != (long)CompareTag.EndRoundTrips) throw new BenchFailure($"expected the end of the round trips, got tag {CompareWire.TagOf(buffer)}");
        CompareWire.Send(channel, buffer, CompareTag.RoundTripReport, echoed, (ProcessCpu.Total() - cpuStart).Ticks * 100);

        int length = channel.Receive(buffer);
        // A warm-up stream, then the measured one: the same loop for both.
        while (length == messageSize && CompareWire.TagOf(buffer) == (long)CompareTag.StartStream)
        {
            cpuStart = ProcessCpu.Total();
            StreamCount count = CountStream(channel, buffer);
            long sentPerParent = CompareWire.ValueAt(buffer, 0);
            CompareWire.Send(channel, buffer, CompareTag.StreamReport,
                count.Received, count.ElapsedNs, count.OutOfOrder, count.WrongLength, (ProcessCpu.Total() - cpuStart).Ticks * 100, sentPerParent);
            length = channel.Receive(buffer);
        }
        if (length != messageSize || CompareWire.TagOf(buffer) != (long)CompareTag.Quit) throw new BenchFailure($"expected Quit, got tag {CompareWire.TagOf(buffer)}");
    }

    /// <summary>Sends every data message straight back; returns how many, with the first control message left in the buffer.</summary>
    private static long Echo(IChannel channel, byte[] buffer)
    {
        Span<byte> message = buffer;
        long echoed = 0;
        while (true)
        {
            int length = channel.Receive(message);
            if (CompareWire.TagOf(message) < 0) return echoed;
            channel.Send(message[..length]);
            echoed++;
        }
    }

    /// <summary>Counts and checks data messages until the end marker, which it leaves in the buffer.</summary>
    private static StreamCount CountStream(IChannel channel, byte[] buffer)
    {
        Span<byte> message = buffer;
        long expected = 0, received = 0, outOfOrder = 0, wrongLength = 0, start = 0;
        while (true)
        {
            int length = channel.Receive(message);
            long sequence = CompareWire.TagOf(message);
            if (sequence < 0) break;
            // Timed from the first message: the wait before it is the parent's start-up, not the transport's.
            if (received++ == 0) start = Stopwatch.GetTimestamp();
            if (sequence != expected) outOfOrder++;
            if (length != buffer.Length) wrongLength++;
            expected = sequence + 1;
        }
        long elapsedNs = (long)(Stopwatch.GetElapsedTime(start).Ticks * 100.0);
        if (CompareWire.TagOf(message) != (long)CompareTag.EndStream) throw new BenchFailure($"expected the end of the stream, got tag {CompareWire.TagOf(message)}");
        return new StreamCount(received, elapsedNs, outOfOrder, wrongLength);
    }


    private readonly record struct StreamCount(long Received, long ElapsedNs, long OutOfOrder, long WrongLength);
}
