using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using Ring.Tooling;
using Ring.Tooling.Platform;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Ring.Tests;

/// <summary>
/// Ring A → <c>ring bridge out</c> → nats-server → <c>ring bridge in</c> → ring B, with both bridges real child processes
/// (the built <c>ring</c> CLI) and a nats-server of the test's own. This process writes numbered messages of random sizes
/// into A and checks at B that each arrives once, in order, intact. RING_NATS_MESSAGES sets how many (the suite's default
/// keeps CI inside its budget; the stress run is a million).
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class NatsBridgeTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(5);
    private static readonly int Messages = int.TryParse(Environment.GetEnvironmentVariable("RING_NATS_MESSAGES"), CultureInfo.InvariantCulture, out int n) ? n : 50_000;
    private const int HeaderLength = sizeof(long);
    private const int MaxSize = 2048;

    private readonly TempSegmentDirectory _dir = new();
    private readonly List<ChildProcess> _children = [];

    public void Dispose()
    {
        foreach (ChildProcess child in _children) child.Dispose();
        _dir.Dispose();
    }

    [NatsFact]
    public async Task BridgeOutIn_JetStream_EveryMessageArrivesOnceInOrder()
    {
        using NatsServer server = await NatsServer.StartAsync();
        using Pipeline pipeline = Pipeline.Start(this, server, jetstream: true);

        await pipeline.CompleteAsync(Messages, duringStream: null);

        Summary inward = await StopAsync(pipeline.In);
        Summary outward = await StopAsync(pipeline.Out);
        Assert.Equal(Messages, outward.Acked);
        Assert.Equal(0, outward.InFlight);
        Assert.Equal(Messages, inward.Forwarded);
        Assert.Equal(Messages, inward.Acked);
    }

    [NatsFact]
    public async Task BridgeOutIn_CoreNats_WhatArrivesIsInOrderAndOnce()
    {
        using NatsServer server = await NatsServer.StartAsync();
        using Pipeline pipeline = Pipeline.Start(this, server, jetstream: false);
        const int Sent = 5_000;

        // At most once: only what is published after the in-bridge subscribed can arrive (CompleteAsync waits for it), and
        // B, read as fast as it fills, never makes the in-bridge's pending buffer overflow at this pace.
        await pipeline.CompleteAsync(Sent, duringStream: null);

        Summary inward = await StopAsync(pipeline.In);
        Summary outward = await StopAsync(pipeline.Out);
        Assert.Equal(Sent, outward.Forwarded);
        Assert.Equal(Sent, inward.Forwarded);
        Assert.Equal(0, inward.Dropped);
    }

    [NatsFact]
    public async Task BridgeOut_SigkilledFiveTimesMidStream_NothingLostAndNoDuplicateReachesB()
    {
        using NatsServer server = await NatsServer.StartAsync();
        using Pipeline pipeline = Pipeline.Start(this, server, jetstream: true);
        int kills = 0;

        await pipeline.CompleteAsync(Messages, duringStream: async () =>
        {
            for (kills = 1; kills <= 5; kills++)
            {
                // Measured at A (released: acknowledged by JetStream), not at B, which lags: a kill lands while A still has messages for the bridge.
                long released = (long)Messages * kills / 6;
                await Polling.UntilAsync(() => pipeline.A.GetStatus().MessagesRead >= released, $"{released} messages released from A", Deadline, pipeline.Out);
                // Killed holding unacknowledged messages in A (peeked, not released); the next bridge reads them again.
                pipeline.Out.Kill();
                await pipeline.Out.WaitForExitAsync(Deadline);
                pipeline.Out = pipeline.StartOut();
            }
        });

        Summary last = await StopAsync(pipeline.Out);
        output.WriteLine($"after 5 SIGKILLs, the last out-bridge: {last.Json}");
        Assert.Equal(6, kills);
    }

    [NatsFact]
    public async Task BridgeOutIn_NatsServerRestartedMidStream_NothingLostAndBothBridgesReconnect()
    {
        using NatsServer server = await NatsServer.StartAsync();
        using Pipeline pipeline = Pipeline.Start(this, server, jetstream: true);

        await pipeline.CompleteAsync(Messages, duringStream: async () =>
        {
            await pipeline.UntilReceivedAsync(Messages / 3);
            await server.RestartAsync();
        }, strictOrder: false);

        Summary inward = await StopAsync(pipeline.In);
        Summary outward = await StopAsync(pipeline.Out);
        output.WriteLine($"in: {inward.Json}\nout: {outward.Json}\n{pipeline.Reordered} messages arrived after a later one");
        Assert.True(inward.Reconnects >= 1, $"the in-bridge never reconnected: {inward.Json}");
        Assert.True(outward.Reconnects >= 1, $"the out-bridge never reconnected: {outward.Json}");
    }

    [NatsFact]
    public async Task BridgeIn_RingFullForTwoSeconds_NothingDroppedAndTheStreamKeepsTheRest()
    {
        using NatsServer server = await NatsServer.StartAsync();
        using Pipeline pipeline = Pipeline.Start(this, server, jetstream: true, readB: false);
        int sent = Math.Min(Messages, 20_000);

        await pipeline.CompleteAsync(sent, duringStream: async () =>
        {
            await Polling.UntilAsync(() => pipeline.B.GetStatus().WritersWaiting > 0, "the in-bridge to wait on a full ring B", Deadline, pipeline.In, childMustRun: true);
            long inB = pipeline.B.GetStatus().MessagesInRing;
            await Task.Delay(TimeSpan.FromSeconds(2)); // the scenario: B stays full for 2 s with nobody reading it
            Assert.Equal(inB, pipeline.B.GetStatus().MessagesInRing);
            Assert.True(inB < sent, $"B holds {inB} of {sent}: too large to be filled");
            pipeline.ReadB();
        });

        Summary inward = await StopAsync(pipeline.In);
        Assert.Equal(sent, inward.Forwarded);
        Assert.Equal(0, inward.Dropped);
    }

    // ---------------------------------------------------------------- the pipeline

    private ChildProcess StartBridge(params string[] arguments)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "Ring.Cli.dll");
        ChildProcess child = ChildProcess.Start(ChildProcess.DotnetHost, [cli, "bridge", .. arguments, "--json"],
            new ChildOptions { Environment = new Dictionary<string, string?> { ["RING_DIR"] = _dir.DirectoryPath } });
        _children.Add(child);
        return child;
    }

    /// <summary>SIGTERM (a clean stop: in-flight acknowledgements settled), then the bridge's JSON summary.</summary>
    private static async Task<Summary> StopAsync(ChildProcess bridge)
    {
        LibC.Kill(bridge.Id, Signal.SIGTERM);
        int exit = await bridge.WaitForExitAsync(Deadline);
        if (exit != 0) throw new XunitException($"the bridge exited with {exit}.\n{bridge.Describe()}");
        string? line = bridge.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        if (line is null) throw new XunitException($"the bridge printed no summary.\n{bridge.Describe()}");
        using JsonDocument json = JsonDocument.Parse(line);
        long Get(string name) => json.RootElement.GetProperty(name).GetInt64();
        return new Summary(line, Get("forwarded"), Get("acked"), Get("in_flight"), Get("reconnects"), Get("dropped"));
    }

    private sealed record Summary(string Json, long Forwarded, long Acked, long InFlight, long Reconnects, long Dropped);

    /// <summary>Message <paramref name="sequence"/>: its number, then filler; its length (8 to 2048 bytes) a function of the number.</summary>
    private static byte[] Message(long sequence)
    {
        int length = HeaderLength + (int)(((ulong)sequence * 0x9E3779B97F4A7C15UL) % (MaxSize - HeaderLength + 1));
        byte[] message = Payload.Make(sequence, length);
        BinaryPrimitives.WriteInt64LittleEndian(message, sequence);
        return message;
    }

    private sealed class Pipeline : IDisposable
    {
        private readonly NatsBridgeTests _test;
        private readonly NatsServer _server;
        private readonly bool _jetstream;
        private readonly string _subject = $"ring.test.{Guid.NewGuid():N}";
        private readonly TaskCompletionSource _readB = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _received;

        private Pipeline(NatsBridgeTests test, NatsServer server, bool jetstream)
        {
            _test = test;
            _server = server;
            _jetstream = jetstream;
            A = RingSegment.Create(test._dir.NewName("a"), new RingOptions { Capacity = 1 << 20, MaxMessageLength = MaxSize });
            B = RingSegment.Create(test._dir.NewName("b"), new RingOptions { Capacity = 1 << 16, MaxMessageLength = MaxSize }); // small: it fills
        }

        public RingSegment A { get; }
        public RingSegment B { get; }
        public ChildProcess Out { get; set; } = null!;
        public ChildProcess In { get; private set; } = null!;
        public long Received => Interlocked.Read(ref _received);

        public static Pipeline Start(NatsBridgeTests test, NatsServer server, bool jetstream, bool readB = true)
        {
            Pipeline pipeline = new(test, server, jetstream);
            pipeline.In = pipeline.StartIn();
            pipeline.Out = pipeline.StartOut();
            if (readB) pipeline.ReadB();
            return pipeline;
        }

        public ChildProcess StartOut() => _test.StartBridge(["out", A.Name, "--nats", _server.Url, "--subject", _subject, .. _jetstream ? (string[])["--jetstream", "RINGTEST"] : []]);

        private ChildProcess StartIn() => _test.StartBridge(["in", B.Name, "--nats", _server.Url, "--subject", _subject, .. _jetstream ? (string[])["--jetstream", "RINGTEST", "--durable", "b"] : []]);

        public void ReadB() => _readB.TrySetResult();

        public Task UntilReceivedAsync(long count) =>
            Polling.UntilAsync(() => Received >= count, $"{count} messages at B", Deadline, null, state: () => $"{Received} arrived");

        /// <summary>
        /// Writes <paramref name="count"/> messages into A while B is read and checked, runs <paramref name="duringStream"/>
        /// alongside, and returns once every message arrived at B.
        /// </summary>
        /// <remarks>
        /// With <paramref name="strictOrder"/> false, a message may arrive before an earlier one (a publish lost with the
        /// server while the ones after it were stored; its retry is stored after them), but each arrives exactly once.
        /// Done once A is drained too: the out-bridge released everything, which it does only on JetStream's acknowledgement.
        /// </remarks>
        public async Task CompleteAsync(int count, Func<Task>? duringStream, bool strictOrder = true)
        {
            // A core subscription gets only what is published after it; JetStream keeps it in the stream either way.
            await Polling.UntilAsync(() => In.StandardError.Contains("ready", StringComparison.Ordinal), "the in-bridge to be ready", Deadline, In, childMustRun: true);
            using CancellationTokenSource stop = new(Deadline);
            Task writing = Task.Run(() =>
            {
                using RingWriter writer = A.CreateWriter();
                for (long i = 0; i < count; i++) writer.Write(Message(i), stop.Token);
            });
            Task reading = Task.Run(async () =>
            {
                await _readB.Task.WaitAsync(stop.Token);
                using RingReader reader = B.CreateReader();
                byte[] buffer = new byte[MaxSize];
                bool[] seen = new bool[count];
                long expected = 0;
                while (Received < count)
                {
                    if (!reader.TryRead(buffer, out int length))
                    {
                        reader.WaitToRead(TimeSpan.FromMilliseconds(100), stop.Token);
                        continue;
                    }
                    long sequence = BinaryPrimitives.ReadInt64LittleEndian(buffer);
                    if (strictOrder && sequence != expected)
                        throw new XunitException($"B got message {sequence} where {expected} was due ({(sequence < expected ? "a duplicate" : "a loss")}).");
                    if ((ulong)sequence >= (ulong)count || seen[sequence])
                        throw new XunitException($"B got message {sequence} twice (or one never sent).");
                    if (sequence != expected) Reordered++;
                    seen[sequence] = true;
                    Assert.Equal(Message(sequence), buffer[..length]);
                    expected = sequence + 1;
                    Interlocked.Increment(ref _received);
                }
            });
            Task scenario = duringStream?.Invoke() ?? Task.CompletedTask;
            Task all = Task.WhenAll(writing, reading, scenario);
            await Task.WhenAny(all, Task.Delay(Deadline));
            if (!all.IsCompleted)
                throw new XunitException($"the stream did not finish in {Deadline.TotalMinutes} min: {Received} of {count} at B.\n{Out.Describe()}\n{In.Describe()}");
            await all;
            await Polling.UntilAsync(() => A.GetStatus().MessagesRead == count, "A to be drained (every message acknowledged and released)", Deadline, Out,
                state: () => $"{A.GetStatus().MessagesRead} released");
        }

        /// <summary>Messages that arrived at B after a later one (only without strict order).</summary>
        public long Reordered { get; private set; }

        public void Dispose()
        {
            A.Dispose();
            B.Dispose();
        }
    }
}
