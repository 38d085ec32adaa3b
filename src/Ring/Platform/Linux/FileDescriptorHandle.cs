using Microsoft.Win32.SafeHandles;

namespace Ring.Platform.Linux;

/// <summary>An open file descriptor; closing it also drops every OFD lock taken through it.</summary>
internal sealed class FileDescriptorHandle : SafeHandleMinusOneIsInvalid
{
    public FileDescriptorHandle() : base(ownsHandle: true) { }

    public FileDescriptorHandle(int fd) : base(ownsHandle: true) => SetHandle(fd);

    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => LibC.Close((int)handle) == 0;
}

/// <summary>A shared mapping of a whole segment file; released with munmap.</summary>
internal sealed class MappingHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public MappingHandle(nint address, long length) : base(ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
    }

    public long Length { get; }

    protected override bool ReleaseHandle() => LibC.Munmap(handle, (nuint)Length) == 0;
}
