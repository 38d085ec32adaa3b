using System.Globalization;

namespace Ring.Tests;

/// <summary>A child process's state, from /proc.</summary>
internal static class ProcessState
{
    /// <summary>The state letter of /proc/PID/stat (R, S, D, T for stopped, Z...), or '?' once the process is gone.</summary>
    public static char Of(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return '?';
        }
        int close = stat.LastIndexOf(')'); // the command name may hold spaces and parentheses
        return close >= 0 && close + 2 < stat.Length ? stat[close + 2] : '?';
    }

    /// <summary>
    /// True once no thread of the process is left: /proc has no such process, or only its leader remains, a
    /// zombie. The leader alone being a zombie is not enough: other threads may still be exiting, holding the
    /// process's descriptors (and so its locks) open.
    /// </summary>
    public static bool IsGone(int pid)
    {
        string[] status;
        try
        {
            status = File.ReadAllLines($"/proc/{pid}/status");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return true;
        }
        string? state = status.FirstOrDefault(l => l.StartsWith("State:", StringComparison.Ordinal));
        string? threads = status.FirstOrDefault(l => l.StartsWith("Threads:", StringComparison.Ordinal));
        if (state is null || threads is null) return true; // reaped while we read
        char letter = state["State:".Length..].Trim()[0];
        return letter is 'Z' or 'X' && int.Parse(threads["Threads:".Length..].Trim(), CultureInfo.InvariantCulture) <= 1;
    }
}
