using Ring.Platform.Linux;

namespace Ring;

/// <summary>
/// A segment directory opened once and checked through that descriptor: a directory (not a symbolic link to one),
/// owned by the caller or an owner it trusts, writable by nobody else. Every file operation after the check is
/// relative to the descriptor, so a directory renamed or replaced afterwards (in /dev/shm anyone can do that to a
/// directory of their own) cannot redirect it; and since only trusted users can write the directory itself, a
/// name checked in it keeps referring to the file that was checked.
/// </summary>
internal sealed class TrustedDirectory : IDisposable
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode WritableByOthers = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    private readonly FileDescriptorHandle _directory;

    private TrustedDirectory(string path, FileDescriptorHandle directory, RingOpenOptions trust)
    {
        Path = path;
        _directory = directory;
        Trust = trust;
    }

    public string Path { get; }

    public RingOpenOptions Trust { get; }

    /// <exception cref="SegmentNotFoundException">There is no such directory.</exception>
    /// <exception cref="SegmentAccessException">It is not one Ring may trust.</exception>
    public static TrustedDirectory Open(string path, RingOpenOptions trust)
    {
        // O_PATH: a directory the caller may only search (a trusted owner's 0750 one) opens too, and a symbolic
        // link opens as itself, to be refused below rather than followed.
        FileDescriptorHandle directory = Posix.Open(path, LibC.O_PATH, 0);
        try
        {
            Posix.FileInfo info = Posix.Stat(directory, path);
            if (info.IsSymbolicLink)
                throw Refused(path, info, $"segment directory '{path}' is a symbolic link, which Ring does not follow: give the directory itself");
            if (!info.IsDirectory) throw new RingException($"segment directory '{path}' is {info.Describe()}, not a directory");
            if (!trust.Trusts(info.OwnerUid))
            {
                throw Refused(path, info, $"segment directory '{path}' belongs to uid {info.OwnerUid}, mode {FormatMode(info.Mode)}: " +
                    $"neither this user (uid {Posix.EffectiveUid}) nor an owner it trusts, and its owner can replace the segments in it. " +
                    $"Use a directory of your own, or trust uid {info.OwnerUid} explicitly (RingOpenOptions.TrustedOwners, ring --trust-owner)");
            }
            if ((info.Mode & WritableByOthers) != 0)
            {
                string who = (info.Mode & WritableByOthers) == WritableByOthers ? "its group and others" : (info.Mode & UnixFileMode.GroupWrite) != 0 ? "its group" : "others";
                throw Refused(path, info, $"segment directory '{path}' belongs to uid {info.OwnerUid}, mode {FormatMode(info.Mode)}: " +
                    $"writable by {who}, who could replace the segments in it. Take that permission away (chmod go-w) or use another directory");
            }
            return new TrustedDirectory(path, directory, trust);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Opens the directory, creating it (and missing parents) 0700 when it does not exist.</summary>
    public static TrustedDirectory OpenOrCreate(string path, RingOpenOptions trust)
    {
        try
        {
            return Open(path, trust);
        }
        catch (SegmentNotFoundException)
        {
            Directory.CreateDirectory(path, Private);
            return Open(path, trust);
        }
    }

    public string PathOf(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>
    /// Opens a file once it is known to be a regular file of a trusted owner. The entry is opened O_PATH first,
    /// which neither follows a symbolic link nor opens a FIFO (that would block) or a device for I/O; the checks run
    /// on that descriptor, and the file is then reopened through it, so what is opened is what was checked. With
    /// callersOnly a trusted owner's file is not enough: it must be the caller's own.
    /// </summary>
    /// <exception cref="SegmentNotFoundException">There is no such entry.</exception>
    /// <exception cref="SegmentFormatException">The entry is not a regular file (field FileType).</exception>
    /// <exception cref="SegmentAccessException">A symbolic link, or a file of an owner not trusted.</exception>
    public FileDescriptorHandle OpenFile(string name, int flags, out Posix.FileInfo info, bool callersOnly = false)
    {
        string path = PathOf(name);
        using FileDescriptorHandle entry = Posix.OpenAt(_directory, name, LibC.O_PATH, 0, path);
        info = Posix.Stat(entry, path);
        if (info.IsSymbolicLink) throw Refused(path, info, $"'{path}' is a symbolic link, which Ring does not follow: give the file itself");
        if (!info.IsRegularFile)
            throw new SegmentFormatException("FileType", $"'{path}' is not a usable Ring segment: FileType: {info.Describe()}, not a regular file.");
        uint me = Posix.EffectiveUid;
        if (callersOnly && info.OwnerUid != me)
            throw Refused(path, info, $"'{path}' belongs to uid {info.OwnerUid}, mode {FormatMode(info.Mode)}, not to this user (uid {me})");
        if (!Trust.Trusts(info.OwnerUid))
        {
            throw Refused(path, info, $"segment '{path}' belongs to uid {info.OwnerUid}, mode {FormatMode(info.Mode)}: " +
                $"neither this user (uid {me}) nor an owner it trusts, and its owner can change what its readers see or truncate it under them. " +
                $"Trust uid {info.OwnerUid} explicitly to use it (RingOpenOptions.TrustedOwners, ring --trust-owner)");
        }
        return Posix.Reopen(entry, flags, path);
    }

    /// <summary>Creates a file that must not exist yet, as anything: a symbolic link in its place fails too.</summary>
    public FileDescriptorHandle CreateFile(string name, UnixFileMode mode) =>
        Posix.OpenAt(_directory, name, LibC.O_RDWR | LibC.O_CREAT | LibC.O_EXCL, mode, PathOf(name));

    /// <summary>Gives <paramref name="existing"/> the name <paramref name="created"/>; false when that name is taken.</summary>
    public bool TryLink(string existing, string created) => Posix.TryLinkAt(_directory, existing, created, PathOf(created));

    /// <summary>Removes a name that may already be gone.</summary>
    public void UnlinkIfPresent(string name)
    {
        try
        {
            Posix.UnlinkAt(_directory, name, PathOf(name));
        }
        catch (SegmentNotFoundException)
        {
        }
    }

    /// <summary>
    /// Removes <paramref name="name"/> only while it still refers to the file that was judged; a file put there
    /// since (only the directory's trusted writers can) is left alone.
    /// </summary>
    /// <returns>False when the name is gone or refers to another file.</returns>
    public bool UnlinkIfSameFile(string name, ulong inode)
    {
        string path = PathOf(name);
        try
        {
            if (Posix.StatAt(_directory, name, path).Inode != inode) return false;
            Posix.UnlinkAt(_directory, name, path);
            return true;
        }
        catch (SegmentNotFoundException)
        {
            return false;
        }
    }

    public void Dispose() => _directory.Dispose();

    private static SegmentAccessException Refused(string path, Posix.FileInfo info, string message) => new(path, info.OwnerUid, info.Mode, message);

    private static string FormatMode(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');
}
