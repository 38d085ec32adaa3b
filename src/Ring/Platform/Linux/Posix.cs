using System.Globalization;

namespace Ring.Platform.Linux;

/// <summary>The file, mapping, lock and process calls Ring makes, with errors turned into exceptions.</summary>
internal static unsafe class Posix
{
    public static uint EffectiveUid => LibC.GetEuid();

    /// <summary>Opens a path without following a symbolic link in its last component.</summary>
    public static FileDescriptorHandle Open(string path, int flags, UnixFileMode mode) =>
        Checked(LibC.Open(path, flags | LibC.O_CLOEXEC | LibC.O_NOFOLLOW, (uint)mode), path);

    /// <summary>
    /// Opens <paramref name="name"/> in <paramref name="directory"/> (an entry name, not a path), without following a
    /// symbolic link; <paramref name="path"/> is only for messages.
    /// </summary>
    public static FileDescriptorHandle OpenAt(FileDescriptorHandle directory, string name, int flags, UnixFileMode mode, string path) =>
        Checked(LibC.OpenAt(directory.Fd, name, flags | LibC.O_CLOEXEC | LibC.O_NOFOLLOW, (uint)mode), path);

    private static FileDescriptorHandle Checked(int fd, string path) =>
        fd >= 0 ? new FileDescriptorHandle(fd) : throw Errno.FromLast("open", path);

    /// <summary>
    /// A new open file description of the same inode as <paramref name="file"/> (not of a path, which may
    /// have been unlinked and reused since): OFD locks conflict between descriptions, even in one process.
    /// </summary>
    public static FileDescriptorHandle Reopen(FileDescriptorHandle file, int flags, string path)
    {
        int fd = LibC.Open($"/proc/self/fd/{file.Fd.ToString(CultureInfo.InvariantCulture)}", flags | LibC.O_CLOEXEC, 0);
        if (fd < 0) throw Errno.FromLast("reopen", path);
        return new FileDescriptorHandle(fd);
    }

    public static void SetMode(FileDescriptorHandle file, UnixFileMode mode, string path)
    {
        if (LibC.FChmod(file.Fd, (uint)mode) != 0) throw Errno.FromLast("fchmod", path);
    }

    /// <summary>Sets the length and reserves every page now, so a full tmpfs fails here and not as SIGBUS later.</summary>
    public static void Allocate(FileDescriptorHandle file, long length, string path)
    {
        if (LibC.FTruncate(file.Fd, length) != 0) throw Errno.FromLast("ftruncate", path);
        int error = LibC.PosixFallocate(file.Fd, 0, length);
        if (error == LibC.ENOSPC)
            throw new SegmentSpaceException($"no room for a {length}-byte segment at '{path}': {Errno.Describe(error)}");
        if (error != 0) throw Errno.ToException(error, "posix_fallocate", path);
    }

    /// <summary>What statx reports; <paramref name="Format"/> is the S_IFMT bits of the mode.</summary>
    public readonly record struct FileInfo(uint OwnerUid, UnixFileMode Mode, long Length, ulong Inode, int Format)
    {
        public bool IsRegularFile => Format == LibC.S_IFREG;

        public bool IsDirectory => Format == LibC.S_IFDIR;

        public bool IsSymbolicLink => Format == LibC.S_IFLNK;

        /// <summary>The kind of file in a few words, for messages.</summary>
        public string Describe() => Format switch
        {
            LibC.S_IFREG => "a regular file",
            LibC.S_IFDIR => "a directory",
            LibC.S_IFLNK => "a symbolic link",
            LibC.S_IFIFO => "a FIFO",
            LibC.S_IFSOCK => "a socket",
            LibC.S_IFCHR => "a character device",
            LibC.S_IFBLK => "a block device",
            _ => $"a file of type 0x{Format:X}",
        };
    }

    /// <summary>The file the descriptor refers to (an O_PATH descriptor included).</summary>
    public static FileInfo Stat(FileDescriptorHandle file, string path) => StatAt(file.Fd, "", LibC.AT_EMPTY_PATH, path);

    /// <summary>The entry <paramref name="name"/> of <paramref name="directory"/> itself: a symbolic link is not followed.</summary>
    public static FileInfo StatAt(FileDescriptorHandle directory, string name, string path) =>
        StatAt(directory.Fd, name, LibC.AT_SYMLINK_NOFOLLOW, path);

    private static FileInfo StatAt(int directory, string name, int flags, string path)
    {
        LibC.Statx statx;
        if (LibC.StatxCall(directory, name, flags, LibC.STATX_BASIC_STATS, &statx) != 0)
            throw Errno.FromLast("statx", path);
        return new FileInfo(statx.stx_uid, (UnixFileMode)(statx.stx_mode & 0xFFF), (long)statx.stx_size, statx.stx_ino, statx.stx_mode & LibC.S_IFMT);
    }

    /// <summary>Reads up to <paramref name="buffer"/>'s length at <paramref name="offset"/>; returns how many bytes there were.</summary>
    public static int ReadAt(FileDescriptorHandle file, Span<byte> buffer, long offset, string path)
    {
        fixed (byte* destination = buffer)
        {
            nint read;
            do read = LibC.Pread(file.Fd, destination, (nuint)buffer.Length, offset);
            while (read < 0 && Errno.Last == LibC.EINTR);
            if (read < 0) throw Errno.FromLast("pread", path);
            return (int)read;
        }
    }

    public static MappingHandle Map(FileDescriptorHandle file, long length, bool writable, string path)
    {
        int protection = writable ? LibC.PROT_READ | LibC.PROT_WRITE : LibC.PROT_READ;
        nint address = LibC.Mmap(0, (nuint)length, protection, LibC.MAP_SHARED, file.Fd, 0);
        if (address == -1) throw Errno.FromLast("mmap", path);
        return new MappingHandle(address, length);
    }

    /// <summary>Gives the file a second name in the same directory; fails with EEXIST rather than replacing anything.</summary>
    public static bool TryLinkAt(FileDescriptorHandle directory, string existing, string created, string path)
    {
        if (LibC.LinkAt(directory.Fd, existing, directory.Fd, created, 0) == 0) return true;
        int errno = Errno.Last;
        if (errno == LibC.EEXIST) return false;
        throw Errno.ToException(errno, "link", path);
    }

    public static void UnlinkAt(FileDescriptorHandle directory, string name, string path)
    {
        if (LibC.UnlinkAt(directory.Fd, name, 0) != 0) throw Errno.FromLast("unlink", path);
    }

    /// <summary>
    /// Takes an exclusive open-file-description lock on one byte. The kernel drops it when the descriptor is
    /// closed, including when the process dies, which is what makes it a liveness signal pids cannot fake.
    /// </summary>
    public static bool TryLockByte(FileDescriptorHandle file, long offset)
    {
        LibC.Flock request = new() { l_type = LibC.F_WRLCK, l_whence = LibC.SEEK_SET, l_start = offset, l_len = 1 };
        if (LibC.Fcntl(file.Fd, LibC.F_OFD_SETLK, &request) == 0) return true;
        int errno = Errno.Last;
        if (errno is LibC.EAGAIN or LibC.EACCES) return false;
        throw Errno.ToException(errno, "fcntl(F_OFD_SETLK)", $"byte {offset}");
    }

    public static void UnlockByte(FileDescriptorHandle file, long offset)
    {
        LibC.Flock request = new() { l_type = LibC.F_UNLCK, l_whence = LibC.SEEK_SET, l_start = offset, l_len = 1 };
        if (LibC.Fcntl(file.Fd, LibC.F_OFD_SETLK, &request) != 0)
            throw Errno.FromLast("fcntl(F_OFD_SETLK unlock)", $"byte {offset}");
    }

    /// <summary>True when some other open file description holds a lock on the byte.</summary>
    public static bool IsByteLocked(FileDescriptorHandle file, long offset)
    {
        LibC.Flock query = new() { l_type = LibC.F_WRLCK, l_whence = LibC.SEEK_SET, l_start = offset, l_len = 1 };
        if (LibC.Fcntl(file.Fd, LibC.F_OFD_GETLK, &query) != 0)
            throw Errno.FromLast("fcntl(F_OFD_GETLK)", $"byte {offset}");
        return query.l_type != LibC.F_UNLCK;
    }

    /// <summary>
    /// Whether a process with this id exists, seen from this pid namespace. A reused pid counts as alive: the safe
    /// side for a caller deciding whether that process's leftovers may go.
    /// </summary>
    public static bool ProcessExists(int pid) => pid > 0 && Directory.Exists($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>
    /// The process start time in clock ticks since boot (field 22 of /proc/self/stat); with the pid it
    /// names a process instance, since pids are reused.
    /// </summary>
    public static long ProcessStartTicks(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            // The command name (field 2) may hold spaces and parentheses; fields after the last ')' are plain.
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[19], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
