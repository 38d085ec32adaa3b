using System.Globalization;
using System.IO.Pipes;
using System.Net;
using System.Net.Sockets;
using Ring.Bench.Common;
using Ring.Bench.Compare.Iceoryx;
using Ring.Tooling;

namespace Ring.Bench.Compare;

internal enum TransportKind
{
    Floor,
    Ring,
    RingBatch,
    Pipe,
    NamedPipe,
    Uds,
    Tcp,
    Iceoryx,
}

/// <summary>
/// A transport's name, how it is defined, and how its two ends are set up. A Ring transport is named for the
/// wait strategy both its sides use (ring-busy-spin, ...), spelled as every tool's <c>--wait</c> spells it.
/// </summary>
internal sealed record Transport(TransportKind Kind, string Name, string Definition, WaitStrategy Wait = WaitStrategy.SpinThenBlock)
{
    public static readonly IReadOnlyList<Transport> All =
    [
        new(TransportKind.Floor, "floor", "slot ring per direction in a mapped /dev/shm file: 64-bit sequences on own 128-byte blocks, no framing/headers/checks, spin with a pause"),
        Ring(WaitStrategy.BusySpin, "Ring SPSC, 1 MiB per direction, BusySpin on both sides"),
        Ring(WaitStrategy.SpinThenBlock, "Ring SPSC, SpinThenBlock (the default) on both sides"),
        Ring(WaitStrategy.Block, "Ring SPSC, WaitStrategy.Block on both sides: each side sleeps in the kernel whenever it waits, no spinning"),
        new(TransportKind.RingBatch, "ring-batch", $"Ring SPSC, BusySpin, batched: the sender publishes every {RingBatchChannel.PublishEvery} messages (RingBatch, one tail store) and before it waits, the receiver takes up to {RingBatchChannel.PublishEvery} per ReadBatch (one head store)", WaitStrategy.BusySpin),
        new(TransportKind.Pipe, "pipe", "two anonymous pipes (AnonymousPipeServerStream, inherited fds), 4-byte length prefix"),
        new(TransportKind.NamedPipe, "named-pipe", ".NET NamedPipeServerStream: on Linux a Unix domain socket under /tmp, 4-byte length prefix"),
        new(TransportKind.Uds, "uds", "Unix domain stream socket (UnixDomainSocketEndPoint), 4-byte length prefix"),
        new(TransportKind.Tcp, "tcp", "TCP over 127.0.0.1, NoDelay on both ends, 4-byte length prefix"),
        new(TransportKind.Iceoryx, "iceoryx", $"Eclipse iceoryx 2.0.3 (Debian) through its C binding: a publisher and a subscriber per direction, queue capacity {IceoryxChannel.QueueCapacity}, "
            + "chunk = message size, history 0, lossless (subscriber BLOCK_PRODUCER, publisher WAIT_FOR_CONSUMER), take busy-polled with a pause; RouDi started by the harness, one mempool per size"),
    ];

    /// <summary>What the chart colours it by: the floor, Ring, a peer nobody here wrote, or a kernel transport.</summary>
    public string Family => Kind switch
    {
        TransportKind.Floor => "floor",
        TransportKind.Ring or TransportKind.RingBatch => "ring",
        TransportKind.Iceoryx => "peer",
        _ => "kernel",
    };

    public static Transport Parse(string name) => All.FirstOrDefault(t => t.Name == name) ?? throw new BenchFailure($"unknown transport '{name}'");

    private static Transport Ring(WaitStrategy wait, string definition) => new(TransportKind.Ring, "ring-" + EnumNames.Of(wait), definition, wait);
}

/// <summary>
/// The parent's end of one transport for one child: made before the child starts (the child gets
/// <see cref="Endpoint"/>), connected after. Disposing removes every name it created.
/// </summary>
internal sealed class TransportHost : IDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

    private readonly List<IDisposable> _owned = [];
    private readonly Action _removeNames;
    private Func<IChannel>? _connect;
    private IChannel? _channel;

    private TransportHost(string endpoint, Action removeNames)
    {
        Endpoint = endpoint;
        _removeNames = removeNames;
    }

    /// <summary>What the child needs to find the other end: a name, a path, a port, or pipe handles.</summary>
    public string Endpoint { get; private set; }

    public static TransportHost Create(Transport transport, int messageSize, string uniqueName)
    {
        switch (transport.Kind)
        {
            case TransportKind.Floor:
            {
                string path = FloorPath(uniqueName);
                TransportHost host = new(path, () => File.Delete(path));
                File.Delete(path);
                long region = FloorChannel.RegionLength(messageSize);
                FloorMapping mapping = FloorMapping.Create(path, 2 * region);
                host._owned.Add(mapping);
                host._connect = () => new FloorChannel(mapping, messageSize, outboundOffset: 0, inboundOffset: region);
                return host;
            }
            case TransportKind.Ring or TransportKind.RingBatch:
            {
                string back = BackName(uniqueName);
                TransportHost host = new(uniqueName, () => RemoveRings(uniqueName));
                RemoveRings(uniqueName);
                RingOptions options = new() { Kind = RingKind.Spsc, Capacity = 1 << 20 };
                RingSegment forward = RingSegment.Create(uniqueName, options);
                RingSegment backward = RingSegment.Create(back, options);
                host._owned.Add(forward);
                host._owned.Add(backward);
                host._connect = () => transport.Kind == TransportKind.RingBatch
                    ? new RingBatchChannel(forward, backward, messageSize)
                    : new RingChannel(forward, backward, transport.Wait);
                return host;
            }
            case TransportKind.Pipe:
            {
                AnonymousPipeServerStream toChild = new(PipeDirection.Out, HandleInheritability.Inheritable);
                AnonymousPipeServerStream fromChild = new(PipeDirection.In, HandleInheritability.Inheritable);
                TransportHost host = new($"{toChild.GetClientHandleAsString()},{fromChild.GetClientHandleAsString()}", () => { });
                host._owned.Add(toChild);
                host._owned.Add(fromChild);
                host._connect = () =>
                {
                    toChild.DisposeLocalCopyOfClientHandle();
                    fromChild.DisposeLocalCopyOfClientHandle();
                    return new FramedStreamChannel(fromChild, toChild, messageSize);
                };
                return host;
            }
            case TransportKind.NamedPipe:
            {
                NamedPipeServerStream server = new(uniqueName, PipeDirection.InOut, 1, PipeTransmissionMode.Byte, PipeOptions.Asynchronous);
                TransportHost host = new(uniqueName, () => File.Delete(NamedPipeSocketPath(uniqueName)));
                host._owned.Add(server);
                host._connect = () =>
                {
                    if (!server.WaitForConnectionAsync().Wait(ConnectTimeout)) throw new BenchFailure("the child did not connect to the named pipe");
                    return FramedStreamChannel.Duplex(server, messageSize);
                };
                return host;
            }
            case TransportKind.Uds:
            {
                string path = Path.Combine(Path.GetTempPath(), uniqueName + ".sock");
                File.Delete(path);
                Socket listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                TransportHost host = new(path, () => File.Delete(path));
                host._owned.Add(listener);
                listener.Bind(new UnixDomainSocketEndPoint(path));
                listener.Listen(1);
                host._connect = () => FramedStreamChannel.Duplex(Accept(listener), messageSize);
                return host;
            }
            case TransportKind.Tcp:
            {
                Socket listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                TransportHost host = new("", () => { });
                host._owned.Add(listener);
                listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                listener.Listen(1);
                host.Endpoint = ((IPEndPoint)listener.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture);
                host._connect = () => FramedStreamChannel.Duplex(Accept(listener), messageSize);
                return host;
            }
            case TransportKind.Iceoryx:
            {
                // RouDi removes the services when either side deinitialises them or exits: no names to remove.
                IceoryxChannel channel = new(uniqueName, outbound: IceoryxChannel.ToChild, inbound: IceoryxChannel.ToParent, messageSize);
                TransportHost host = new(uniqueName, () => { });
                host._owned.Add(channel);
                host._connect = () =>
                {
                    channel.WaitForPeer(ConnectTimeout);
                    return channel;
                };
                return host;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(transport), transport.Kind, null);
        }
    }

    /// <summary>Completes the link once the child runs; waits at most 15 s for it to connect.</summary>
    public IChannel Connect()
    {
        _channel = _connect!();
        return _channel;
    }

    /// <summary>The child's end of the link the parent described with <paramref name="endpoint"/>.</summary>
    public static IChannel ConnectChild(Transport transport, int messageSize, string endpoint)
    {
        switch (transport.Kind)
        {
            case TransportKind.Floor:
            {
                long region = FloorChannel.RegionLength(messageSize);
                return new FloorChannel(FloorMapping.Open(endpoint, 2 * region), messageSize, outboundOffset: region, inboundOffset: 0);
            }
            case TransportKind.Ring:
                return new RingChannel(RingSegment.Open(BackName(endpoint)), RingSegment.Open(endpoint), transport.Wait);
            case TransportKind.RingBatch:
                return new RingBatchChannel(RingSegment.Open(BackName(endpoint)), RingSegment.Open(endpoint), messageSize);
            case TransportKind.Pipe:
            {
                string[] handles = endpoint.Split(',');
                return new FramedStreamChannel(
                    new AnonymousPipeClientStream(PipeDirection.In, handles[0]),
                    new AnonymousPipeClientStream(PipeDirection.Out, handles[1]),
                    messageSize);
            }
            case TransportKind.NamedPipe:
            {
                NamedPipeClientStream client = new(".", endpoint, PipeDirection.InOut);
                client.Connect(ConnectTimeout);
                return FramedStreamChannel.Duplex(client, messageSize);
            }
            case TransportKind.Uds:
            {
                Socket socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                socket.Connect(new UnixDomainSocketEndPoint(endpoint));
                return FramedStreamChannel.Duplex(new NetworkStream(socket, ownsSocket: true), messageSize);
            }
            case TransportKind.Tcp:
            {
                Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                socket.Connect(new IPEndPoint(IPAddress.Loopback, int.Parse(endpoint, CultureInfo.InvariantCulture)));
                return FramedStreamChannel.Duplex(new NetworkStream(socket, ownsSocket: true), messageSize);
            }
            case TransportKind.Iceoryx:
            {
                IceoryxChannel.JoinRuntime(endpoint + "-child");
                IceoryxChannel channel = new(endpoint, outbound: IceoryxChannel.ToParent, inbound: IceoryxChannel.ToChild, messageSize);
                channel.WaitForPeer(ConnectTimeout);
                return channel;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(transport), transport.Kind, null);
        }
    }

    /// <summary>What a child whose parent died removes: the names only the parent would otherwise remove.</summary>
    public static void RemoveNamesAfterParent(Transport transport, string endpoint)
    {
        switch (transport.Kind)
        {
            case TransportKind.Floor or TransportKind.Uds:
                File.Delete(endpoint);
                break;
            case TransportKind.NamedPipe:
                File.Delete(NamedPipeSocketPath(endpoint));
                break;
            case TransportKind.Ring or TransportKind.RingBatch:
                RemoveRings(endpoint);
                break;
        }
    }

    /// <summary>
    /// Removes what earlier runs left behind: a parent killed between creating a session's names and
    /// starting its child leaves them with nobody to remove them. The names carry the creator's pid.
    /// </summary>
    public static void RemoveNamesOfDeadRuns()
    {
        (string Directory, string Pattern)[] places =
        [
            (RingSegment.DefaultDirectory, "compare-*"),
            ("/dev/shm", "compare-*-floor"),
            (Path.GetTempPath(), "compare-*.sock"),
            (Path.GetTempPath(), "CoreFxPipe_compare-*"),
            (Path.GetTempPath(), "compare-*-roudi.toml"),
        ];
        foreach ((string directory, string pattern) in places)
        {
            if (!Directory.Exists(directory)) continue;
            foreach (string path in Directory.EnumerateFiles(directory, pattern))
            {
                string name = Path.GetFileName(path);
                string[] parts = name[(name.IndexOf("compare-", StringComparison.Ordinal) + "compare-".Length)..].Split('-', '.');
                if (int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && !Directory.Exists($"/proc/{pid}")) File.Delete(path);
            }
        }
    }

    /// <summary>Removes the files and segment names this host created; what is open stays usable.</summary>
    public void RemoveNames() => _removeNames();

    public void Dispose()
    {
        _channel?.Dispose();
        foreach (IDisposable owned in _owned) owned.Dispose();
        _removeNames();
    }

    private static Stream Accept(Socket listener)
    {
        Task<Socket> accept = listener.AcceptAsync();
        if (!accept.Wait(ConnectTimeout)) throw new BenchFailure("the child did not connect to the socket");
        Socket socket = accept.Result;
        if (socket.AddressFamily == AddressFamily.InterNetwork) socket.NoDelay = true;
        return new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>
    /// Where .NET on Unix binds a named pipe's socket: only disposing the server removes it, which a process
    /// leaving through Environment.Exit or a dead parent never does.
    /// </summary>
    private static string NamedPipeSocketPath(string pipeName) => Path.Combine(Path.GetTempPath(), "CoreFxPipe_" + pipeName);

    private static string FloorPath(string uniqueName) => Path.Combine("/dev/shm", uniqueName + "-floor");

    private static string BackName(string name) => name + "-back";

    private static void RemoveRings(string name)
    {
        RingSegment.Unlink(name);
        RingSegment.Unlink(BackName(name));
    }
}
