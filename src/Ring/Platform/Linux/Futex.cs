using System.Diagnostics;

namespace Ring.Platform.Linux;

/// <summary>
/// FUTEX_WAIT / FUTEX_WAKE on a 32-bit word of a shared mapping, and futex_waitv over many. The operations are the
/// non-private ones: the private variants key the word by address space and would never wake another process.
/// </summary>
internal static unsafe class Futex
{
    public enum WaitResult { Woken, ValueChanged, TimedOut, Interrupted }

    /// <summary>One word of a <see cref="WaitAny"/>: sleep while the word at <see cref="Address"/> holds <see cref="Expected"/>.</summary>
    public readonly record struct Watch(nint Address, int Expected);

    /// <summary>futex_waitv is there (Linux 5.16 or later, not refused by a seccomp filter); asked once per process.</summary>
    public static bool IsWaitvAvailable => WaitvProbe.Available;

    public static WaitResult Wait(int* word, int expected, TimeSpan timeout)
    {
        LibC.Timespec relative = ToTimespec(timeout);
        long result = LibC.Syscall(LibC.SYS_futex, word, LibC.FUTEX_WAIT, expected, &relative, null, 0);
        return result == 0 ? WaitResult.Woken : Failed("futex wait");
    }

    /// <summary>FUTEX_WAIT on a word known by its address (from <see cref="ISharedMemory.AddressOf"/>).</summary>
    public static WaitResult Wait(Watch watch, TimeSpan timeout) => Wait((int*)watch.Address, watch.Expected, timeout);

    /// <summary>
    /// futex_waitv: sleeps until a FUTEX_WAKE on one of the words, or one of them no longer holds its expected value
    /// when the call starts (ValueChanged, without saying which), a signal, or the timeout (Timeout.InfiniteTimeSpan:
    /// none). At most <see cref="LibC.FUTEX_WAITV_MAX"/> words.
    /// </summary>
    public static WaitResult WaitAny(ReadOnlySpan<Watch> watches, TimeSpan timeout)
    {
        Debug.Assert(watches.Length is > 0 and <= LibC.FUTEX_WAITV_MAX, $"futex_waitv takes 1 to {LibC.FUTEX_WAITV_MAX} words, not {watches.Length}");
        LibC.FutexWaitv* entries = stackalloc LibC.FutexWaitv[watches.Length];
        for (int i = 0; i < watches.Length; i++)
        {
            // Zero-extended: the kernel compares the 64-bit val with the 32-bit word, so a sign-extended value never matches.
            entries[i] = new LibC.FutexWaitv { val = (uint)watches[i].Expected, uaddr = (ulong)watches[i].Address, flags = LibC.FUTEX2_SIZE_U32 };
        }
        LibC.Timespec deadline = default;
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            // futex_waitv takes an absolute time on the clock it is given.
            if (LibC.ClockGetTime(LibC.CLOCK_MONOTONIC, &deadline) != 0) throw new RingException($"clock_gettime failed: {Errno.Describe(Errno.Last)}");
            LibC.Timespec relative = ToTimespec(timeout);
            deadline.tv_sec += relative.tv_sec;
            deadline.tv_nsec += relative.tv_nsec;
            if (deadline.tv_nsec >= 1_000_000_000)
            {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1_000_000_000;
            }
        }
        LibC.Timespec* deadlinePointer = timeout == Timeout.InfiniteTimeSpan ? null : &deadline;
        long result = LibC.SyscallFutexWaitv(LibC.SYS_futex_waitv, entries, (uint)watches.Length, 0, deadlinePointer, LibC.CLOCK_MONOTONIC);
        return result >= 0 ? WaitResult.Woken : Failed("futex_waitv");
    }

    public static int Wake(int* word, int count)
    {
        long result = LibC.Syscall(LibC.SYS_futex, word, LibC.FUTEX_WAKE, count, null, null, 0);
        if (result < 0) throw new RingException($"futex wake failed: {Errno.Describe(Errno.Last)}");
        return (int)result;
    }

    private static LibC.Timespec ToTimespec(TimeSpan timeout)
    {
        long ticks = Math.Max(0, timeout.Ticks);
        return new LibC.Timespec
        {
            tv_sec = ticks / TimeSpan.TicksPerSecond,
            tv_nsec = ticks % TimeSpan.TicksPerSecond * 100,
        };
    }

    private static WaitResult Failed(string operation)
    {
        int errno = Errno.Last;
        return errno switch
        {
            LibC.EAGAIN => WaitResult.ValueChanged,
            LibC.ETIMEDOUT => WaitResult.TimedOut,
            LibC.EINTR => WaitResult.Interrupted,
            _ => throw new RingException($"{operation} failed: {Errno.Describe(errno)}"),
        };
    }

    /// <summary>A class of its own so the probe runs at the first async wait, not at the first futex call.</summary>
    private static class WaitvProbe
    {
        public static readonly bool Available = Probe();

        private static bool Probe()
        {
            // No words at all: a kernel that has the call refuses the arguments with EINVAL; one without it answers
            // ENOSYS, and a seccomp filter that does not allow it ENOSYS or EPERM.
            long result = LibC.SyscallFutexWaitv(LibC.SYS_futex_waitv, null, 0, 0, null, LibC.CLOCK_MONOTONIC);
            return result < 0 && Errno.Last == LibC.EINVAL;
        }
    }
}
