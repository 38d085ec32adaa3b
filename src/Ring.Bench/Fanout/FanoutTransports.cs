using System.Buffers.Binary;
using System.IO.Pipes;
using Ring.Bench.Common;
using Ring.Bench.Compare;

namespace Ring.Bench.Fanout;

internal enum FanoutKind
{
    Broadcast,
    SpscRings,
    Pipes,
}

/// <summary>One way to deliver every message to N subscriber processes: the broadcast ring, or the fan-out users build without it.</summary>
internal sealed record FanoutTransport(FanoutKind Kind, string Name, string Definition)
{
    public const int Capacity = 1 << 20;

    public static readonly IReadOnlyList<FanoutTransport> All =
    [
        new(FanoutKind.Broadcast, "broadcast", "one Ring broadcast ring (1 MiB, overflow Block): one write, every subscriber reads it in place (ReadBatch), SpinThenBlock on all sides"),
        new(FanoutKind.SpscRings, "spsc-rings", "one Ring SPSC ring (1 MiB) per subscriber: the publisher writes each message into every ring in turn, each subscriber ReadBatch-es its own, SpinThenBlock on all sides"),
        new(FanoutKind.Pipes, "pipes", "one anonymous pipe per subscriber: the publisher writes each message (4-byte length prefix) into every pipe, one write call each; subscribers read buffered"),
    ];

    public static FanoutTransport Parse(string name) => All.FirstOrDefault(t => t.Name == name) ?? throw new BenchFailure($"unknown fan-out transport '{name}'");
}

/// <summary>The publisher's end: every message it is given reaches every subscriber, blocking while one is a full ring or pipe behind.</summary>
internal interface IFanoutPublisher : IDisposable
{
    /// <summary>What subscriber <paramref name="index"/> needs to attach: a segment name or a pipe handle.</summary>
    string EndpointFor(int index);

    /// <summary>The subscriber processes run: the parent drops its copies of what they inherited.</summary>
    void ChildrenStarted();

    void Publish(ReadOnlySpan<byte> message);
}

/// <summary>A subscriber's end: hands out the messages in order, each exactly once.</summary>
internal interface IFanoutSubscriber : IDisposable
{
    /// <summary>Hands up to a batch of messages to <paramref name="counter"/>; blocks until there is at least one.</summary>
    void ReceiveSome(ref StreamCounter counter);
}

/// <summary>A subscriber's running check of the stream: sequence numbers one after another, every message the measured size.</summary>
internal struct StreamCounter(int messageSize)
{
    /// <summary>The sequence of the marker between the warm-up stream and the measured one.</summary>
    public const long WarmupEnd = -2;

    /// <summary>The sequence of the marker after the measured stream.</summary>
    public const long End = -1;

    public long Received;
    public long OutOfOrder;
    public long WrongLength;
    public long Expected;
    public long FirstTimestamp;
    public bool Ended;

    public void Take(ReadOnlySpan<byte> message)
    {
        if (message.Length < sizeof(long))
        {
            WrongLength++;
            return;
        }
        long sequence = BinaryPrimitives.ReadInt64LittleEndian(message);
        if (sequence == WarmupEnd)
        {
            // What came so far warmed the code up: the measured stream starts again at 0, counted afresh.
            this = new StreamCounter(messageSize);
            return;
        }
        if (sequence < 0)
        {
            Ended = true;
            return;
        }
        if (Received++ == 0) FirstTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
        if (sequence != Expected) OutOfOrder++;
        if (message.Length != messageSize) WrongLength++;
        Expected = sequence + 1;
    }
}

internal static class FanoutEndpoints
{
    /// <summary>Creates the publisher's side of <paramref name="transport"/> for <paramref name="subscribers"/> subscribers under <paramref name="name"/>.</summary>
    public static IFanoutPublisher CreatePublisher(FanoutTransport transport, string name, int subscribers) => transport.Kind switch
    {
        FanoutKind.Broadcast => new BroadcastPublisher(name),
        FanoutKind.SpscRings => new SpscRingsPublisher(name, subscribers),
        FanoutKind.Pipes => new PipesPublisher(subscribers),
        _ => throw new ArgumentOutOfRangeException(nameof(transport), transport.Kind, null),
    };

    public static IFanoutSubscriber Subscribe(FanoutTransport transport, string endpoint, int messageSize) => transport.Kind switch
    {
        FanoutKind.Broadcast => new RingSubscriber(RingSegment.Open(endpoint), broadcast: true),
        FanoutKind.SpscRings => new RingSubscriber(RingSegment.Open(endpoint), broadcast: false),
        FanoutKind.Pipes => new PipeSubscriber(new AnonymousPipeClientStream(PipeDirection.In, endpoint), messageSize),
        _ => throw new ArgumentOutOfRangeException(nameof(transport), transport.Kind, null),
    };

    /// <summary>Every segment name a session of <paramref name="subscribers"/> may have created under <paramref name="name"/>.</summary>
    public static void RemoveNames(string name, int subscribers)
    {
        RingSegment.Unlink(name);
        for (int i = 0; i < subscribers; i++) RingSegment.Unlink(SpscName(name, i));
    }

    private static string SpscName(string name, int index) => $"{name}-{index}";

    private sealed class BroadcastPublisher : IFanoutPublisher
    {
        private readonly RingSegment _segment;
        private readonly RingWriter _writer;

        public BroadcastPublisher(string name)
        {
            _segment = RingSegment.Create(name, new RingOptions { Kind = RingKind.Broadcast, Capacity = FanoutTransport.Capacity, Overflow = BroadcastOverflow.Block });
            _writer = _segment.CreateWriter();
        }

        public string EndpointFor(int index) => _segment.Name;

        public void ChildrenStarted()
        {
        }

        public void Publish(ReadOnlySpan<byte> message) => _writer.Write(message);

        public void Dispose()
        {
            _writer.Dispose();
            _segment.Dispose();
        }
    }

    private sealed class SpscRingsPublisher : IFanoutPublisher
    {
        private readonly RingSegment[] _segments;
        private readonly RingWriter[] _writers;

        public SpscRingsPublisher(string name, int subscribers)
        {
            _segments = new RingSegment[subscribers];
            _writers = new RingWriter[subscribers];
            for (int i = 0; i < subscribers; i++)
            {
                _segments[i] = RingSegment.Create(SpscName(name, i), new RingOptions { Kind = RingKind.Spsc, Capacity = FanoutTransport.Capacity });
                _writers[i] = _segments[i].CreateWriter();
            }
        }

        public string EndpointFor(int index) => _segments[index].Name;

        public void ChildrenStarted()
        {
        }

        public void Publish(ReadOnlySpan<byte> message)
        {
            foreach (RingWriter writer in _writers) writer.Write(message);
        }

        public void Dispose()
        {
            foreach (RingWriter writer in _writers) writer.Dispose();
            foreach (RingSegment segment in _segments) segment.Dispose();
        }
    }

    private sealed class PipesPublisher : IFanoutPublisher
    {
        private readonly AnonymousPipeServerStream[] _pipes;
        private byte[] _frame = [];

        public PipesPublisher(int subscribers)
        {
            _pipes = new AnonymousPipeServerStream[subscribers];
            for (int i = 0; i < subscribers; i++) _pipes[i] = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.Inheritable);
        }

        public string EndpointFor(int index) => _pipes[index].GetClientHandleAsString();

        public void ChildrenStarted()
        {
            // Else a subscriber's end stays open in this process too, and a dead subscriber would never show as a broken pipe.
            foreach (AnonymousPipeServerStream pipe in _pipes) pipe.DisposeLocalCopyOfClientHandle();
        }

        public void Publish(ReadOnlySpan<byte> message)
        {
            if (_frame.Length < FramedStreamChannel.HeaderLength + message.Length) _frame = new byte[FramedStreamChannel.HeaderLength + message.Length];
            int length = FramedStreamChannel.Frame(message, _frame);
            foreach (AnonymousPipeServerStream pipe in _pipes) pipe.Write(_frame, 0, length);
        }

        public void Dispose()
        {
            foreach (AnonymousPipeServerStream pipe in _pipes) pipe.Dispose();
        }
    }

    private sealed class RingSubscriber(RingSegment segment, bool broadcast) : IFanoutSubscriber
    {
        private const int Batch = 256;

        private readonly RingReader _reader = broadcast ? segment.CreateSubscriber() : segment.CreateReader();

        public void ReceiveSome(ref StreamCounter counter)
        {
            while (_reader.ReadBatch(ref counter, static (message, ref c) => c.Take(message), Batch) == 0)
                _reader.WaitToRead(Timeout.InfiniteTimeSpan);
        }

        public void Dispose()
        {
            _reader.Dispose();
            segment.Dispose();
        }
    }

    private sealed class PipeSubscriber(AnonymousPipeClientStream pipe, int messageSize) : IFanoutSubscriber
    {
        private readonly FramedStreamReader _frames = new(pipe, messageSize);
        private readonly byte[] _message = new byte[messageSize];

        public void ReceiveSome(ref StreamCounter counter)
        {
            int length = _frames.Receive(_message);
            counter.Take(_message.AsSpan(0, length));
        }

        public void Dispose() => _frames.Dispose();
    }
}
