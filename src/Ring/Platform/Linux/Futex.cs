namespace Ring.Platform.Linux;

/// <summary>
/// FUTEX_WAIT / FUTEX_WAKE on a 32-bit word of a shared mapping. The operations are the non-private ones:
/// the private variants key the word by address space and would never wake another process.
/// </summary>
internal static unsafe class Futex
{
    public enum WaitResult { Woken, ValueChanged, TimedOut, Interrupted }

    public static WaitResult Wait(int* word, int expected, TimeSpan timeout)
    {
        long ticks = Math.Max(0, timeout.Ticks);
        LibC.Timespec relative = new()
        {
            tv_sec = ticks / TimeSpan.TicksPerSecond,
            tv_nsec = ticks % TimeSpan.TicksPerSecond * 100,
        };
        long result = LibC.Syscall(LibC.SYS_futex, word, LibC.FUTEX_WAIT, expected, &relative, null, 0);
        if (result == 0) return WaitResult.Woken;
        int errno = Errno.Last;
        return errno switch
        {
            LibC.EAGAIN => WaitResult.ValueChanged,
            LibC.ETIMEDOUT => WaitResult.TimedOut,
            LibC.EINTR => WaitResult.Interrupted,
            _ => throw new RingException($"futex wait failed: {Errno.Describe(errno)}"),
        };
    }

    public static int Wake(int* word, int count)
    {
        long result = LibC.Syscall(LibC.SYS_futex, word, LibC.FUTEX_WAKE, count, null, null, 0);
        if (result < 0) throw new RingException($"futex wake failed: {Errno.Describe(Errno.Last)}");
        return (int)result;
    }
}
