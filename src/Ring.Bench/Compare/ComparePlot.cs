using System.Globalization;
using ScottPlot;

namespace Ring.Bench.Compare;

/// <summary>
/// The medians as one PNG: per size, round-trip p50 on a logarithmic axis (the transports span three
/// decades) and stream throughput, one bar per transport.
/// </summary>
internal static class ComparePlot
{
    private const int Width = 1200;
    private const int RowHeight = 380;

    public static void Write(List<Sample> medians, CompareSettings settings, string path)
    {
        Multiplot multiplot = new();
        Plot emptyFirst = multiplot.GetPlot(0); // a new multiplot starts with one plot; ours are added after it
        foreach (int size in settings.Sizes)
        {
            List<Sample> rtt = medians.Where(s => s.Size == size && s.Measurement == Sample.RoundTrip && s.P50Ns is not null).ToList();
            Plot latency = multiplot.AddPlot();
            // Bars start at 100 ns (log10 = 2) and stand on log10 of nanoseconds, so every bar is positive.
            AddBars(latency, rtt.Select(s => (s.Transport.Name, Math.Log10(s.P50Ns!.Value), Label(s.P50Ns.Value / 1000, "µs"))).ToList(), baseline: 2);
            double top = Math.Ceiling(rtt.Max(s => Math.Log10(s.P50Ns!.Value)) + 0.3);
            double[] decades = Enumerable.Range(2, (int)top - 1).Select(d => (double)d).ToArray();
            latency.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(decades, decades.Select(d => Label(Math.Pow(10, d) / 1000, "µs")).ToArray());
            latency.Axes.SetLimitsY(2, top);
            latency.Title($"round trip p50 · {CompareReport.Bytes(size)} · median of {settings.Rounds} rounds (log scale)");

            List<Sample> stream = medians.Where(s => s.Size == size && s.Measurement == Sample.Stream && s.MessagesPerSecond is not null).ToList();
            Plot throughput = multiplot.AddPlot();
            AddBars(throughput, stream.Select(s => (s.Transport.Name, s.MessagesPerSecond!.Value / 1e6, Label(s.MessagesPerSecond.Value / 1e6, "M/s"))).ToList(), baseline: 0);
            throughput.Axes.SetLimitsY(0, stream.Max(s => s.MessagesPerSecond!.Value) / 1e6 * 1.15);
            throughput.Title($"one-way stream, million messages/s · {CompareReport.Bytes(size)} · median of {settings.Rounds} rounds");
        }
        multiplot.RemovePlot(emptyFirst);
        multiplot.SavePng(path, Width, RowHeight * multiplot.Count());
    }

    private static void AddBars(Plot plot, List<(string Name, double Value, string Label)> bars, double baseline)
    {
        plot.Add.Bars(bars.Select((b, i) => new Bar { Position = i, Value = b.Value, ValueBase = baseline, Label = b.Label }).ToArray());
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            bars.Select((_, i) => (double)i).ToArray(), bars.Select(b => b.Name).ToArray());
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Margins(bottom: 0);
    }

    private static string Label(double value, string unit) =>
        value.ToString(value < 10 ? "0.##" : "0", CultureInfo.InvariantCulture) + " " + unit;
}
