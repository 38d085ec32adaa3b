using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Ring.Tooling;
using Ring.Tooling.Platform;

namespace Ring.Tests;

/// <summary>
/// A <c>nats-server</c> of this test's own: JetStream on, a free loopback port, a temporary store directory, stopped
/// (and its store removed) on dispose. <see cref="RestartAsync"/> stops it with SIGTERM and starts it again on the same
/// port and store, as an operator's restart does.
/// </summary>
internal sealed class NatsServer : IDisposable
{
    private static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(20);

    private readonly string _store = Directory.CreateTempSubdirectory("ring-nats-").FullName;
    private readonly int _port = FreePort();
    private ChildProcess _process;

    private NatsServer() => _process = Launch();

    /// <summary>The server binary: on PATH, or where the Debian package puts it; null when it cannot be had.</summary>
    public static string? Binary { get; } = Find();

    public string Url => $"nats://127.0.0.1:{_port}";

    public static async Task<NatsServer> StartAsync()
    {
        NatsServer server = new();
        try
        {
            await server.WaitReadyAsync();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>A clean stop (SIGTERM: JetStream flushes its state) and a start on the same port and store.</summary>
    public async Task RestartAsync()
    {
        LibC.Kill(_process.Id, Signal.SIGTERM);
        await _process.WaitForExitAsync(ReadyDeadline);
        _process.Dispose();
        _process = Launch();
        await WaitReadyAsync();
    }

    public void Dispose()
    {
        _process.Dispose();
        Directory.Delete(_store, recursive: true);
    }

    private ChildProcess Launch() =>
        ChildProcess.Start(Binary ?? throw new InvalidOperationException("nats-server is not installed."), ["-a", "127.0.0.1", "-p", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-js", "-sd", _store]);

    /// <summary>Until the port takes a connection and JetStream has said it is ready in the log.</summary>
    private async Task WaitReadyAsync()
    {
        await Polling.UntilAsync(() => _process.StandardError.Contains("Server is ready", StringComparison.Ordinal), "nats-server to be ready", ReadyDeadline, _process, childMustRun: true);
        using TcpClient client = new();
        await client.ConnectAsync(IPAddress.Loopback, _port);
    }

    private static int FreePort()
    {
        using TcpListener listener = new(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? Find()
    {
        IEnumerable<string> path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        return path.Concat(["/usr/sbin", "/usr/bin", "/usr/local/bin"]).Select(d => Path.Combine(d, "nats-server")).FirstOrDefault(File.Exists);
    }
}

/// <summary>A test that needs <c>nats-server</c>: skipped, saying why, where the binary cannot be had.</summary>
internal sealed class NatsFactAttribute : FactAttribute
{
    public NatsFactAttribute()
    {
        if (NatsServer.Binary is null) Skip = "nats-server is not installed (apt-get install -y nats-server; .ci/run installs it).";
    }
}
