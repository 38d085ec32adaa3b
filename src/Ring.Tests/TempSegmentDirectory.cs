using System.Buffers.Binary;
using System.IO.Hashing;

namespace Ring.Tests;

/// <summary>
/// A private directory for one test's segments. Names are handed out as absolute paths, so no test touches
/// RING_DIR (process-global) and tests running in parallel never share a segment. Disposing removes the
/// directory and everything left in it.
/// </summary>
public sealed class TempSegmentDirectory : IDisposable
{
    private static int s_counter;
    private int _next;

    public TempSegmentDirectory()
    {
        // tmpfs where there is one (what production uses), the ordinary temp directory otherwise.
        string root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        string leaf = $"ring-tests-{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}-{Guid.NewGuid():N}";
        DirectoryPath = Path.Combine(root, leaf);
        Directory.CreateDirectory(DirectoryPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string DirectoryPath { get; }

    /// <summary>A fresh absolute segment name inside this directory.</summary>
    public string NewName(string prefix = "seg") =>
        Path.Combine(DirectoryPath, $"{prefix}-{Interlocked.Increment(ref _next)}");

    /// <summary>Every entry in the directory, dot files included.</summary>
    public string[] Entries() => Directory.GetFileSystemEntries(DirectoryPath).Select(p => Path.GetFileName(p)).ToArray();

    public void Dispose()
    {
        try
        {
            Directory.Delete(DirectoryPath, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

/// <summary>Direct access to a segment file's header, for tests that corrupt it.</summary>
internal static class SegmentFile
{
    public static void WriteInt32(string path, long offset, int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        Write(path, offset, bytes);
    }

    public static void WriteInt64(string path, long offset, long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        Write(path, offset, bytes);
    }

    public static int ReadInt32(string path, long offset)
    {
        Span<byte> bytes = stackalloc byte[4];
        Read(path, offset, bytes);
        return BinaryPrimitives.ReadInt32LittleEndian(bytes);
    }

    public static long ReadInt64(string path, long offset)
    {
        Span<byte> bytes = stackalloc byte[8];
        Read(path, offset, bytes);
        return BinaryPrimitives.ReadInt64LittleEndian(bytes);
    }

    /// <summary>XxHash64 of the checksummed identity bytes, as the file holds them now.</summary>
    public static ulong ComputeChecksum(string path)
    {
        byte[] covered = new byte[SegmentLayout.ChecksummedLength];
        Read(path, SegmentLayout.ChecksummedStart, covered);
        return XxHash64.HashToUInt64(covered);
    }

    /// <summary>Stores the checksum of the identity bytes as they are now, so only the field under test is wrong.</summary>
    public static void FixChecksum(string path) =>
        WriteInt64(path, SegmentLayout.ChecksumOffset, unchecked((long)ComputeChecksum(path)));

    public static void SetLength(string path, long length)
    {
        using FileStream stream = new(path, FileMode.Open, FileAccess.ReadWrite);
        stream.SetLength(length);
    }

    private static void Write(string path, long offset, ReadOnlySpan<byte> bytes)
    {
        using Microsoft.Win32.SafeHandles.SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        RandomAccess.Write(file, bytes, offset);
    }

    private static void Read(string path, long offset, Span<byte> bytes)
    {
        using Microsoft.Win32.SafeHandles.SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        int read = RandomAccess.Read(file, bytes, offset);
        if (read != bytes.Length) throw new EndOfStreamException($"read {read} of {bytes.Length} bytes at {offset} in '{path}'");
    }
}

/// <summary>Deterministic, message-specific payloads, so a byte from the wrong message or offset is caught.</summary>
internal static class Payload
{
    public static byte[] Make(long seed, int length)
    {
        byte[] bytes = new byte[length];
        Fill(seed, bytes);
        return bytes;
    }

    public static void Fill(long seed, Span<byte> destination)
    {
        uint state = (uint)(seed * 2654435761L) ^ 0x9E3779B9u;
        for (int i = 0; i < destination.Length; i++)
        {
            state = state * 1664525u + 1013904223u;
            destination[i] = (byte)(state >> 24);
        }
    }
}
