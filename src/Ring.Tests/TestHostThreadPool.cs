using System.Runtime.CompilerServices;

namespace Ring.Tests;

/// <summary>
/// Gives the test host's thread pool a few more threads from the start. The host (xunit on vstest) now and then
/// holds every pool thread for most of a second: on this 2-core machine a work item queued to an otherwise idle
/// test process waited 540–880 ms, several times per run, while a thread of its own saw no stall of the process.
/// Async ring waits complete through the pool (their continuations never run on the ring's service thread), so a
/// test bounding how soon one ends would be measuring the host; with 8 threads no such wait was seen.
/// </summary>
internal static class TestHostThreadPool
{
    [ModuleInitializer]
    internal static void Widen()
    {
        ThreadPool.GetMinThreads(out int workers, out int completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, 8), completionPorts);
    }
}
