using System.Diagnostics.Metrics;

namespace Ring.Tests;

/// <summary>
/// The <c>Ring</c> meter as a <see cref="MeterListener"/> (what dotnet-counters and OpenTelemetry use) sees it. Other
/// tests open segments in this process at the same time, so every check picks its own segment by the
/// <c>ring.segment</c> tag.
/// </summary>
public sealed class RingMetricsTests : IDisposable
{
    private const int PayloadLength = 16;
    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static RingOptions Options(RingKind kind) => kind == RingKind.Spsc
        ? new RingOptions { Capacity = 256, MaxMessageLength = 32 } // 16-byte payloads make 24-byte records: 10 fit
        : new RingOptions { Kind = RingKind.Mpmc, SlotCount = 8, MaxMessageLength = 32 };

    [Theory]
    [InlineData(RingKind.Spsc, 10)]
    [InlineData(RingKind.Mpmc, 8)]
    public void RecordObservableInstruments_MessagesWrittenAndRead_ReportsEachInstrumentExactlyWithItsTags(RingKind kind, int fits)
    {
        string name = _dir.NewName("metrics");
        using RingSegment segment = RingSegment.Create(name, Options(kind));
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        byte[] buffer = new byte[32];
        Assert.False(reader.TryRead(buffer, out _)); // one empty event
        int written = 0;
        while (writer.TryWrite(new byte[PayloadLength])) written++; // ends with one full event
        Assert.Equal(fits, written);
        const int Read = 3;
        for (int i = 0; i < Read; i++) Assert.True(reader.TryRead(buffer, out _));

        using MetricsCapture capture = new();
        Dictionary<string, Reported> got = capture.Collect(name);

        string kindTag = kind == RingKind.Spsc ? "spsc" : "mpmc";
        Reported Expected(long value, string unit, string? role = null) => new(value, unit, name, kindTag, role);
        Assert.Equal(Expected(fits, "{message}"), got["ring.messages.written"]);
        Assert.Equal(Expected(fits * PayloadLength, "By"), got["ring.bytes.written"]);
        Assert.Equal(Expected(Read, "{message}"), got["ring.messages.read"]);
        Assert.Equal(Expected(Read * PayloadLength, "By"), got["ring.bytes.read"]);
        Assert.Equal(Expected(1, "{event}"), got["ring.full_events"]);
        Assert.Equal(Expected(1, "{event}"), got["ring.empty_events"]);
        Assert.Equal(Expected(fits - Read, "{message}"), got["ring.messages.in_ring"]);
        Assert.Equal(Expected(0, "{sleep}"), got["ring.sleeps"]);
        Assert.Equal(Expected(0, "{wake}"), got["ring.wakes"]);
        Assert.Equal(Expected(0, "{position}"), got["ring.recoveries"]);
        Assert.Equal(Expected(0, "{message}"), got["ring.lost_in_delivery"]);
        Assert.Equal(Expected(1, "{participant}", "producer"), got["ring.participants.alive/producer"]);
        Assert.Equal(Expected(1, "{participant}", "consumer"), got["ring.participants.alive/consumer"]);
        Assert.Equal(13, got.Count);
    }

    [Fact]
    public async Task RecordObservableInstruments_ReaderWaitedAndWasWoken_ReportsTheSleepsAndWakesTheStatusCounts()
    {
        string name = _dir.NewName("metrics");
        using RingSegment segment = RingSegment.Create(name, Options(RingKind.Spsc));
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader(WaitStrategy.Block);
        using CancellationTokenSource limit = new(TimeSpan.FromSeconds(30));
        Task<int> reading = Task.Run(() => reader.Read(new byte[32], limit.Token));
        await Polling.UntilAsync(() => segment.GetStatus().ReadersWaiting > 0, "the reader to register its wait", TimeSpan.FromSeconds(30), child: null);
        Assert.True(writer.TryWrite(new byte[PayloadLength])); // sees the registration: one wake
        Assert.Equal(PayloadLength, await reading);

        using MetricsCapture capture = new();
        Dictionary<string, Reported> got = capture.Collect(name);

        SegmentStatus status = segment.GetStatus();
        Assert.Equal(1, status.Wakes);
        Assert.Equal((status.Sleeps, status.Wakes), (got["ring.sleeps"].Value, got["ring.wakes"].Value));
    }

    [Fact]
    public void RecordObservableInstruments_AbandonedReadRecovered_ReportsTheRecoveryAndTheMessageLost()
    {
        string name = _dir.NewName("metrics");
        using RingSegment segment = RingSegment.Create(name, Options(RingKind.Mpmc));
        using RingWriter writer = segment.CreateWriter();
        Assert.True(writer.TryWrite("0"u8));
        SegmentFile.WriteInt64(name, SegmentLayout.HeadOffset, 1); // position 0: taken by a consumer that vanished
        Assert.Equal(1, segment.RecoverAbandonedReads());

        using MetricsCapture capture = new();
        Dictionary<string, Reported> got = capture.Collect(name);

        Assert.Equal((1L, 1L), (got["ring.recoveries"].Value, got["ring.lost_in_delivery"].Value));
    }

    [Fact]
    public void RecordObservableInstruments_SegmentDisposed_StopsReportingIt()
    {
        string name = _dir.NewName("metrics");
        RingSegment segment = RingSegment.Create(name, Options(RingKind.Spsc));
        using MetricsCapture capture = new();
        Assert.Equal(13, capture.Collect(name).Count);

        segment.Dispose();

        Assert.Empty(capture.Collect(name));
    }

    [Fact]
    public void RecordObservableInstruments_TwoSegments_ReportsEachWithItsOwnValues()
    {
        string spscName = _dir.NewName("metrics");
        string mpmcName = _dir.NewName("metrics");
        using RingSegment spsc = RingSegment.Create(spscName, Options(RingKind.Spsc));
        using RingSegment mpmc = RingSegment.Create(mpmcName, Options(RingKind.Mpmc));
        using RingWriter spscWriter = spsc.CreateWriter();
        using RingWriter mpmcWriter = mpmc.CreateWriter();
        Assert.True(spscWriter.TryWrite(new byte[PayloadLength]));
        for (int i = 0; i < 3; i++) Assert.True(mpmcWriter.TryWrite(new byte[PayloadLength]));

        using MetricsCapture capture = new();
        Reported spscWritten = capture.Collect(spscName)["ring.messages.written"];
        Reported mpmcWritten = capture.Collect(mpmcName)["ring.messages.written"];

        Assert.Equal(new Reported(1, "{message}", spscName, "spsc", null), spscWritten);
        Assert.Equal(new Reported(3, "{message}", mpmcName, "mpmc", null), mpmcWritten);
    }

    [Fact]
    public void RecordObservableInstruments_SegmentOpenedTwiceInOneProcess_ReportsItOnce()
    {
        string name = _dir.NewName("metrics");
        using RingSegment created = RingSegment.Create(name, Options(RingKind.Spsc));
        using RingSegment opened = RingSegment.Open(name);
        using RingWriter writer = opened.CreateWriter();
        Assert.True(writer.TryWrite(new byte[PayloadLength]));

        using MetricsCapture capture = new();
        List<(string Instrument, Reported Value)> all = capture.CollectAll(name);

        Assert.Single(all, m => m.Instrument == "ring.messages.written");
        Assert.Equal(1, all.Single(m => m.Instrument == "ring.messages.written").Value.Value);
    }

    /// <summary>One measurement: its value, the instrument's unit and the tags.</summary>
    private sealed record Reported(long Value, string? Unit, string? Segment, string? Kind, string? Role);

    /// <summary>A listener on the Ring meter; each collection records every observable instrument once.</summary>
    private sealed class MetricsCapture : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<(string Instrument, Reported Value)> _measurements = [];

        public MetricsCapture()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == RingSegment.MeterName) listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
                _measurements.Add((instrument.Name, new Reported(value, instrument.Unit, Tag(tags, "ring.segment"), Tag(tags, "ring.kind"), Tag(tags, "ring.role")))));
            _listener.Start();
        }

        /// <summary>Every measurement of the segment in one collection, keyed by instrument (and role, for participants).</summary>
        public Dictionary<string, Reported> Collect(string segment) =>
            CollectAll(segment).ToDictionary(m => m.Value.Role is null ? m.Instrument : $"{m.Instrument}/{m.Value.Role}", m => m.Value);

        public List<(string Instrument, Reported Value)> CollectAll(string segment)
        {
            _measurements.Clear();
            _listener.RecordObservableInstruments();
            return _measurements.Where(m => m.Value.Segment == segment).ToList();
        }

        public void Dispose() => _listener.Dispose();

        private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == key) return (string?)tag.Value;
            }
            return null;
        }
    }
}
