using System.Buffers;
using System.Globalization;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Ring.Nats;

/// <summary>
/// Ring to NATS. Core NATS: each message is read (copied out, its room freed) and published; at most once. JetStream:
/// each message is peeked, copied into its publish, and released only once JetStream acknowledged it, with a
/// <c>Nats-Msg-Id</c> made of the segment's identity and the message's position, so a message republished after a crash
/// is stored once while it is inside the stream's duplicate window.
/// </summary>
internal sealed class OutBridge(RingSegment segment, BridgeOptions options, BridgeCounters counters)
{
    /// <summary>How long a shutdown waits for the acknowledgements still outstanding.</summary>
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(1.5); // inside the CLI's 2 s grace after a signal

    /// <summary>Between two attempts at a publish that failed (the server away, a timeout).</summary>
    private static readonly TimeSpan RetryBackoff = TimeSpan.FromMilliseconds(100);

    private readonly Queue<Outgoing> _pending = new();
    private NatsJSContext? _js;
    private string _idPrefix = "";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using NatsConnection connection = NatsSetup.Connect(options, counters);
        await connection.ConnectAsync().ConfigureAwait(false);
        if (options.Stream is null)
        {
            await RunCoreAsync(connection, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (segment.Kind == RingKind.Mpmc)
            throw new NotSupportedException("JetStream out needs an SPSC or broadcast ring: an MPMC consumer cannot hold a message until JetStream acknowledges it (RingReader.PeekBatch). Use core NATS (no --jetstream) for at-most-once.");
        _js = new NatsJSContext(connection);
        await NatsSetup.EnsureStreamAsync(_js, options.Stream, options.Subject, cancellationToken).ConfigureAwait(false);
        SegmentStatus status = segment.GetStatus();
        // Unique to this segment's life: a segment unlinked and created again under the same name starts new ids.
        _idPrefix = string.Create(CultureInfo.InvariantCulture, $"{segment.Name}.{status.CreatedAt.UtcTicks:x}.{status.CreatorPid}.");
        await RunJetStreamAsync(cancellationToken).ConfigureAwait(false);
    }

    private RingReader CreateReader(SubscribeFrom from) =>
        segment.Kind == RingKind.Broadcast ? segment.CreateSubscriber(from) : segment.CreateReader();

    private async Task RunCoreAsync(NatsConnection connection, CancellationToken cancellationToken)
    {
        using RingReader reader = CreateReader(SubscribeFrom.Tail);
        counters.MarkReady();
        byte[] buffer = new byte[reader.MaxMessageLength];
        try
        {
            while (true)
            {
                if (!reader.TryRead(buffer, out int length))
                {
                    if (!await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false)) return; // completed and drained
                    continue;
                }
                // The client copies the payload into its write buffer before the call completes, so the buffer is free again.
                await connection.PublishAsync(options.Subject, new ReadOnlyMemory<byte>(buffer, 0, length), cancellationToken: cancellationToken).ConfigureAwait(false);
                counters.AddForwarded();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        try
        {
            await connection.PingAsync(CancellationToken.None).AsTask().WaitAsync(SettleTimeout).ConfigureAwait(false); // what was written has reached the server
        }
        catch (TimeoutException)
        {
            // The server is away: core NATS promised no more than at most once.
        }
    }

    private async Task RunJetStreamAsync(CancellationToken cancellationToken)
    {
        // A restarted bridge on a broadcast ring republishes the history still there; the duplicate window drops what was stored.
        using RingReader reader = CreateReader(SubscribeFrom.Oldest);
        counters.MarkReady();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                int room = options.Window - _pending.Count;
                OutBridge self = this;
                int peeked = room > 0 ? reader.PeekBatch(ref self, static (message, position, ref bridge) => bridge.Publish(message, position), room) : 0;
                counters.SetInFlight(_pending.Count);
                if (peeked > 0 && _pending.Count < options.Window)
                {
                    await SettleCompletedAsync(reader, wait: false).ConfigureAwait(false);
                    continue;
                }
                if (_pending.Count > 0)
                {
                    await SettleCompletedAsync(reader, wait: true).ConfigureAwait(false);
                    continue;
                }
                if (!await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false)) break; // completed and drained
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        // Clean shutdown: what was published is settled (acknowledged and released), within a bound.
        using CancellationTokenSource settle = new(SettleTimeout);
        try
        {
            while (_pending.Count > 0 && !settle.IsCancellationRequested) await SettleCompletedAsync(reader, wait: true, settle.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (settle.IsCancellationRequested)
        {
        }
        counters.SetInFlight(_pending.Count);
        foreach (Outgoing left in _pending) ArrayPool<byte>.Shared.Return(left.Buffer);
    }

    /// <summary>Copies the peeked message and starts its publish; the message stays in the ring until the acknowledgement.</summary>
    private void Publish(ReadOnlySpan<byte> message, long position)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(message.Length, 1));
        message.CopyTo(buffer);
        Outgoing outgoing = new(buffer, message.Length, position, _idPrefix + position.ToString("x", CultureInfo.InvariantCulture));
        outgoing.Ack = Send(outgoing);
        _pending.Enqueue(outgoing);
        counters.AddForwarded();
    }

    private Task<PubAckResponse> Send(Outgoing outgoing) =>
        _js!.PublishAsync(options.Subject, new ReadOnlyMemory<byte>(outgoing.Buffer, 0, outgoing.Length), opts: new NatsJSPubOpts { MsgId = outgoing.Id }).AsTask();

    /// <summary>
    /// Releases the acknowledged messages at the front, in order, with one release for the run. A failed publish at the
    /// front is sent again (same id) and waited for: the messages behind it wait with it, since a release frees
    /// everything before the position it names.
    /// </summary>
    private async Task SettleCompletedAsync(RingReader reader, bool wait, CancellationToken cancellationToken = default)
    {
        long released = -1;
        while (_pending.TryPeek(out Outgoing? head))
        {
            if (!head.Ack.IsCompleted)
            {
                if (!wait || released >= 0) break;
                await Task.WhenAny(head.Ack, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
            if (!head.Ack.IsCompletedSuccessfully || head.Ack.Result.Error is not null)
            {
                if (released >= 0) break; // release what is acknowledged first
                await Task.Delay(RetryBackoff, cancellationToken).ConfigureAwait(false);
                counters.AddRedelivered();
                head.Ack = Send(head);
                continue;
            }
            if (head.Ack.Result.Duplicate) counters.AddDuplicates();
            counters.AddAcked();
            released = head.Position;
            _pending.Dequeue();
            ArrayPool<byte>.Shared.Return(head.Buffer);
        }
        if (released >= 0) reader.Release(released);
        counters.SetInFlight(_pending.Count);
    }

    private sealed class Outgoing(byte[] buffer, int length, long position, string id)
    {
        public byte[] Buffer { get; } = buffer;
        public int Length { get; } = length;
        public long Position { get; } = position;
        public string Id { get; } = id;
        public Task<PubAckResponse> Ack { get; set; } = Task.FromResult(new PubAckResponse());
    }
}
