using System.Runtime.InteropServices;

namespace Ring.Platform.Linux;

/// <summary>Turns an errno from a failed call into the most specific exception Ring has for it.</summary>
internal static class Errno
{
    public static int Last => Marshal.GetLastPInvokeError();

    public static Exception ToException(int errno, string operation, string path)
    {
        string text = $"{operation} '{path}' failed: {Describe(errno)}";
        return errno switch
        {
            LibC.ENOENT => new SegmentNotFoundException(text),
            LibC.EEXIST => new SegmentExistsException(text),
            LibC.ENOSPC => new SegmentSpaceException(text),
            LibC.EACCES or LibC.EPERM => new UnauthorizedAccessException(text),
            _ => new RingException(text),
        };
    }

    public static Exception FromLast(string operation, string path) => ToException(Last, operation, path);

    public static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
}
