using System.Runtime.InteropServices;

namespace Ring.Platform.Linux;

/// <summary>
/// Every libc entry point Ring uses, in one file. Structures declared here have the same layout on
/// x86-64 and arm64 Linux (the only targets); nothing here is called on a hot path except the futex.
/// </summary>
internal static unsafe partial class LibC
{
    private const string Lib = "libc";

    public const int O_RDONLY = 0x0;
    public const int O_RDWR = 0x2;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_CLOEXEC = 0x80000;
    public const int O_PATH = 0x200000;

    /// <summary>arm64 keeps arm32's value for AArch32 compatibility; there 0x20000 is O_LARGEFILE.</summary>
    public static readonly int O_NOFOLLOW = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x8000 : 0x20000;

    public const int PROT_READ = 0x1;
    public const int PROT_WRITE = 0x2;
    public const int MAP_SHARED = 0x1;

    public const int F_OFD_GETLK = 36;
    public const int F_OFD_SETLK = 37;
    public const short F_RDLCK = 0;
    public const short F_WRLCK = 1;
    public const short F_UNLCK = 2;
    public const short SEEK_SET = 0;

    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_EMPTY_PATH = 0x1000;
    public const int S_IFMT = 0xF000;
    public const int S_IFIFO = 0x1000;
    public const int S_IFCHR = 0x2000;
    public const int S_IFDIR = 0x4000;
    public const int S_IFBLK = 0x6000;
    public const int S_IFREG = 0x8000;
    public const int S_IFLNK = 0xA000;
    public const int S_IFSOCK = 0xC000;
    public const uint STATX_BASIC_STATS = 0x7ff;

    public const int FUTEX_WAIT = 0;
    public const int FUTEX_WAKE = 1;

    /// <summary>futex_waitv's entry flag for a 32-bit word; FUTEX2_PRIVATE (128) is left out, the words are in shared mappings.</summary>
    public const uint FUTEX2_SIZE_U32 = 0x02;

    /// <summary>futex_waitv takes at most this many words per call.</summary>
    public const int FUTEX_WAITV_MAX = 128;

    public const int CLOCK_MONOTONIC = 1;

    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EEXIST = 17;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int ENOSYS = 38;
    public const int ETIMEDOUT = 110;

    public static readonly long SYS_futex = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 202,
        Architecture.Arm64 => 98,
        var other => throw new PlatformNotSupportedException($"Ring has no futex syscall number for {other}."),
    };

    /// <summary>futex_waitv (Linux 5.16) has the same number on x86-64 and arm64: it came after the tables were unified.</summary>
    public const long SYS_futex_waitv = 449;

    public static readonly long SYS_membarrier = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 324,
        Architecture.Arm64 => 283,
        var other => throw new PlatformNotSupportedException($"Ring has no membarrier syscall number for {other}."),
    };

    public const int MEMBARRIER_CMD_QUERY = 0;
    public const int MEMBARRIER_CMD_GLOBAL_EXPEDITED = 1 << 1;
    public const int MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED = 1 << 2;

    [StructLayout(LayoutKind.Sequential)]
    public struct Flock
    {
        public short l_type;
        public short l_whence;
        public long l_start;
        public long l_len;
        public int l_pid;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Timespec
    {
        public long tv_sec;
        public long tv_nsec;
    }

    /// <summary><c>struct futex_waitv</c>: the kernel compares all 64 bits of <c>val</c> with the zero-extended 32-bit word.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct FutexWaitv
    {
        public ulong val;
        public ulong uaddr;
        public uint flags;
        public uint __reserved;
    }

    /// <summary>The prefix of <c>struct statx</c> that Ring reads; the kernel writes 256 bytes.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    public struct Statx
    {
        [FieldOffset(0)] public uint stx_mask;
        [FieldOffset(20)] public uint stx_uid;
        [FieldOffset(24)] public uint stx_gid;
        [FieldOffset(28)] public ushort stx_mode;
        [FieldOffset(32)] public ulong stx_ino;
        [FieldOffset(40)] public ulong stx_size;
    }

    [LibraryImport(Lib, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Open(string path, int flags, uint mode);

    [LibraryImport(Lib, EntryPoint = "openat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int OpenAt(int directory, string path, int flags, uint mode);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Lib, EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int FTruncate(int fd, long length);

    /// <summary>Returns the error number itself (not -1 with errno), as POSIX specifies.</summary>
    [LibraryImport(Lib, EntryPoint = "posix_fallocate")]
    public static partial int PosixFallocate(int fd, long offset, long length);

    [LibraryImport(Lib, EntryPoint = "fchmod", SetLastError = true)]
    public static partial int FChmod(int fd, uint mode);

    [LibraryImport(Lib, EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int StatxCall(int dirfd, string path, int flags, uint mask, Statx* buffer);

    [LibraryImport(Lib, EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(Lib, EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(nint address, nuint length);

    [LibraryImport(Lib, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, Flock* argument);

    [LibraryImport(Lib, EntryPoint = "pread", SetLastError = true)]
    public static partial nint Pread(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport(Lib, EntryPoint = "linkat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int LinkAt(int existingDirectory, string existing, int createdDirectory, string created, int flags);

    [LibraryImport(Lib, EntryPoint = "unlinkat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int UnlinkAt(int directory, string path, int flags);

    [LibraryImport(Lib, EntryPoint = "geteuid")]
    public static partial uint GetEuid();

    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall(long number, int* address, int operation, int value, Timespec* timeout, int* address2, int value3);

    /// <summary>futex_waitv(waiters, nr_futexes, flags, timeout, clockid): the timeout is absolute on <paramref name="clock"/>.</summary>
    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    public static partial long SyscallFutexWaitv(long number, FutexWaitv* waiters, uint count, uint flags, Timespec* timeout, int clock);

    /// <summary>membarrier(cmd, flags, cpu_id); glibc has no wrapper for it.</summary>
    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    public static partial long SyscallMembarrier(long number, int command, uint flags, int cpu);

    /// <summary>sched_setaffinity(pid, cpusetsize, mask); pid 0 is the calling thread.</summary>
    [LibraryImport(Lib, EntryPoint = "sched_setaffinity", SetLastError = true)]
    public static partial int SchedSetAffinity(int pid, nuint size, ulong* mask);

    [LibraryImport(Lib, EntryPoint = "clock_gettime", SetLastError = true)]
    public static partial int ClockGetTime(int clock, Timespec* time);
}
