using System.Diagnostics.Metrics;
using System.Text.Json;

namespace Ring.Nats;

/// <summary>
/// What a bridge has done so far, readable from any thread while it runs. The same values are published as observable
/// instruments of the <c>Ring</c> meter (<see cref="RingSegment.MeterName"/>), tagged with the bridge's direction and segment.
/// </summary>
public sealed class BridgeCounters : IDisposable
{
    private readonly Meter _meter;
    private long _forwarded;
    private long _acked;
    private long _redelivered;
    private long _duplicates;
    private long _inFlight;
    private long _reconnects;
    private long _dropped;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Counters for the bridge <paramref name="direction"/> ("out" or "in") of segment <paramref name="segment"/>.</summary>
    public BridgeCounters(string direction, string segment)
    {
        _meter = new Meter(RingSegment.MeterName);
        KeyValuePair<string, object?>[] tags = [new("ring.bridge.direction", direction), new("ring.segment", segment)];
        _meter.CreateObservableCounter("ring.bridge.forwarded", () => new Measurement<long>(Forwarded, tags), "{message}", "Messages the bridge handed on (published to NATS, or committed to the ring).");
        _meter.CreateObservableCounter("ring.bridge.acked", () => new Measurement<long>(Acked, tags), "{message}", "Messages acknowledged (by JetStream for out, to JetStream for in).");
        _meter.CreateObservableCounter("ring.bridge.redelivered", () => new Measurement<long>(Redelivered, tags), "{message}", "Messages handed on again: republished after a failure, or delivered again by JetStream.");
        _meter.CreateObservableCounter("ring.bridge.duplicates", () => new Measurement<long>(Duplicates, tags), "{message}", "Messages JetStream's duplicate window turned away (out), or redeliveries of messages already in the ring skipped (in).");
        _meter.CreateObservableUpDownCounter("ring.bridge.in_flight", () => new Measurement<long>(InFlight, tags), "{message}", "Messages handed on and not yet acknowledged.");
        _meter.CreateObservableCounter("ring.bridge.reconnects", () => new Measurement<long>(Reconnects, tags), "{reconnect}", "Reconnections to the NATS server.");
        _meter.CreateObservableCounter("ring.bridge.dropped", () => new Measurement<long>(Dropped, tags), "{message}", "Core NATS messages the client dropped because the ring could not take them fast enough.");
    }

    public long Forwarded => Interlocked.Read(ref _forwarded);
    public long Acked => Interlocked.Read(ref _acked);
    public long Redelivered => Interlocked.Read(ref _redelivered);
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public long InFlight => Interlocked.Read(ref _inFlight);
    public long Reconnects => Interlocked.Read(ref _reconnects);
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Completes once the bridge is set up: connected, the stream there, and (in) subscribed or its consumer created, so a
    /// core NATS message published from then on reaches it.
    /// </summary>
    public Task Ready => _ready.Task;

    internal void MarkReady() => _ready.TrySetResult();

    internal void AddForwarded(long n = 1) => Interlocked.Add(ref _forwarded, n);
    internal void AddAcked(long n = 1) => Interlocked.Add(ref _acked, n);
    internal void AddRedelivered(long n = 1) => Interlocked.Add(ref _redelivered, n);
    internal void AddDuplicates(long n = 1) => Interlocked.Add(ref _duplicates, n);
    internal void SetInFlight(long n) => Interlocked.Exchange(ref _inFlight, n);
    internal void AddReconnect() => Interlocked.Increment(ref _reconnects);
    internal void AddDropped() => Interlocked.Increment(ref _dropped);

    /// <summary>One line of JSON with every counter.</summary>
    public string ToJson()
    {
        using MemoryStream buffer = new();
        using (Utf8JsonWriter json = new(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("forwarded", Forwarded);
            json.WriteNumber("acked", Acked);
            json.WriteNumber("redelivered", Redelivered);
            json.WriteNumber("duplicates", Duplicates);
            json.WriteNumber("in_flight", InFlight);
            json.WriteNumber("reconnects", Reconnects);
            json.WriteNumber("dropped", Dropped);
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>One line for people.</summary>
    public override string ToString() =>
        $"{Forwarded} forwarded, {Acked} acked, {Redelivered} redelivered, {Duplicates} duplicates, {InFlight} in flight, {Reconnects} reconnects, {Dropped} dropped";

    public void Dispose() => _meter.Dispose();
}
