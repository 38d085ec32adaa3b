using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NATS.Client.Core;
using Ring.Bench.Common;
using Ring.Nats;
using Ring.Tooling;

namespace Ring.Bench;

/// <summary>
/// The <c>nats-bridge</c> command: messages per second through ring → bridge out → nats-server → bridge in → ring (the
/// bridges in this process, each on its own connection) against a plain NATS.Net publisher → subscriber pair on the same
/// server in the same run, at 64 B and 4 KiB, over core NATS; and the out-bridge's JetStream window (outstanding acks) at
/// 1 and 256, the effect of batching the acknowledgements.
/// </summary>
internal static class NatsBridgeCommand
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    public static Command Create()
    {
        Option<int> messages = new("--messages") { Description = "Messages per core NATS measurement.", DefaultValueFactory = _ => 200_000 };
        Command command = new("nats-bridge", "Ring → NATS → ring through the bridges, against a plain NATS.Net publisher and subscriber; needs nats-server on PATH or in /usr/sbin.")
        {
            messages,
        };
        command.SetAction(parse => RunAsync(parse.GetValue(messages)).GetAwaiter().GetResult());
        return command;
    }

    private static async Task<int> RunAsync(int messages)
    {
        Console.WriteLine(MachineInfo.Describe());
        string? binary = new[] { "/usr/sbin", "/usr/bin", "/usr/local/bin" }.Select(d => Path.Combine(d, "nats-server")).FirstOrDefault(File.Exists);
        if (binary is null)
        {
            Console.Error.WriteLine("nats-server is not installed (apt-get install -y nats-server).");
            return 1;
        }
        string store = Directory.CreateTempSubdirectory("ring-bench-nats-").FullName;
        string ringDir = Directory.CreateTempSubdirectory("ring-bench-rings-").FullName;
        Environment.SetEnvironmentVariable("RING_DIR", ringDir);
        int port = FreePort();
        using ChildProcess server = ChildProcess.Start(binary, ["-a", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-js", "-sd", store]);
        string url = $"nats://127.0.0.1:{port}";
        try
        {
            await UntilReadyAsync(server);
            foreach (int size in new[] { 64, 4096 })
            {
                int count = size == 64 ? messages : messages / 4;
                double plain = await PlainAsync(url, size, count);
                double bridged = await BridgedAsync(url, size, count, stream: null, window: 256);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"core {size,5} B: bridge {bridged / 1e3,8:F1} k msg/s, plain NATS.Net {plain / 1e3,8:F1} k msg/s, bridge/plain {bridged / plain:F2} ({count:N0} messages each)"));
            }
            int jsCount = messages / 10;
            double window256 = await BridgedAsync(url, 64, jsCount, stream: "BENCH256", window: 256);
            double window1 = await BridgedAsync(url, 64, jsCount / 20, stream: "BENCH1", window: 1);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"JetStream    64 B: out window 256 {window256 / 1e3:F1} k msg/s ({jsCount:N0}), window 1 {window1 / 1e3:F2} k msg/s ({jsCount / 20:N0}), ×{window256 / window1:F1}"));
            return 0;
        }
        finally
        {
            server.Kill();
            server.WaitForExit(TimeSpan.FromSeconds(10));
            Directory.Delete(store, recursive: true);
            Directory.Delete(ringDir, recursive: true);
        }
    }

    /// <summary>A NATS.Net publisher and subscriber, each on its own connection: messages per second the subscriber received.</summary>
    private static async Task<double> PlainAsync(string url, int size, int count)
    {
        NatsOpts opts = NatsOpts.Default with { Url = url, SubPendingChannelFullMode = System.Threading.Channels.BoundedChannelFullMode.Wait };
        await using NatsConnection publisher = new(opts);
        await using NatsConnection subscriber = new(opts);
        string subject = $"bench.plain.{size}";
        await using INatsSub<byte[]> sub = await subscriber.SubscribeCoreAsync<byte[]>(subject);
        await subscriber.PingAsync();
        byte[] payload = new byte[size];
        long start = Stopwatch.GetTimestamp();
        Task receiving = Task.Run(async () =>
        {
            int got = 0;
            await foreach (NatsMsg<byte[]> _ in sub.Msgs.ReadAllAsync())
            {
                if (++got == count) return;
            }
        });
        for (int i = 0; i < count; i++) await publisher.PublishAsync(subject, payload);
        await receiving.WaitAsync(Bound);
        return count / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Ring A → out → NATS → in → ring B, the bridges in this process: messages per second read from B.</summary>
    private static async Task<double> BridgedAsync(string url, int size, int count, string? stream, int window)
    {
        string tag = $"{size}-{stream ?? "core"}-{Environment.ProcessId}";
        using RingSegment a = RingSegment.Create($"bench-a-{tag}", new RingOptions { Capacity = 1 << 22 });
        using RingSegment b = RingSegment.Create($"bench-b-{tag}", new RingOptions { Capacity = 1 << 22 });
        BridgeOptions options = new() { Url = url, Subject = $"bench.bridge.{tag}", Stream = stream, Durable = stream is null ? null : "bench", Window = window };
        using BridgeCounters outCounters = new("out", a.Name);
        using BridgeCounters inCounters = new("in", b.Name);
        using CancellationTokenSource stop = new();
        Task inward = RingNatsBridge.RunInAsync(b, options, inCounters, stop.Token);
        await inCounters.Ready.WaitAsync(Bound);
        Task outward = RingNatsBridge.RunOutAsync(a, options, outCounters, stop.Token);
        await outCounters.Ready.WaitAsync(Bound);
        byte[] payload = new byte[size];
        long start = Stopwatch.GetTimestamp();
        Task writing = Task.Run(() =>
        {
            using RingWriter writer = a.CreateWriter();
            for (int i = 0; i < count; i++) writer.Write(payload);
        });
        Task reading = Task.Run(() =>
        {
            using RingReader reader = b.CreateReader(WaitStrategy.Block);
            byte[] buffer = new byte[b.MaxMessageLength];
            for (int i = 0; i < count; i++) reader.Read(buffer);
        });
        await Task.WhenAll(writing, reading).WaitAsync(Bound);
        double rate = count / Stopwatch.GetElapsedTime(start).TotalSeconds;
        await stop.CancelAsync();
        await Task.WhenAll(inward, outward).WaitAsync(Bound);
        if (inCounters.Dropped > 0) Console.WriteLine($"  (the in-bridge dropped {inCounters.Dropped})");
        return rate;
    }

    private static async Task UntilReadyAsync(ChildProcess server)
    {
        long start = Stopwatch.GetTimestamp();
        while (!server.StandardError.Contains("Server is ready", StringComparison.Ordinal))
        {
            if (server.HasExited || Stopwatch.GetElapsedTime(start) > Bound) throw new InvalidOperationException($"nats-server did not start.\n{server.Describe()}");
            await Task.Delay(10);
        }
    }

    private static int FreePort()
    {
        using TcpListener listener = new(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
