using System.ComponentModel;
using System.Diagnostics;
using System.Reflection;

namespace Ring.Bench.Common;

/// <summary>
/// Runs this program again as a child process, and lets that child notice when its parent is gone: the
/// child's stdin is a pipe the parent never writes to, so the child reads end-of-file once the parent has
/// exited, however it exited (kill -9 included), without polling.
/// </summary>
internal static class SelfProcess
{
    public static Process StartChild(IEnumerable<string> arguments)
    {
        string executable = Environment.ProcessPath ?? throw new BenchFailure("cannot find this program's executable to start the child");
        ProcessStartInfo start = new(executable) { UseShellExecute = false, RedirectStandardInput = true };
        if (Path.GetFileNameWithoutExtension(executable) == "dotnet")
        {
            // Run as `dotnet Ring.Bench.dll`: the host needs the assembly before our own arguments.
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        try
        {
            return Process.Start(start) ?? throw new BenchFailure($"could not start '{executable}'");
        }
        catch (Win32Exception e)
        {
            throw new BenchFailure($"could not start '{executable}': {e.Message}");
        }
    }

    /// <summary>Runs <paramref name="onParentGone"/> on a background thread once stdin reaches end-of-file.</summary>
    public static void OnParentExit(Action onParentGone)
    {
        Thread watcher = new(() =>
        {
            using Stream stdin = Console.OpenStandardInput();
            byte[] buffer = new byte[64];
            while (stdin.Read(buffer) > 0)
            {
            }
            onParentGone();
        })
        {
            IsBackground = true,
            Name = "parent watcher",
        };
        watcher.Start();
    }
}
