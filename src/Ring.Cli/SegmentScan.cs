using System.Globalization;
using System.Text.RegularExpressions;

namespace Ring.Cli;

/// <summary>A segment found in a directory, with its name as the user would pass it back to ring.</summary>
internal sealed record FoundSegment(string Name, SegmentStatus Status);

/// <summary>A directory entry that is not a usable segment, and why.</summary>
internal sealed record SkippedEntry(string Path, string Reason);

/// <summary>
/// A staging file of <c>RingSegment.Create</c> (<c>.NAME.PID.GUID.creating</c>): the creator builds the segment
/// under this name and links it into place, so one that stays behind belongs to a creator that died mid-way.
/// </summary>
internal sealed record StagingFile(string Path, int CreatorPid, DateTime LastWriteUtc);

/// <summary>What one scan of segment directories found.</summary>
internal sealed record ScanResult(
    IReadOnlyList<string> Directories,
    IReadOnlyList<FoundSegment> Segments,
    IReadOnlyList<StagingFile> Staging,
    IReadOnlyList<SkippedEntry> Skipped);

/// <summary>
/// Lists segment directories and reads each segment's status read-only (no participant entry). Anything that is
/// not a segment is skipped with a reason, never fatal: one junk file must not hide every other segment.
/// </summary>
internal static partial class SegmentScan
{
    /// <summary>Where every user's default directory is (/dev/shm/ring-&lt;uid&gt;), for --all-users.</summary>
    public const string SharedMemoryRoot = "/dev/shm";

    /// <summary>The default directories of every user: ring-&lt;uid&gt; under /dev/shm.</summary>
    public static IReadOnlyList<string> AllUserDirectories() =>
        Directory.Exists(SharedMemoryRoot)
            ? Directory.GetDirectories(SharedMemoryRoot, "ring-*")
                .Where(d => UserDirectoryPattern().IsMatch(Path.GetFileName(d)))
                .Order(StringComparer.Ordinal)
                .ToArray()
            : [];

    /// <param name="directories">Directories to list; one that does not exist has no segments (none created yet).</param>
    /// <param name="qualifiedNames">Name segments by absolute path (several directories), else by file name.</param>
    /// <param name="trust">Owners trusted besides the caller, for the directories and the segments.</param>
    public static ScanResult Scan(IReadOnlyList<string> directories, bool qualifiedNames, RingOpenOptions trust)
    {
        List<FoundSegment> segments = [];
        List<StagingFile> staging = [];
        List<SkippedEntry> skipped = [];
        foreach (string directory in directories)
        {
            FileSystemInfo[] entries;
            try
            {
                // Judged once here, so that a directory Ring refuses is one skipped entry rather than one per file in it.
                TrustedDirectory.Open(directory, trust).Dispose();
                entries = new DirectoryInfo(directory).GetFileSystemInfos();
            }
            catch (Exception e) when (e is SegmentNotFoundException or DirectoryNotFoundException)
            {
                continue;
            }
            catch (RingException e)
            {
                skipped.Add(new SkippedEntry(directory, Errors.OneLine(e)));
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                skipped.Add(new SkippedEntry(directory, "permission denied (another user's directory)"));
                continue;
            }
            foreach (FileSystemInfo entry in entries.OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                Match creating = StagingPattern().Match(entry.Name);
                if (creating.Success && entry is FileInfo)
                {
                    staging.Add(new StagingFile(entry.FullName, int.Parse(creating.Groups["pid"].Value, CultureInfo.InvariantCulture), entry.LastWriteTimeUtc));
                    continue;
                }
                string? notAFile = entry switch
                {
                    { LinkTarget: not null } => "a symbolic link",
                    DirectoryInfo => "a directory",
                    // A FIFO, socket or device also reports length 0, and opening a FIFO would block.
                    FileInfo { Length: 0 } => "empty, or not a regular file",
                    _ => null,
                };
                if (notAFile is not null)
                {
                    skipped.Add(new SkippedEntry(entry.FullName, notAFile));
                    continue;
                }
                try
                {
                    SegmentStatus status = RingSegment.Stat(entry.FullName, trust);
                    segments.Add(new FoundSegment(qualifiedNames ? entry.FullName : entry.Name, status));
                }
                catch (SegmentNotFoundException)
                {
                    // Removed since the directory was listed: it is simply not there any more.
                }
                catch (Exception e) when (e is RingException or UnauthorizedAccessException or ArgumentException)
                {
                    skipped.Add(new SkippedEntry(entry.FullName, Errors.OneLine(e)));
                }
            }
        }
        return new ScanResult(directories, segments, staging, skipped);
    }

    [GeneratedRegex("^ring-[0-9]+$")]
    private static partial Regex UserDirectoryPattern();

    // RingSegment.TryCreate's staging name: ".{name}.{pid}.{guid:N}.creating".
    [GeneratedRegex(@"^\..+\.(?<pid>[0-9]{1,9})\.[0-9a-f]{32}\.creating$")]
    private static partial Regex StagingPattern();
}
