using System.Globalization;
using System.Text.Json;

namespace Ring.Bench.Compare;

/// <summary>The compare command's output: progress lines, median tables, JSON.</summary>
internal static class CompareReport
{
    private const string Pipe = "pipe";

    /// <summary>Wide enough for every transport's name and two spaces after it.</summary>
    private static readonly int NameWidth = Transport.All.Max(t => t.Name.Length) + 2;

    public static string Setup(CompareSettings s, string pinning) => string.Join("\n",
        Invariant($"sizes {string.Join(", ", s.Sizes.Select(Bytes))} · {s.Rounds} rounds, transports alternated within each round, medians reported"),
        Invariant($"rtt: warm-up of at least {s.WarmupRoundTrips:N0} round trips and {s.WarmupTime.TotalSeconds:0.##} s, then {s.MeasuredRoundTrips:N0} measured · stream: {s.WarmupTime.TotalSeconds:0.##} s warm-up stream, then {s.StreamDuration.TotalSeconds:0.##} s one-way, counted by the receiver"),
        $"pinning: {pinning}",
        "cpu: user+sys of the whole process over the measurement (warm-up included for rtt); sleeps: Ring eventcount sleeps, both directions",
        "every message is exactly the measured size, its first 8 bytes a sequence number that the receiver checks",
        "transports:");

    public static string Progress(int round, Sample s)
    {
        string figures = s.Measurement == Sample.RoundTrip
            ? Invariant($"p50 {Micros(s.P50Ns)} p99 {Micros(s.P99Ns)} p99.9 {Micros(s.P999Ns)} max {Micros(s.MaxNs)} µs")
            : Invariant($"{s.MessagesPerSecond / 1e6:F3} M msg/s {s.MegabytesPerSecond:F0} MB/s");
        string sleeps = s.SleepsPerMessage is double z ? Invariant($" · sleeps/msg {z:F2}") : "";
        return Invariant($"round {round} {NameColumn(s.Transport.Name)}{Bytes(s.Size),6} {s.Measurement,-6} {figures} · cpu parent {s.ParentCpuSeconds:F2} s, child {s.ChildCpuSeconds:F2} s in {s.WallSeconds:F2} s wall{sleeps} · parent allocated {s.ParentAllocatedBytes:N0} B");
    }

    /// <summary>Each figure's median over the rounds, per transport × size × measurement, in run order.</summary>
    public static List<Sample> Medians(List<Sample> samples) =>
        samples.GroupBy(s => (s.Transport.Name, s.Size, s.Measurement))
            .Select(g =>
            {
                Sample first = g.First();
                double? M(Func<Sample, double?> field) => Median(g.Select(field));
                return first with
                {
                    P50Ns = M(s => s.P50Ns),
                    P90Ns = M(s => s.P90Ns),
                    P99Ns = M(s => s.P99Ns),
                    P999Ns = M(s => s.P999Ns),
                    MaxNs = M(s => s.MaxNs),
                    MessagesPerSecond = M(s => s.MessagesPerSecond),
                    MegabytesPerSecond = M(s => s.MegabytesPerSecond),
                    ParentCpuSeconds = M(s => s.ParentCpuSeconds)!.Value,
                    ChildCpuSeconds = M(s => s.ChildCpuSeconds)!.Value,
                    WallSeconds = M(s => s.WallSeconds)!.Value,
                    SleepsPerMessage = M(s => s.SleepsPerMessage),
                    ParentAllocatedBytes = M(s => s.ParentAllocatedBytes)!.Value,
                };
            })
            .ToList();

    public static IEnumerable<string> Tables(List<Sample> medians, CompareSettings settings)
    {
        foreach (int size in settings.Sizes)
        {
            List<Sample> rtt = medians.Where(s => s.Size == size && s.Measurement == Sample.RoundTrip).ToList();
            Sample? pipe = rtt.FirstOrDefault(s => s.Transport.Name == Pipe);
            yield return Invariant($"rtt · {Bytes(size)} · round trip in µs, median of {settings.Rounds} rounds · pipe/x = pipe p50 ÷ this p50");
            yield return $"  {NameColumn("transport")}{"p50",9}{"p90",9}{"p99",9}{"p99.9",9}{"max",10}{"pipe/x",9}{"cpu par",9}{"cpu chi",9}{"wall",8}{"sleeps/rt",11}";
            foreach (Sample s in rtt)
            {
                string ratio = pipe?.P50Ns is double p && s.P50Ns is double x ? Invariant($"{p / x:F1}×") : "-";
                yield return Invariant($"  {NameColumn(s.Transport.Name)}{Micros(s.P50Ns),9}{Micros(s.P90Ns),9}{Micros(s.P99Ns),9}{Micros(s.P999Ns),9}{Micros(s.MaxNs),10}{ratio,9}{s.ParentCpuSeconds,9:F2}{s.ChildCpuSeconds,9:F2}{s.WallSeconds,8:F2}{Sleeps(s),11}");
            }
            yield return "";
            List<Sample> stream = medians.Where(s => s.Size == size && s.Measurement == Sample.Stream).ToList();
            Sample? pipeStream = stream.FirstOrDefault(s => s.Transport.Name == Pipe);
            yield return Invariant($"stream · {Bytes(size)} · one way for {settings.StreamDuration.TotalSeconds:0.##} s, median of {settings.Rounds} rounds · x/pipe = this msg/s ÷ pipe msg/s");
            yield return $"  {NameColumn("transport")}{"M msg/s",10}{"MB/s",10}{"x/pipe",9}{"cpu par",9}{"cpu chi",9}{"wall",8}{"sleeps/msg",12}";
            foreach (Sample s in stream)
            {
                string ratio = pipeStream?.MessagesPerSecond is double p && s.MessagesPerSecond is double x ? Invariant($"{x / p:F1}×") : "-";
                yield return Invariant($"  {NameColumn(s.Transport.Name)}{s.MessagesPerSecond / 1e6,10:F3}{s.MegabytesPerSecond,10:F0}{ratio,9}{s.ParentCpuSeconds,9:F2}{s.ChildCpuSeconds,9:F2}{s.WallSeconds,8:F2}{Sleeps(s),12}");
            }
            yield return "";
        }
    }

    /// <summary>The medians, one record each, with the figures of every round they are the median of.</summary>
    public static void WriteJson(List<Sample> samples, List<Sample> medians, string path)
    {
        List<CompareRecord> records = medians.Select(m =>
        {
            List<Sample> rounds = samples.Where(s => s.Transport == m.Transport && s.Size == m.Size && s.Measurement == m.Measurement).ToList();
            return new CompareRecord(
                m.Transport.Name, m.Transport.Family, m.Size, m.Measurement, rounds.Count,
                m.P50Ns, m.P99Ns, m.P999Ns, m.MessagesPerSecond, m.MegabytesPerSecond, m.ParentCpuSeconds + m.ChildCpuSeconds,
                EachRound(rounds, s => s.P50Ns), EachRound(rounds, s => s.P99Ns), EachRound(rounds, s => s.MessagesPerSecond));
        }).ToList();
        File.WriteAllText(path, JsonSerializer.Serialize(records, CompareJsonContext.Default.ListCompareRecord) + "\n");
    }

    public static string NameColumn(string name) => name.PadRight(NameWidth);

    public static string Bytes(int bytes) => bytes >= 1024 && bytes % 1024 == 0 ? Invariant($"{bytes / 1024} KiB") : Invariant($"{bytes} B");

    private static string Sleeps(Sample s) => s.SleepsPerMessage is double z ? Invariant($"{z:F2}") : "-";

    private static string Micros(double? nanoseconds) => nanoseconds is double ns ? (ns / 1000).ToString("F2", CultureInfo.InvariantCulture) : "-";

    private static double[]? EachRound(List<Sample> rounds, Func<Sample, double?> field) =>
        rounds.All(s => field(s) is not null) ? [.. rounds.Select(s => field(s)!.Value)] : null;

    public static double? Median(IEnumerable<double?> values)
    {
        double[] sorted = values.OfType<double>().Order().ToArray();
        if (sorted.Length == 0) return null;
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
