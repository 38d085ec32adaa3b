using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Ring.Bench.Common;
using Ring.Tooling;
using Ring.Tooling.Platform;

namespace Ring.Bench.Compare.Iceoryx;

/// <summary>
/// RouDi, the daemon every iceoryx process registers with, for the iceoryx transport. The harness starts it
/// through a keeper process (<c>compare-roudi</c>) on a lifeline: once the harness has exited, the keeper sends
/// RouDi SIGTERM, SIGKILL after <see cref="StopTimeout"/>, and removes its config. Not earlier: a stopping
/// RouDi sends SIGTERM to every process still registered, and the C binding of 2.0.3 has no call that leaves
/// RouDi; a process leaves it only on its way out, when the runtime's destructor runs.
/// </summary>
internal static class IceoryxDaemon
{
    public const string KeeperCommandName = "compare-roudi";
    public const string RoudiOptionName = "--roudi";
    public const string ConfigOptionName = "--config";
    private const string Executable = "iox-roudi";
    private const string RoudiReadyLine = "RouDi is ready for clients"; // its info-level log line
    private const string KeeperReadyLine = "ready";

    /// <summary>Chunks per message size: both directions' queues full, plus what publishers and subscribers hold.</summary>
    private const int ChunksPerSize = 2 * (IceoryxChannel.QueueCapacity + 16);

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    private static readonly Lock Gate = new();
    private static ChildProcess? _keeper; // guarded by Gate; lives as long as this process, never disposed (that would kill RouDi)

    /// <summary>Why the iceoryx transport cannot run here (one line), or null when it can.</summary>
    public static string? Unavailable()
    {
        if (FindRoudi() is null) return $"{Executable} is not on PATH (apt-get install iceoryx)";
        if (!NativeLibrary.TryLoad(IceoryxInterop.Library, out nint library)) return $"{IceoryxInterop.Library} does not load (apt-get install libiceoryx-binding-c2)";
        NativeLibrary.Free(library);
        return null;
    }

    /// <summary>
    /// Starts RouDi with mempools for <paramref name="sizes"/> unless it runs already, then registers this process
    /// with it as <c>compare-PID</c>.
    /// </summary>
    public static void EnsureRunning(IReadOnlyList<int> sizes)
    {
        lock (Gate)
        {
            if (_keeper is not null)
            {
                if (_keeper.HasExited) throw new BenchFailure($"{Executable} stopped during the run: {_keeper.Describe()}");
                return;
            }
            string roudi = FindRoudi() ?? throw new BenchFailure($"{Executable} is not on PATH");
            string config = ConfigPath(Environment.ProcessId);
            File.WriteAllText(config, Config(sizes));
            _keeper = ChildProcess.StartProgram("Ring.Bench", [KeeperCommandName, RoudiOptionName, roudi, ConfigOptionName, config],
                new ChildOptions { CaptureOutput = true, Lifeline = true });
            if (!WaitForLine(_keeper, KeeperReadyLine)) throw new BenchFailure($"{Executable} did not start: {_keeper.Describe()}");
        }
        IceoryxChannel.JoinRuntime(string.Create(CultureInfo.InvariantCulture, $"compare-{Environment.ProcessId}"));
    }

    /// <summary>The keeper's body: runs RouDi until the harness is gone, then stops it; 1 if RouDi failed or ended by itself.</summary>
    public static int Keep(string roudi, string config)
    {
        using PosixSignalRegistration sigint = ParentLifeline.IgnoreInterrupt();
        using ChildProcess daemon = ChildProcess.Start(roudi, ["-c", config, "-l", "info"]);
        bool stopping = false;
        ParentLifeline.OnParentExit(() =>
        {
            Volatile.Write(ref stopping, true);
            LibC.TryKill(daemon.Id, Signal.SIGTERM);
            if (!daemon.WaitForExit(StopTimeout)) daemon.Kill();
        });
        if (!WaitForLine(daemon, RoudiReadyLine))
        {
            Console.Error.WriteLine($"{KeeperCommandName}: {Executable} did not become ready: {daemon.Describe()}");
            File.Delete(config);
            return 1;
        }
        Console.WriteLine(KeeperReadyLine);
        daemon.Exited.Wait();
        daemon.WaitForExit(StopTimeout);
        File.Delete(config);
        if (Volatile.Read(ref stopping)) return 0;
        Console.Error.WriteLine($"{KeeperCommandName}: {Executable} ended by itself: {daemon.Describe()}");
        return 1;
    }

    /// <summary>Where the harness with process id <paramref name="pid"/> writes RouDi's config.</summary>
    public static string ConfigPath(int pid) => Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"compare-{pid}-roudi.toml"));

    /// <summary>
    /// RouDi's config: one mempool per message size whose chunks hold that payload and the chunk header (in
    /// ascending order, multiples of 8, as RouDi requires), <see cref="ChunksPerSize"/> chunks each.
    /// </summary>
    public static string Config(IReadOnlyList<int> sizes)
    {
        StringBuilder toml = new("[general]\nversion = 1\n\n[[segment]]\n");
        foreach (int chunk in sizes.Select(s => (s + IceoryxInterop.ChunkHeaderBytes + 7) / 8 * 8).Distinct().Order())
            toml.Append(CultureInfo.InvariantCulture, $"\n[[segment.mempool]]\nsize = {chunk}\ncount = {ChunksPerSize}\n");
        return toml.ToString();
    }

    /// <summary>Waits up to <see cref="StartTimeout"/> for <paramref name="child"/> to print <paramref name="line"/>; false if it exits or times out first.</summary>
    private static bool WaitForLine(ChildProcess child, string line)
    {
        DateTime deadline = DateTime.UtcNow + StartTimeout;
        while (!child.StandardOutput.Contains(line, StringComparison.Ordinal))
        {
            if (child.HasExited || DateTime.UtcNow > deadline) return false;
            Thread.Sleep(10);
        }
        return true;
    }

    private static string? FindRoudi() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, Executable))
            .FirstOrDefault(File.Exists);
}
