using System.CommandLine;
using System.Globalization;

namespace Ring.Cli;

/// <summary><c>ring ls</c>: every segment in the segment directory, like ipcs -m.</summary>
internal static class LsCommand
{
    public static Command Create()
    {
        Option<bool> allUsers = new("--all-users")
        {
            Description = $"List every user's default directory ({SegmentScan.SharedMemoryRoot}/ring-<uid>) instead of this one's; names are then absolute paths. " +
                "Another user's directory is listed only if --trust-owner names that user, root's command included.",
        };
        Option<bool> json = CliOptions.Json("the listing");
        Option<uint[]> trustOwner = CliOptions.TrustOwner();
        Command command = new("ls", "List the segments: kind, capacity, how full, whether the stream is open or completed, participants (live/dead), stale or not, mode, owner. " +
            "Files that are not Ring segments are skipped and counted (--verbose lists them).")
        {
            allUsers, json, trustOwner,
        };
        command.SetBlockingAction((parsed, _) => Run(parsed.GetValue(allUsers), parsed.GetValue(json), parsed.GetValue(CliOptions.Verbose),
            parsed.OpenOptions(trustOwner), Console.Out));
        return command;
    }

    private static int Run(bool allUsers, bool json, bool verbose, RingOpenOptions trust, TextWriter output)
    {
        IReadOnlyList<string> directories = allUsers ? SegmentScan.AllUserDirectories() : [RingSegment.DefaultDirectory];
        ScanResult scan = SegmentScan.Scan(directories, qualifiedNames: allUsers, trust);
        // Staging files count as skipped: they are not segments (yet, or any more).
        SkippedEntry[] skipped =
        [
            .. scan.Skipped,
            .. scan.Staging.Select(s => new SkippedEntry(s.Path, $"staging file of a create by pid {s.CreatorPid} (in progress, or interrupted: 'ring gc' removes it)")),
        ];
        if (json)
        {
            output.WriteLine(JsonModel.Listing(directories, scan.Segments, skipped));
            return ExitCode.Ok;
        }
        if (scan.Segments.Count > 0)
        {
            List<string[]> rows = [["NAME", "KIND", "CAPACITY", "USED", "MSGS", "STREAM", "LIVE/DEAD", "STALE", "MODE", "OWNER"]];
            foreach (FoundSegment found in scan.Segments)
            {
                SegmentStatus s = found.Status;
                int live = s.Participants.Count(p => p.IsAlive);
                rows.Add(
                [
                    found.Name,
                    StatusText.Kind(s.Kind),
                    Units.FormatSize(s.Capacity),
                    $"{Units.FormatSize(s.BytesInRing)} ({StatusText.Percent(s.BytesInRing, s.Capacity)})",
                    StatusText.Number(s.MessagesInRing),
                    s.IsCompleted ? "completed" : "open",
                    $"{live}/{s.Participants.Count - live}",
                    s.IsStale ? "yes" : "no",
                    Units.FormatMode(s.Mode),
                    Users.Name(s.OwnerUid),
                ]);
            }
            Table.Write(output, rows);
        }
        string where = directories.Count == 1 ? directories[0] : $"{directories.Count} directories";
        string summary = $"{scan.Segments.Count} segment{(scan.Segments.Count == 1 ? "" : "s")} in {where}";
        if (skipped.Length > 0)
        {
            summary += $"; {skipped.Length.ToString(CultureInfo.InvariantCulture)} other entr{(skipped.Length == 1 ? "y" : "ies")} skipped" +
                (verbose ? ":" : " (--verbose lists them)");
        }
        output.WriteLine(summary);
        if (verbose)
        {
            foreach (SkippedEntry s in skipped) output.WriteLine($"  {s.Path}: {s.Reason}");
        }
        return ExitCode.Ok;
    }
}
