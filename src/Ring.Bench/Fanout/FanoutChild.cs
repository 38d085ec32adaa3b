using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Pipes;
using Ring.Bench.Common;
using Ring.Tooling;

namespace Ring.Bench.Fanout;

/// <summary>
/// One subscriber process of the fan-out benchmark: attaches, says so on its report pipe, checks and counts the
/// stream until the end marker, and reports what it got. If the parent dies it just exits: the parent's names
/// carry its pid, and the next run removes them.
/// </summary>
internal static class FanoutChild
{
    private const int ParentGoneExitCode = 3;

    public static int Run(FanoutTransport transport, int messageSize, string endpoint, string reportHandle)
    {
        ParentLifeline.OnParentExit(() => Environment.Exit(ParentGoneExitCode));
        using IDisposable sigint = ParentLifeline.IgnoreInterrupt();
        try
        {
            using AnonymousPipeClientStream report = new(PipeDirection.Out, reportHandle);
            using IFanoutSubscriber subscriber = FanoutEndpoints.Subscribe(transport, endpoint, messageSize);
            FanoutReport.Write(report, Environment.ProcessId);
            TimeSpan cpuStart = ProcessCpu.Total();
            StreamCounter counter = new(messageSize);
            while (!counter.Ended) subscriber.ReceiveSome(ref counter);
            long elapsedNs = counter.Received == 0 ? 0 : (long)(Stopwatch.GetElapsedTime(counter.FirstTimestamp).Ticks * 100.0);
            FanoutReport.Write(report, counter.Received, elapsedNs, counter.OutOfOrder, counter.WrongLength, (ProcessCpu.Total() - cpuStart).Ticks * 100);
            return 0;
        }
        catch (Exception e) when (e is BenchFailure or RingException or IOException)
        {
            Console.Error.WriteLine($"fanout-child ({transport.Name}): error: {e.Message}");
            return 1;
        }
    }

}

/// <summary>What a subscriber tells the parent over its report pipe: records of 64-bit little-endian values.</summary>
internal static class FanoutReport
{
    public const int FinalValues = 5;

    public static void Write(Stream pipe, params ReadOnlySpan<long> values)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(values.Length, FinalValues);
        Span<byte> record = stackalloc byte[FinalValues * sizeof(long)];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(record[(i * sizeof(long))..], values[i]);
        pipe.Write(record[..(values.Length * sizeof(long))]);
        pipe.Flush();
    }

    /// <summary>Reads a record of <paramref name="count"/> values; a subscriber that exited instead is a <see cref="BenchFailure"/>.</summary>
    public static long[] Read(Stream pipe, int count, string what)
    {
        byte[] record = new byte[count * sizeof(long)];
        try
        {
            pipe.ReadExactly(record);
        }
        catch (EndOfStreamException)
        {
            throw new BenchFailure($"a subscriber exited before it sent {what}");
        }
        long[] values = new long[count];
        for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(i * sizeof(long)));
        return values;
    }
}
