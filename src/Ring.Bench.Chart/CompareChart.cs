using System.Globalization;
using Ring.Bench.Compare;
using ScottPlot;
using ScottPlot.Plottables;
using ScottPlot.TickGenerators;

namespace Ring.Bench.Chart;

/// <summary>
/// A compare run as one PNG: a row per message size, round-trip latency on the left and one-way throughput on
/// the right. A bar is the median of the rounds, coloured by the transport's family; its whisker spans the rounds
/// (lowest to highest); latency also marks each transport's p99 beside its bar, with the p99's own whisker. An axis
/// whose figures span a decade or more is logarithmic.
/// </summary>
internal static class CompareChart
{
    private const int PanelWidth = 1000;
    private const int PanelHeight = 600;
    private const float WhiskerWidth = 1.5f;
    private const double MarkOffset = 0.3;
    private const double LabelShift = 0.08;
    private const float BottomAxisHeight = 90;

    /// <summary>One colour per family, in the order the legend lists them.</summary>
    private static readonly (string Family, string Label, Color Color)[] Families =
    [
        ("floor", "floor: raw shared memory, no checks", new Color(120, 120, 120)),
        ("ring", "Ring", new Color(31, 119, 180)),
        ("peer", "iceoryx: shared memory, Eclipse's", new Color(44, 160, 44)),
        ("kernel", "kernel transports: pipes, sockets, TCP", new Color(230, 126, 34)),
    ];

    public static void Draw(IReadOnlyList<CompareRecord> records, string path)
    {
        int[] sizes = [.. records.Select(r => r.Size).Distinct()];
        if (sizes.Length == 0) throw new InvalidDataException("there are no records to draw");
        Multiplot multiplot = new();
        Plot emptyFirst = multiplot.GetPlot(0); // a new multiplot starts with one plot; ours are added after it
        foreach (int size in sizes)
        {
            DrawPanel(multiplot.AddPlot(), Latency(records, size), legend: size == sizes[0]);
            DrawPanel(multiplot.AddPlot(), Throughput(records, size), legend: size == sizes[0]);
        }
        multiplot.RemovePlot(emptyFirst);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(sizes.Length, 2);
        multiplot.SavePng(path, 2 * PanelWidth, sizes.Length * PanelHeight);
    }

    private static Panel Latency(IReadOnlyList<CompareRecord> records, int size)
    {
        List<CompareRecord> rtt = [.. records.Where(r => r.Size == size && r.Measurement == CompareRecord.RoundTrip && r.P50Ns is not null)];
        return new Panel(
            $"round trip · {Bytes(size)} · bar: p50, diamond: p99 (medians of {Rounds(rtt)}), whiskers: lowest to highest round",
            "round trip, µs",
            [.. rtt.Select(r => new Column(
                r.Transport, r.Family, r.P50Ns!.Value / 1e3, Scaled(r.P50NsRounds, r.P50Ns.Value, 1e3),
                r.P99Ns / 1e3, r.P99Ns is double p99 ? Scaled(r.P99NsRounds, p99, 1e3) : null))],
            "µs",
            Alignment.UpperLeft);
    }

    private static Panel Throughput(IReadOnlyList<CompareRecord> records, int size)
    {
        List<CompareRecord> stream = [.. records.Where(r => r.Size == size && r.Measurement == CompareRecord.Stream && r.MessagesPerSecond is not null)];
        return new Panel(
            $"one-way stream · {Bytes(size)} · bar: median of {Rounds(stream)}, whiskers: lowest to highest round",
            "million messages/s",
            [.. stream.Select(r => new Column(
                r.Transport, r.Family, r.MessagesPerSecond!.Value / 1e6, Scaled(r.MessagesPerSecondRounds, r.MessagesPerSecond.Value, 1e6), null, null))],
            "M/s",
            Alignment.UpperRight);
    }

    private static void DrawPanel(Plot plot, Panel panel, bool legend)
    {
        List<Column> columns = panel.Columns;
        if (columns.Count == 0) throw new InvalidDataException($"nothing to draw for '{panel.Title}'");
        double[] figures = [.. columns.SelectMany(c => c.Rounds.Concat(c.MarkRounds ?? []).Append(c.Median))];
        Scale scale = Scale.For(figures.Min(), figures.Max());

        plot.Add.Bars(columns.Select((c, i) => new Bar
        {
            Position = i,
            Value = scale.To(c.Median),
            ValueBase = scale.Base,
            FillColor = ColorOf(c.Family),
            LineWidth = 0,
        }).ToArray());
        Whiskers(plot, columns.Select((c, i) => (i + 0.0, c.Median, c.Rounds)), scale);
        List<(double X, double Median, double[] Rounds)> marks = [.. columns
            .Select((c, i) => (X: i + MarkOffset, Median: c.Mark, Rounds: c.MarkRounds))
            .Where(m => m.Median is not null && m.Rounds is not null)
            .Select(m => (m.X, m.Median!.Value, m.Rounds!))];
        if (marks.Count > 0)
        {
            double[] xs = [.. marks.Select(m => m.X)];
            double[] ys = [.. marks.Select(m => scale.To(m.Median))];
            plot.Add.Markers(xs, ys, MarkerShape.FilledDiamond, 9, Colors.Black);
            Whiskers(plot, marks, scale);
        }
        // The bar's figure above its whisker, a little left so that the mark's whisker beside it does not cross it.
        for (int i = 0; i < columns.Count; i++)
        {
            Column c = columns[i];
            Text label = plot.Add.Text(Figure(c.Median, panel.FigureUnit), i - (marks.Count > 0 ? LabelShift : 0), scale.To(c.Rounds.Max()));
            label.LabelAlignment = Alignment.LowerCenter;
            label.LabelFontSize = 12;
            label.OffsetY = -4;
        }

        plot.Axes.Bottom.TickGenerator = new NumericManual([.. columns.Select((_, i) => (double)i)], [.. columns.Select(c => c.Transport)]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Bottom.TickLabelStyle.Rotation = -25;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Bottom.MinimumSize = BottomAxisHeight; // room for the slanted transport names
        scale.SetTicks(plot.Axes.Left);
        plot.Axes.SetLimitsX(-0.6, columns.Count - 0.4);
        plot.Axes.SetLimitsY(scale.Base, scale.Top);
        plot.Title(panel.Title, size: 14);
        plot.YLabel(scale.IsLog ? $"{panel.Axis} (log scale)" : panel.Axis, size: 13);
        if (legend) plot.ShowLegend(LegendItems(columns.Select(c => c.Family).ToHashSet(), marks.Count > 0), panel.LegendAt);
    }

    /// <summary>A vertical whisker per column from its lowest to its highest round, through the median.</summary>
    private static void Whiskers(Plot plot, IEnumerable<(double X, double Median, double[] Rounds)> columns, Scale scale)
    {
        List<(double X, double Median, double[] Rounds)> list = [.. columns];
        double[] zeros = new double[list.Count];
        ErrorBar whiskers = new(
            [.. list.Select(c => c.X)],
            [.. list.Select(c => scale.To(c.Median))],
            zeros,
            zeros,
            [.. list.Select(c => scale.To(c.Rounds.Max()) - scale.To(c.Median))],
            [.. list.Select(c => scale.To(c.Median) - scale.To(c.Rounds.Min()))])
        {
            LineWidth = WhiskerWidth,
            Color = Colors.Black,
            CapSize = 6,
        };
        plot.Add.Plottable(whiskers);
    }

    private static IEnumerable<LegendItem> LegendItems(IReadOnlySet<string> families, bool withMarks)
    {
        foreach ((string family, string label, Color color) in Families)
        {
            if (families.Contains(family)) yield return new LegendItem { LabelText = label, FillColor = color };
        }
        if (withMarks) yield return new LegendItem { LabelText = "p99", MarkerShape = MarkerShape.FilledDiamond, MarkerSize = 9, MarkerColor = Colors.Black };
        yield return new LegendItem { LabelText = "lowest to highest round", LineColor = Colors.Black, LineWidth = WhiskerWidth };
    }

    private static Color ColorOf(string family) =>
        Families.FirstOrDefault(f => f.Family == family) is { Label: not null } known ? known.Color : throw new InvalidDataException($"unknown transport family '{family}'");

    /// <summary>Each round's figure in the chart's unit; a record without them (one round) has only its median.</summary>
    private static double[] Scaled(double[]? rounds, double median, double divisor) => [.. (rounds ?? [median]).Select(v => v / divisor)];

    private static string Rounds(List<CompareRecord> records)
    {
        int rounds = records.Count == 0 ? 0 : records.Max(r => r.Rounds);
        return rounds == 1 ? "1 round" : $"{rounds} rounds";
    }

    private static string Figure(double value, string unit) =>
        value.ToString(value < 10 ? "0.##" : "0", CultureInfo.InvariantCulture) + " " + unit;

    private static string Bytes(int bytes) =>
        bytes >= 1024 && bytes % 1024 == 0 ? $"{bytes / 1024} KiB" : $"{bytes} B";

    /// <summary>One transport's bar: the median, every round's figure, and a second figure marked beside it (latency's p99).</summary>
    private sealed record Column(string Transport, string Family, double Median, double[] Rounds, double? Mark, double[]? MarkRounds);

    private sealed record Panel(string Title, string Axis, List<Column> Columns, string FigureUnit, Alignment LegendAt);

    /// <summary>
    /// How figures map to the vertical axis: log10 when they span a decade or more (bars then stand on the decade
    /// below the smallest), as they are otherwise (bars stand on 0).
    /// </summary>
    private sealed record Scale(bool IsLog, double Base, double Top)
    {
        /// <summary>Headroom above the highest figure for its label: a fraction of a decade, or of the range.</summary>
        private const double LogHeadroom = 0.3;
        private const double LinearHeadroom = 1.15;

        public static Scale For(double min, double max) =>
            max >= 10 * min
                ? new Scale(true, Math.Floor(Math.Log10(min)), Math.Log10(max) + LogHeadroom)
                : new Scale(false, 0, max * LinearHeadroom);

        public double To(double value) => IsLog ? Math.Log10(value) : value;

        /// <summary>A log axis gets a labelled tick per decade and unlabelled ones at 2..9 times it; a linear one keeps ScottPlot's.</summary>
        public void SetTicks(IAxis axis)
        {
            if (!IsLog) return;
            NumericManual ticks = new();
            for (int decade = (int)Base; decade <= Math.Ceiling(Top); decade++)
            {
                if (decade <= Top) ticks.AddMajor(decade, Math.Pow(10, decade).ToString("0.###", CultureInfo.InvariantCulture));
                for (int k = 2; k <= 9; k++)
                {
                    double minor = decade + Math.Log10(k);
                    if (minor <= Top) ticks.AddMinor(minor);
                }
            }
            axis.TickGenerator = ticks;
        }
    }
}
