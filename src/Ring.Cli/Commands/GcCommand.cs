using System.CommandLine;

namespace Ring.Cli;

/// <summary>
/// <c>ring gc</c>: removes what crashed processes left behind: stale segments (every participant died without
/// detaching) and staging files of creates that never finished.
/// </summary>
internal static class GcCommand
{
    /// <summary>
    /// A staging file is only removed once this old: a create takes well under a second, and the age keeps gc off a
    /// create in progress whose pid this process cannot see (another pid namespace sharing the directory).
    /// </summary>
    private static readonly TimeSpan StagingGrace = TimeSpan.FromMinutes(1);

    public static Command Create()
    {
        Option<bool> dryRun = new("--dry-run", "-n") { Description = "Print what would be removed, remove nothing." };
        Option<uint[]> trustOwner = CliOptions.TrustOwner();
        Command command = new("gc", "Remove stale segments in the segment directory (every participant recorded in them is dead), " +
            "and staging files left by creates whose process died. Segments in use, and segments nobody is attached to " +
            "after a clean detach, are kept. Files that are not Ring segments are left alone, and so are staging files " +
            "that are not this user's own, or do not hold a Ring header in progress.")
        {
            dryRun, trustOwner,
        };
        command.SetBlockingAction((parsed, _) => Run(parsed.GetValue(dryRun), parsed.OpenOptions(trustOwner), Console.Out));
        return command;
    }

    private static int Run(bool dryRun, RingOpenOptions trust, TextWriter output)
    {
        string directory = RingSegment.DefaultDirectory;
        ScanResult scan = SegmentScan.Scan([directory], qualifiedNames: false, trust);
        string verb = dryRun ? "would remove" : "removed";
        int removed = 0;
        foreach (FoundSegment found in scan.Segments.Where(f => f.Status.IsStale))
        {
            SegmentStatus s = found.Status;
            // Judged again at the moment of removal: it may have come back to life, been removed, or been replaced.
            if (!dryRun && !RingSegment.UnlinkIfStale(s.Path, trust)) continue;
            removed++;
            output.WriteLine($"{verb} segment '{found.Name}': stale, {RmCommand.Describe(s.Participants)} dead; " +
                $"{StatusText.Number(s.MessagesInRing)} unread messages");
        }
        DateTime cutoff = DateTime.UtcNow - StagingGrace;
        foreach (StagingFile staging in scan.Staging.Where(f => f.LastWriteUtc < cutoff))
        {
            try
            {
                if (!SegmentFiles.UnlinkAbandonedStaging(staging.Path, staging.CreatorPid, trust, checkOnly: dryRun)) continue;
            }
            catch (Exception e) when (e is RingException or UnauthorizedAccessException)
            {
                output.WriteLine($"kept staging file '{staging.Path}': {Errors.OneLine(e)}");
                continue;
            }
            removed++;
            output.WriteLine($"{verb} staging file '{staging.Path}': its creator, pid {staging.CreatorPid}, died before publishing it");
        }
        int kept = scan.Segments.Count(f => !f.Status.IsStale);
        output.WriteLine($"gc: {verb} {removed}, kept {kept} segment{(kept == 1 ? "" : "s")} in {directory}");
        return ExitCode.Ok;
    }
}
