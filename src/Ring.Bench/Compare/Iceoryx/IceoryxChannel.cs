using Ring.Bench.Common;
using static Ring.Bench.Compare.Iceoryx.IceoryxInterop;

namespace Ring.Bench.Compare.Iceoryx;

/// <summary>
/// One side of an iceoryx link: a publisher for what it sends and a subscriber for what it receives, on the
/// services ("compare", session, "to-child") and ("compare", session, "to-parent"). Lossless: the subscriber
/// asks a full queue to block the producer and the publisher waits for a slow subscriber instead of
/// dropping. Receiving busy-polls take with a pause between tries, as the floor does.
/// </summary>
internal sealed unsafe class IceoryxChannel : IChannel
{
    public const int QueueCapacity = 256;
    public const string ToChild = "to-child";
    public const string ToParent = "to-parent";
    private const string Service = "compare";

    private static readonly Lock RuntimeGate = new();
    private static string? _runtimeName; // guarded by RuntimeGate

    private readonly int _messageSize;
    private nint _publisher;
    private nint _subscriber;

    /// <param name="session">The session's unique name, the services' instance.</param>
    /// <param name="outbound">The event this side publishes: <see cref="ToChild"/> or <see cref="ToParent"/>.</param>
    /// <param name="inbound">The event this side subscribes to.</param>
    public IceoryxChannel(string session, string outbound, string inbound, int messageSize)
    {
        _messageSize = messageSize;
        PublisherOptions publisherOptions;
        iox_pub_options_init(&publisherOptions);
        publisherOptions.HistoryCapacity = 0;
        publisherOptions.SubscriberTooSlowPolicy = ConsumerTooSlowPolicy.WaitForConsumer;
        SubscriberOptions subscriberOptions;
        iox_sub_options_init(&subscriberOptions);
        subscriberOptions.QueueCapacity = QueueCapacity;
        subscriberOptions.HistoryRequest = 0;
        subscriberOptions.QueueFullPolicy = QueueFullPolicy.BlockProducer;
        ulong publisherStorage, subscriberStorage;
        _publisher = iox_pub_init(&publisherStorage, Service, session, outbound, &publisherOptions);
        _subscriber = iox_sub_init(&subscriberStorage, Service, session, inbound, &subscriberOptions);
        if (_publisher == 0 || _subscriber == 0)
        {
            Dispose();
            throw new BenchFailure($"iceoryx: could not create the publisher and subscriber of session {session}");
        }
    }

    /// <summary>
    /// Registers this process with RouDi as <paramref name="name"/> the first time; later calls must pass the same
    /// name (iceoryx keeps one runtime per process, until the process exits).
    /// </summary>
    public static void JoinRuntime(string name)
    {
        lock (RuntimeGate)
        {
            if (_runtimeName == name) return;
            if (_runtimeName is not null) throw new BenchFailure($"iceoryx: this process already joined RouDi as {_runtimeName}, not {name}");
            iox_set_loglevel(LogLevel.Warn); // the default logs every registration to the console, between the measurements
            iox_runtime_init(name);
            _runtimeName = name;
        }
    }

    /// <summary>Waits until the other side subscribed to what this side publishes: anything sent earlier would be lost.</summary>
    public void WaitForPeer(TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (!iox_pub_has_subscribers(_publisher))
        {
            if (DateTime.UtcNow > deadline) throw new BenchFailure($"iceoryx: nobody subscribed within {timeout.TotalSeconds:0} s");
            Thread.Sleep(1);
        }
    }

    public void Send(ReadOnlySpan<byte> message)
    {
        void* payload;
        AllocationResult result = iox_pub_loan_chunk(_publisher, &payload, (uint)message.Length);
        if (result != AllocationResult.Success) throw new BenchFailure($"iceoryx: loaning a {message.Length}-byte chunk failed: {result}");
        message.CopyTo(new Span<byte>(payload, message.Length));
        iox_pub_publish_chunk(_publisher, payload);
    }

    public int Receive(Span<byte> destination)
    {
        void* payload;
        ChunkReceiveResult result;
        while ((result = iox_sub_take_chunk(_subscriber, &payload)) == ChunkReceiveResult.NoChunkAvailable) Thread.SpinWait(1);
        if (result != ChunkReceiveResult.Success) throw new BenchFailure($"iceoryx: taking a chunk failed: {result}");
        // Every chunk is loaned at the message size and the C binding has no call that reads a chunk's size.
        new ReadOnlySpan<byte>(payload, _messageSize).CopyTo(destination);
        iox_sub_release_chunk(_subscriber, payload);
        return _messageSize;
    }

    public void Dispose()
    {
        if (_publisher != 0) iox_pub_deinit(_publisher);
        if (_subscriber != 0) iox_sub_deinit(_subscriber);
        _publisher = 0;
        _subscriber = 0;
    }
}
