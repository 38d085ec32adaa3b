using System.Globalization;
using Ring.Bench.Compare;

namespace Ring.Bench.Demo;

/// <summary>What the demo measured through the ring: stream messages/s as the child counted them, round-trip p50.</summary>
internal sealed record RingFigures(double MessagesPerSecond, double RoundTripP50Ns);

/// <summary>
/// The yardsticks the demo's figures are read against, measured in the same run rather than quoted: the floor
/// (the fastest two processes can exchange messages through shared memory) and a pipe, through compare's own
/// harness, at the demo's message size and pinning, in one short round (about 3 s). <c>compare</c> runs them
/// all, longer, over several rounds.
/// </summary>
internal static class DemoBaseline
{
    private const int MaxMessageSize = 1 << 16;
    /// <summary>compare's transport names, and what each is in a word.</summary>
    private static readonly (string Name, string Label)[] Transports =
    [
        ("floor", "floor (shared-memory slots, no checks)"),
        ("pipe", "pipe (two anonymous pipes)"),
    ];

    public static IEnumerable<string> Measure(DemoSettings settings, RingFigures ring)
    {
        int size = settings.MessageSize;
        if (size is < CompareWire.MinMessageSize or > MaxMessageSize)
        {
            return [DemoReport.Skipped(string.Create(CultureInfo.InvariantCulture,
                $"not measured: compare's harness sends {CompareWire.MinMessageSize} B to {MaxMessageSize / 1024} KiB messages, not {size} B; see 'compare'"))];
        }
        CompareSettings baseline = new(
            [size], [.. Transports.Select(t => Transport.Parse(t.Name))], Rounds: 1, WarmupRoundTrips: 1_000, MeasuredRoundTrips: 10_000,
            StreamDuration: TimeSpan.FromSeconds(0.5), Pin: settings.Pin) { WarmupTime = TimeSpan.FromSeconds(0.3) };
        List<Sample> samples = CompareParent.Measure(baseline, "demo", (_, _) => { });
        List<string> lines =
        [
            DemoReport.BaselineHeading(string.Create(CultureInfo.InvariantCulture,
                $"measured now through compare's harness, {DemoReport.Bytes(size)}, one round ({baseline.MeasuredRoundTrips:N0} round trips, a {baseline.StreamDuration.TotalSeconds:0.#} s stream; 'compare' runs every transport longer):")),
        ];
        int labelWidth = Transports.Max(t => t.Label.Length) + 1;
        foreach ((string name, string label) in Transports)
        {
            Sample roundTrip = samples.Single(s => s.Transport.Name == name && s.Measurement == Sample.RoundTrip);
            Sample stream = samples.Single(s => s.Transport.Name == name && s.Measurement == Sample.Stream);
            lines.Add(DemoReport.Baseline((label + ":").PadRight(labelWidth), stream.MessagesPerSecond!.Value, roundTrip.P50Ns!.Value, ring));
        }
        return lines;
    }
}
