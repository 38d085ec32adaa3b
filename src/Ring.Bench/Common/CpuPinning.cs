using System.Diagnostics;
using System.Numerics;

namespace Ring.Bench.Common;

/// <summary>
/// Pins processes (this one or a child, by pid) to CPUs with <see cref="Process.ProcessorAffinity"/>. On Linux that sets the affinity of
/// the thread whose id is the process id, i.e. the main thread, where the measured loops run; threads
/// already running keep their mask and later threads inherit their creator's.
/// </summary>
internal static class CpuPinning
{
    /// <summary>The CPUs this process may run on, lowest first (only the first 64 are visible).</summary>
    public static IReadOnlyList<int> AllowedCpus()
    {
        using Process self = Process.GetCurrentProcess();
        return CpusIn((ulong)self.ProcessorAffinity);
    }

    /// <summary>Pins the process's main thread to one CPU and returns the CPUs it reads back.</summary>
    public static string PinTo(int pid, int cpu)
    {
        using Process process = Process.GetProcessById(pid);
        process.ProcessorAffinity = (nint)(1L << cpu);
        return string.Join(",", CpusIn((ulong)process.ProcessorAffinity));
    }

    /// <summary>Lets the process's main thread run on all of <paramref name="cpus"/> again.</summary>
    public static void Unpin(int pid, IReadOnlyList<int> cpus)
    {
        long mask = 0;
        foreach (int cpu in cpus) mask |= 1L << cpu;
        using Process process = Process.GetProcessById(pid);
        process.ProcessorAffinity = (nint)mask;
    }

    private static List<int> CpusIn(ulong mask)
    {
        List<int> cpus = [];
        while (mask != 0)
        {
            cpus.Add(BitOperations.TrailingZeroCount(mask));
            mask &= mask - 1;
        }
        return cpus;
    }
}
