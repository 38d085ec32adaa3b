using System.Runtime.InteropServices;

namespace Ring.Bench.Common;

/// <summary>What a figure was measured on, for the first line of every report.</summary>
internal static class MachineInfo
{
    public static string Describe() =>
        $"{CpuModel()} · {Environment.ProcessorCount} CPUs · {RuntimeInformation.FrameworkDescription} · " +
        $"Linux {Environment.OSVersion.Version} {RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";

    private static string CpuModel()
    {
        // arm64 kernels list no model name; the count and architecture still say enough there.
        foreach (string line in File.ReadLines("/proc/cpuinfo"))
        {
            if (!line.StartsWith("model name", StringComparison.Ordinal)) continue;
            int colon = line.IndexOf(':');
            if (colon >= 0) return line[(colon + 1)..].Trim();
        }
        return "unknown CPU model";
    }
}
