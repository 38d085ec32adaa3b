using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Ring.Nats;

/// <summary>
/// NATS to ring. Core NATS: each message of the subscription is written into the ring, waiting for room; while it
/// waits, the client's pending buffer fills and then drops (counted): at most once. JetStream: a durable pull consumer;
/// a pull is made only when the ring has room, each message is acknowledged only after it was committed to the ring,
/// and a message kept waiting for room is told to JetStream as in progress, so it is not redelivered meanwhile.
/// </summary>
internal sealed class InBridge(RingSegment segment, BridgeOptions options, BridgeCounters counters)
{
    /// <summary>How long one pull waits for messages before it is made again.</summary>
    private static readonly TimeSpan PullExpiry = TimeSpan.FromSeconds(1);

    /// <summary>How long a message may be in the bridge without news before JetStream redelivers it.</summary>
    private static readonly TimeSpan AckWait = TimeSpan.FromSeconds(30);

    /// <summary>How often a message waiting for room is reported in progress: well inside <see cref="AckWait"/>.</summary>
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(5);

    /// <summary>How long a stop waits for the acknowledgements of what was committed: inside the CLI's 2 s grace after a signal.</summary>
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(1.5);

    /// <summary>How many committed stream sequences are remembered to recognise a redelivery of one (after a lost acknowledgement).</summary>
    private const int RememberedCommits = 1 << 16;

    private readonly HashSet<ulong> _committed = [];
    private readonly Queue<ulong> _committedOrder = new();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using NatsConnection connection = NatsSetup.Connect(options, counters);
        await connection.ConnectAsync().ConfigureAwait(false);
        using RingWriter writer = segment.CreateWriter();
        try
        {
            if (options.Stream is null) await RunCoreAsync(connection, writer, cancellationToken).ConfigureAwait(false);
            else await RunJetStreamAsync(connection, writer, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunCoreAsync(NatsConnection connection, RingWriter writer, CancellationToken cancellationToken)
    {
        await using INatsSub<byte[]> subscription = await connection.SubscribeCoreAsync<byte[]>(options.Subject, cancellationToken: cancellationToken).ConfigureAwait(false);
        await connection.PingAsync(cancellationToken).ConfigureAwait(false); // the server has handled the subscription: what is published now reaches it
        counters.MarkReady();
        await foreach (NatsMsg<byte[]> message in subscription.Msgs.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            await writer.WriteAsync(message.Data ?? [], cancellationToken).ConfigureAwait(false);
            counters.AddForwarded();
        }
    }

    private async Task RunJetStreamAsync(NatsConnection connection, RingWriter writer, CancellationToken cancellationToken)
    {
        NatsJSContext js = new(connection);
        await NatsSetup.EnsureStreamAsync(js, options.Stream!, options.Subject, cancellationToken).ConfigureAwait(false);
        INatsJSConsumer consumer = await js.CreateOrUpdateConsumerAsync(options.Stream!, new ConsumerConfig(options.Durable ?? throw new ArgumentException("JetStream in needs a durable consumer name.", nameof(options)))
        {
            AckPolicy = ConsumerConfigAckPolicy.Explicit,
            FilterSubject = options.Subject,
            AckWait = AckWait,
            MaxAckPending = Math.Max(options.Window * 4, 1024),
        }, cancellationToken).ConfigureAwait(false);
        counters.MarkReady();
        List<INatsJSMsg<byte[]>> batch = new(options.Window);
        // Acknowledgements outlive a stop by a bound: what was committed to the ring is acknowledged before the bridge exits.
        using CancellationTokenSource settle = new();
        using CancellationTokenRegistration stopping = cancellationToken.Register(() => settle.CancelAfter(SettleTimeout));
        while (!cancellationToken.IsCancellationRequested)
        {
            // Backpressure: no pull while the ring is full, so the stream keeps what the ring cannot take yet.
            if (!await writer.WaitToWriteAsync(0, cancellationToken).ConfigureAwait(false)) return; // the ring was completed
            batch.Clear();
            await foreach (INatsJSMsg<byte[]> message in consumer.FetchAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = options.Window, Expires = PullExpiry }, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                batch.Add(message);
            }
            long reconnects = counters.Reconnects;
            int committed = 0;
            try
            {
                for (; committed < batch.Count; committed++)
                {
                    INatsJSMsg<byte[]> message = batch[committed];
                    ulong sequence = message.Metadata?.Sequence.Stream ?? 0;
                    if (message.Metadata is { NumDelivered: > 1 }) counters.AddRedelivered();
                    if (sequence != 0 && _committed.Contains(sequence))
                    {
                        counters.AddDuplicates(); // committed before, its acknowledgement lost: acknowledge it again, write nothing
                        continue;
                    }
                    await WriteAsync(writer, message, batch, committed, cancellationToken).ConfigureAwait(false);
                    Remember(sequence);
                    counters.AddForwarded();
                }
            }
            finally
            {
                // Only what is in the ring; the rest of the batch is redelivered to whoever pulls next.
                batch.RemoveRange(committed, batch.Count - committed);
                await AcknowledgeAsync(batch, confirmEach: reconnects != counters.Reconnects, settle.Token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Commits the message to the ring, waiting for room; meanwhile tells JetStream every message of the batch still to come is in progress.</summary>
    private static async Task WriteAsync(RingWriter writer, INatsJSMsg<byte[]> message, List<INatsJSMsg<byte[]>> batch, int index, CancellationToken cancellationToken)
    {
        byte[] data = message.Data ?? [];
        while (!writer.TryWrite(data))
        {
            if (await writer.WaitToWriteAsync(data.Length, ProgressEvery, cancellationToken).ConfigureAwait(false)) continue;
            if (writer.IsCompleted) throw new RingCompletedException(writer.CompletionReason, "the ring was completed while the bridge had messages to write into it");
            for (int i = index; i < batch.Count; i++) await batch[i].AckProgressAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Acknowledges the batch, in order: every one sent, the last confirmed by the server. Messages on one connection reach
    /// the server in order, so the last one's confirmation covers the others, unless the connection was replaced in
    /// between (a reconnect during the batch), when each is confirmed on its own. A confirmation that fails is tried again
    /// until it succeeds: a committed message whose acknowledgement is lost would be delivered into the ring twice.
    /// </summary>
    private async Task AcknowledgeAsync(List<INatsJSMsg<byte[]>> batch, bool confirmEach, CancellationToken cancellationToken)
    {
        if (batch.Count == 0) return;
        for (int i = 0; i < batch.Count; i++)
        {
            bool confirm = confirmEach || i == batch.Count - 1;
            while (true)
            {
                long reconnects = counters.Reconnects;
                try
                {
                    await batch[i].AckAsync(new AckOpts { DoubleAck = confirm }, cancellationToken).ConfigureAwait(false);
                    if (!confirm || reconnects == counters.Reconnects) break;
                }
                catch (Exception e) when (e is NatsException or TimeoutException)
                {
                }
                if (!confirmEach)
                {
                    await AcknowledgeAsync(batch, confirmEach: true, cancellationToken).ConfigureAwait(false); // the connection changed under the batch
                    return;
                }
            }
        }
        counters.AddAcked(batch.Count);
    }

    private void Remember(ulong sequence)
    {
        if (sequence == 0 || !_committed.Add(sequence)) return;
        _committedOrder.Enqueue(sequence);
        if (_committedOrder.Count > RememberedCommits) _committed.Remove(_committedOrder.Dequeue());
    }
}
