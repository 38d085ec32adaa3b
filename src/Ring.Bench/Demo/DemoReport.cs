using System.Globalization;
using HdrHistogram;
using Ring.Tooling;

namespace Ring.Bench.Demo;

/// <summary>The demo's report lines: a label column, then the figures.</summary>
internal static class DemoReport
{
    private const string Indent = "          ";

    public static string Pinning(string pinning) => Line("pinning", pinning);

    public static string Rings(RingSegment forward, RingSegment back, WaitStrategy wait) =>
        Line("rings", $"{forward.Name} (parent → child) and {back.Name} (child → parent) in {RingSegment.DefaultDirectory} · " +
                      $"{forward.Kind.ToString().ToUpperInvariant()} · {Bytes(forward.Capacity)} each · both sides wait: {EnumNames.Of(wait)}");

    public static string Stream(StreamResult stream, int messageSize)
    {
        StreamReport r = stream.Report;
        double seconds = r.Elapsed.TotalSeconds;
        string verdict = stream.InOrder ? "every sequence number in order" : "NOT in order: " + stream.Problem;
        string rates = Invariant($"{r.Received / seconds / 1e6:F2} M msg/s · {r.PayloadBytes / seconds / 1e6:N1} MB/s");
        return Line("stream", Invariant($"{Bytes(messageSize)}: {rates}, counted by the receiver over {seconds:F2} s ({r.Received:N0} messages, {verdict})"));
    }

    public static string Latency(LatencyResult latency, int messageSize)
    {
        LongHistogram h = latency.RoundTripNs;
        string percentiles = $"p50 {Micros(h.GetValueAtPercentile(50))} · p90 {Micros(h.GetValueAtPercentile(90))} · " +
                             $"p99 {Micros(h.GetValueAtPercentile(99))} · p99.9 {Micros(h.GetValueAtPercentile(99.9))} · max {Micros(h.GetMaxValue())} µs";
        return Line("latency", Invariant($"{Bytes(messageSize)} round trip: {percentiles} ({h.TotalCount:N0} after {latency.Warmup:N0} warm-up)"));
    }

    public static string CpuTime(TimeSpan parentCpu, TimeSpan parentWall, FinalReport child)
    {
        string parent = Invariant($"parent {parentCpu.TotalSeconds:F2} s in {parentWall.TotalSeconds:F2} s wall");
        string childTimes = Invariant($"child {child.CpuTime.TotalSeconds:F2} s in {child.WallTime.TotalSeconds:F2} s wall");
        return Line("cpu time", $"user+sys, whole process: {parent} · {childTimes}");
    }

    public static string Allocations(long parentBytes, long childBytes) =>
        Line("allocated", Invariant($"in the measured loops: parent {parentBytes:N0} B, child {childBytes:N0} B"));

    public static string BaselineHeading(string text) => Line("baseline", text);

    /// <summary>One baseline transport's figures, and the ring's against them (ratios below 1 as 1/N).</summary>
    public static string Baseline(string name, double messagesPerSecond, double roundTripNs, RingFigures ring) =>
        Indent + Invariant($"{name} stream {messagesPerSecond / 1e6:F2} M msg/s · round trip p50 {Micros((long)roundTripNs)} µs") +
        $" → the ring above: {Ratio(ring.MessagesPerSecond / messagesPerSecond)} its msg/s, {Ratio(ring.RoundTripP50Ns / roundTripNs)} its round trip";

    public static string Skipped(string why) => Line("baseline", why);

    public static string Bytes(long bytes) =>
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? Invariant($"{bytes >> 20} MiB")
        : bytes >= 1 << 10 && bytes % (1 << 10) == 0 ? Invariant($"{bytes >> 10} KiB")
        : Invariant($"{bytes} B");

    private static string Ratio(double ratio) =>
        ratio >= 1 ? Invariant($"{Significant(ratio)}×") : Invariant($"1/{Significant(1 / ratio)}");

    private static string Significant(double value) => value.ToString(value >= 10 ? "0" : "0.0", CultureInfo.InvariantCulture);

    private static string Micros(long nanoseconds) => (nanoseconds / 1000.0).ToString("F2", CultureInfo.InvariantCulture);

    private static string Line(string label, string text) => label.PadRight(Indent.Length) + text;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
