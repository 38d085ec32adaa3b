using System.Diagnostics;

namespace Ring.Bench.Common;

/// <summary>This process's CPU time, user and system, for the figures that put it next to the wall time.</summary>
internal static class ProcessCpu
{
    public static TimeSpan Total()
    {
        using Process self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }
}
