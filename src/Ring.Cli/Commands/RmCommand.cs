using System.CommandLine;

namespace Ring.Cli;

/// <summary><c>ring rm</c>: removes a segment's name, like ipcrm; refuses while a live process is attached.</summary>
internal static class RmCommand
{
    public static Command Create()
    {
        Argument<string> name = CliOptions.SegmentName("The segment to remove");
        Option<bool> force = new("--force", "-f")
        {
            Description = "Remove it even while live processes are attached; they keep their mapping (and go on talking to each other) until they detach. " +
                "Also removes a Ring segment whose header is unusable (truncated or corrupted), whose participants cannot be read.",
        };
        Option<uint[]> trustOwner = CliOptions.TrustOwner();
        Command command = new("rm", "Remove a segment. Refused (exit 4) while a live participant is attached, unless --force. " +
            "Only Ring segments are removed: a file that is not one (no Ring magic, not a regular file) is left alone (exit 6), " +
            "and so is one that another user owns unless trusted (exit 4).")
        {
            name, force, trustOwner,
        };
        command.SetBlockingAction((parsed, _) => Run(parsed.GetRequiredValue(name), parsed.OpenOptions(trustOwner), parsed.GetValue(force), Console.Out));
        return command;
    }

    private static int Run(string name, RingOpenOptions trust, bool force, TextWriter output)
    {
        // Checked, then unlinked: a process attaching in between still works, on a segment no one else can open
        // any more; that is what --force does on purpose, and ipcrm has the same window.
        ParticipantStatus[] live;
        try
        {
            live = RingSegment.Stat(name, trust).Participants.Where(p => p.IsAlive).ToArray();
        }
        catch (SegmentFormatException) when (force)
        {
            // No participant table to read; Unlink still removes only a Ring file (by its magic) of a trusted owner.
            live = [];
        }
        catch (SegmentFormatException e) when (e.Field is not ("FileType" or "Magic"))
        {
            throw new CliException(ExitCode.NotASegment, $"{Errors.OneLine(e)} 'ring rm --force' removes it.");
        }
        if (live.Length > 0 && !force)
        {
            throw new CliException(ExitCode.Refused,
                $"segment '{name}' has {live.Length} live participant{(live.Length == 1 ? "" : "s")} ({Describe(live)}); --force removes it anyway.");
        }
        if (!RingSegment.Unlink(name, trust)) throw new CliException(ExitCode.NotFound, $"segment '{name}' was removed by someone else meanwhile.");
        output.WriteLine(live.Length == 0
            ? $"removed '{name}'"
            : $"removed '{name}'; {Describe(live)} keep{(live.Length == 1 ? "s" : "")} its mapping until detaching");
        return ExitCode.Ok;
    }

    public static string Describe(IEnumerable<ParticipantStatus> participants) =>
        string.Join(", ", participants.Select(p => $"{StatusText.Role(p.Roles)} pid {p.Pid}"));
}
