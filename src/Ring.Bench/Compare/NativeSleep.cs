using System.Runtime.InteropServices;

namespace Ring.Bench.Compare;

/// <summary>Sleeps for microseconds: Thread.Sleep rounds up to whole milliseconds.</summary>
internal static partial class NativeSleep
{
    private const int PrSetTimerSlack = 29;

    /// <summary>
    /// Drops the calling thread's timer slack from the default 50 µs to 1 ns, so a 50 µs sleep lasts about
    /// 50 µs and not twice that.
    /// </summary>
    public static void TightenTimerSlack() => PrCtl(PrSetTimerSlack, 1, 0, 0, 0);

    public static void Sleep(long nanoseconds)
    {
        TimeSpec request = new(nanoseconds / 1_000_000_000, nanoseconds % 1_000_000_000);
        NanoSleep(in request, IntPtr.Zero);
    }

    [LibraryImport("libc", EntryPoint = "nanosleep")]
    private static partial int NanoSleep(in TimeSpec request, IntPtr remaining);

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int PrCtl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct TimeSpec(long Seconds, long Nanoseconds);
}
