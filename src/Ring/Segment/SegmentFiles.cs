using Ring.Mpmc;
using Ring.Platform.Linux;

namespace Ring;

/// <summary>A segment file open and mapped, its header validated: what a <see cref="RingSegment"/> is built on.</summary>
internal sealed record MappedSegmentFile(FileDescriptorHandle File, MappingHandle Mapping, SegmentHeader Header) : IDisposable
{
    public void Dispose()
    {
        Mapping.Dispose();
        File.Dispose();
    }
}

/// <summary>
/// Creating, opening and removing segment files: every file operation goes through a <see cref="TrustedDirectory"/>,
/// and whatever is opened is mapped only after its header has been checked against the file's real length.
/// </summary>
internal static class SegmentFiles
{
    /// <summary>
    /// Creates the segment file, or returns null when the name is taken. The segment is built under a private name and
    /// linked into place: the name appears only once the header is complete, so no opener can see a half-initialised
    /// segment, and link fails rather than replacing a segment another process published first.
    /// </summary>
    public static MappedSegmentFile? TryCreate(string path, RingOptions options, RingOpenOptions openOptions)
    {
        using TrustedDirectory directory = TrustedDirectory.OpenOrCreate(Path.GetDirectoryName(path)!, openOptions);
        string fileName = Path.GetFileName(path);
        string stagingName = $".{fileName}.{Environment.ProcessId}.{Guid.NewGuid():N}.creating";
        string staging = directory.PathOf(stagingName);
        FileDescriptorHandle file = directory.CreateFile(stagingName, options.Mode);
        MappingHandle? mapping = null;
        try
        {
            Posix.SetMode(file, options.Mode, staging); // the umask must not narrow what the creator asked for
            long length = SegmentLayout.FileLengthFor(options.EffectiveCapacity);
            Posix.Allocate(file, length, path);
            mapping = Posix.Map(file, length, writable: true, staging);
            SegmentHeader header = new(
                options.Kind,
                options.EffectiveCapacity,
                options.EffectiveMaxMessageLength,
                length,
                Environment.ProcessId,
                Posix.EffectiveUid,
                UnixTime.NowNs(),
                options.Mode,
                (int)options.EffectiveSlotCount,
                options.SlotStride,
                options.MessageType.Size,
                options.MessageType.Tag,
                options.EffectiveOverflow);
            SharedBuffer buffer = new(mapping.DangerousGetHandle(), length);
            if (options.Kind == RingKind.Mpmc) MpmcProtocol.InitialiseSlots(buffer, (int)options.EffectiveSlotCount, options.SlotStride);
            header.WriteTo(buffer); // publishes: last
            if (!directory.TryLink(stagingName, fileName))
            {
                mapping.Dispose();
                file.Dispose();
                return null;
            }
            return new MappedSegmentFile(file, mapping, header);
        }
        catch
        {
            mapping?.Dispose();
            file.Dispose();
            throw;
        }
        finally
        {
            directory.UnlinkIfPresent(stagingName);
        }
    }

    /// <summary>Opens and maps an existing segment file, checking its header.</summary>
    public static MappedSegmentFile Open(string name, string path, TrustedDirectory directory, bool readOnly)
    {
        FileDescriptorHandle file;
        Posix.FileInfo info;
        try
        {
            file = directory.OpenFile(Path.GetFileName(path), readOnly ? LibC.O_RDONLY : LibC.O_RDWR, out info);
        }
        catch (SegmentNotFoundException)
        {
            throw NotFound(name, path);
        }
        MappingHandle? mapping = null;
        try
        {
            if (info.Length < SegmentLayout.HeaderLength) throw SegmentHeader.TooShort(file, info.Length, path);
            // Map exactly the length seen now; the header must then fit inside it. Nothing read later can
            // index past this mapping.
            mapping = Posix.Map(file, info.Length, writable: !readOnly, path);
            SegmentHeader header = SegmentHeader.ReadFrom(new SharedBuffer(mapping.DangerousGetHandle(), info.Length), info.Length, path);
            return new MappedSegmentFile(file, mapping, header);
        }
        catch
        {
            mapping?.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>Opens the directory of <paramref name="path"/>; a missing one means there is no such segment.</summary>
    public static TrustedDirectory OpenDirectory(string name, string path, RingOpenOptions openOptions)
    {
        try
        {
            return TrustedDirectory.Open(Path.GetDirectoryName(path)!, openOptions);
        }
        catch (SegmentNotFoundException)
        {
            throw NotFound(name, path);
        }
    }

    /// <summary>
    /// Removes the name only if it is a regular file (not a symbolic link) of a trusted owner starting with Ring's
    /// magic, and only while it still refers to the file that was checked; otherwise a typed error says why.
    /// </summary>
    /// <returns>False when there was no such segment.</returns>
    public static bool Unlink(string name, RingOpenOptions openOptions)
    {
        string path = SegmentDirectory.Resolve(name);
        string fileName = Path.GetFileName(path);
        try
        {
            using TrustedDirectory directory = OpenDirectory(name, path, openOptions);
            using FileDescriptorHandle file = directory.OpenFile(fileName, LibC.O_RDONLY, out Posix.FileInfo info);
            ulong magic = SegmentHeader.ReadMagic(file, path);
            if (magic != SegmentLayout.Magic)
                throw new SegmentFormatException("Magic", $"'{path}' is not a Ring segment: Magic: 0x{magic:X16}; it is left where it is.");
            return directory.UnlinkIfSameFile(fileName, info.Inode);
        }
        catch (SegmentNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// <c>ring gc</c>: removes a staging file a create left behind, and only one that is certainly that: a regular
    /// file of the caller's own (a trusted owner's is not enough), whose creator is dead, holding a header in
    /// progress: empty (the creator died before sizing it), or sized, with the magic still zero or already Ring's
    /// (died before linking). Anything else stays, with a typed error saying why. With checkOnly it judges and
    /// removes nothing.
    /// </summary>
    /// <returns>False when it was gone already.</returns>
    public static bool UnlinkAbandonedStaging(string path, int creatorPid, RingOpenOptions openOptions, bool checkOnly)
    {
        string fileName = Path.GetFileName(path);
        try
        {
            using TrustedDirectory directory = TrustedDirectory.Open(Path.GetDirectoryName(path)!, openOptions);
            using FileDescriptorHandle file = directory.OpenFile(fileName, LibC.O_RDONLY, out Posix.FileInfo info, callersOnly: true);
            if (Posix.ProcessExists(creatorPid))
                throw new RingException($"staging file '{path}': its creator, pid {creatorPid}, is still running");
            ulong magic = info.Length < SegmentLayout.HeaderLength ? 0 : SegmentHeader.ReadMagic(file, path);
            string? notAHeader = info.Length is > 0 and < SegmentLayout.HeaderLength ? $"{info.Length} bytes, neither empty nor a whole header"
                : magic is not (0 or SegmentLayout.Magic) ? $"magic 0x{magic:X16}"
                : null;
            if (notAHeader is not null)
                throw new SegmentFormatException("Magic", $"staging file '{path}' does not hold a Ring header in progress: {notAHeader}");
            return checkOnly || directory.UnlinkIfSameFile(fileName, info.Inode);
        }
        catch (SegmentNotFoundException)
        {
            return false;
        }
    }

    private static SegmentNotFoundException NotFound(string name, string path) => new($"no segment '{name}' at '{path}'");
}
