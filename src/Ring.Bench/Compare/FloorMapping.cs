using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;

namespace Ring.Bench.Compare;

/// <summary>The floor's shared file on tmpfs, mapped; the harness's only raw pointer lives here.</summary>
internal sealed unsafe class FloorMapping : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly long _length;
    private int _disposed;

    private FloorMapping(MemoryMappedFile file, long length)
    {
        _file = file;
        _length = length;
        _view = file.CreateViewAccessor(0, length);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _base = pointer + _view.PointerOffset;
    }

    public static FloorMapping Create(string path, long length)
    {
        using FileStream stream = new(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        // Pages are allocated now, so a full /dev/shm fails here and not with SIGBUS inside a measured loop.
        stream.SetLength(length);
        stream.Write(new byte[length]);
        return Open(path, length);
    }

    public static FloorMapping Open(string path, long length) =>
        new(MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, length, MemoryMappedFileAccess.ReadWrite), length);

    public ref long Word(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((ulong)offset, (ulong)(_length - sizeof(long)));
        return ref Unsafe.AsRef<long>(_base + offset);
    }

    public Span<byte> Bytes(long offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((ulong)offset + (ulong)length, (ulong)_length);
        return new Span<byte>(_base + offset, length);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
