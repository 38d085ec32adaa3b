using System.Globalization;
using System.Runtime.InteropServices;

namespace Ring.Tooling.Platform;

/// <summary>
/// Signal numbers the tools and tests send. Not <see cref="PosixSignal"/>: that one has no SIGKILL or SIGSTOP,
/// and its values are .NET's own, not the kernel's. These are the same on x86-64 and arm64 Linux.
/// </summary>
public enum Signal
{
    /// <summary>What Ctrl+C sends.</summary>
    SIGINT = 2,

    /// <summary>Ends the process at once; it cannot be caught.</summary>
    SIGKILL = 9,

    /// <summary>A polite request to end.</summary>
    SIGTERM = 15,

    /// <summary>Resumes a stopped process.</summary>
    SIGCONT = 18,

    /// <summary>Freezes the process until SIGCONT; it cannot be caught.</summary>
    SIGSTOP = 19,
}

/// <summary>
/// Every libc call the tools and tests make, in one file (the library's own are in src/Ring/Platform). None of
/// them holds an OS handle, so none needs a SafeHandle; a failure throws <see cref="SystemCallException"/>.
/// </summary>
public static partial class LibC
{
    private const int ESRCH = 3;

    /// <summary>Sends <paramref name="signal"/> to process <paramref name="pid"/>.</summary>
    public static void Kill(int pid, Signal signal)
    {
        if (kill(pid, (int)signal) != 0) throw SystemCallException.FromLast($"kill({Invariant(pid)}, {signal})");
    }

    /// <summary>Like <see cref="Kill"/>, but false instead of an exception when the process is gone already.</summary>
    public static bool TryKill(int pid, Signal signal)
    {
        if (kill(pid, (int)signal) == 0) return true;
        int errno = Marshal.GetLastPInvokeError();
        if (errno == ESRCH) return false;
        throw new SystemCallException($"kill({Invariant(pid)}, {signal})", errno);
    }

    /// <summary>Sets the process's file mode creation mask and returns the previous one; umask cannot fail.</summary>
    public static UnixFileMode SetUmask(UnixFileMode mask) => (UnixFileMode)umask((uint)mask);

    /// <summary>Creates a FIFO (named pipe) at <paramref name="path"/>.</summary>
    public static void MakeFifo(string path, UnixFileMode mode)
    {
        if (mkfifo(path, (uint)mode) != 0) throw SystemCallException.FromLast($"mkfifo('{path}')");
    }

    /// <summary>Gives <paramref name="path"/> (a symbolic link itself, not its target) to another owner and group.</summary>
    public static void ChangeOwnerOfLink(string path, uint uid, uint gid)
    {
        if (lchown(path, uid, gid) != 0) throw SystemCallException.FromLast($"lchown('{path}', {Invariant(uid)}, {Invariant(gid)})");
    }

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    [LibraryImport("libc")]
    private static partial uint umask(uint mask);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int mkfifo(string path, uint mode);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int lchown(string path, uint uid, uint gid);
}

/// <summary>A libc call that failed; the message names the call with its arguments and the errno it left.</summary>
public sealed class SystemCallException(string call, int errno)
    : IOException($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno.ToString(CultureInfo.InvariantCulture)})")
{
    internal static SystemCallException FromLast(string call) => new(call, Marshal.GetLastPInvokeError());
}
