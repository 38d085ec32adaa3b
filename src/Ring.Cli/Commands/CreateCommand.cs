using System.CommandLine;

namespace Ring.Cli;

/// <summary><c>ring create</c>: a new segment, sized by options that map one to one onto RingOptions.</summary>
internal static class CreateCommand
{
    public static Command Create()
    {
        Argument<string> name = CliOptions.SegmentName("The new segment");
        Option<string> kind = new("--kind")
        {
            Description = "spsc: one producer, one consumer, variable-length messages in a byte ring; mpmc: any number of each, one message per fixed-size slot; " +
                "broadcast: one publisher, subscribers that each get every message.",
            DefaultValueFactory = _ => "spsc",
        };
        kind.AcceptOnlyFromAmong("spsc", "mpmc", "broadcast");
        Option<string?> overflow = new("--overflow")
        {
            Description = "Broadcast: what the publisher does when the slowest subscriber is a ring behind: block (default) waits for it; " +
                "overwrite never waits, and a subscriber that was lapped is told how many messages it lost.",
        };
        overflow.AcceptOnlyFromAmong("block", "overwrite");
        Option<long?> capacity = CliOptions.Size("--capacity", "SPSC, broadcast: bytes of record space, a power of two (default 1MiB)");
        Option<long?> maxMessage = CliOptions.Size("--max-message", "Largest message (SPSC: default and upper bound capacity/8; broadcast: capacity/8 - 8; MPMC: the slot payload)");
        Option<long?> slotSize = CliOptions.Size("--slot-size", "MPMC: the slot payload, i.e. the largest message (default 240B); same as --max-message");
        Option<int?> slots = CliOptions.Count("--slots", "MPMC: the number of slots, a power of two (default 1024).");
        Option<UnixFileMode?> mode = new("--mode")
        {
            Description = "Permission bits of the segment file, in octal (default 0600; the owner needs read and write).",
            HelpName = "OCTAL",
            CustomParser = result => CliOptions.Parse<UnixFileMode>(result, Units.TryParseMode),
        };
        Command command = new("create", "Create a segment. Options the library rejects (an SPSC ring with --slots, a capacity that " +
            "is not a power of two...) fail with its message and exit code 2; a name already taken gives 4.")
        {
            name, kind, overflow, capacity, maxMessage, slotSize, slots, mode,
        };
        command.Validators.Add(r =>
        {
            if (r.GetResult(maxMessage) is not null && r.GetResult(slotSize) is not null)
                r.AddError("--max-message and --slot-size both set the largest message: give one.");
        });
        command.SetBlockingAction((parsed, _) =>
        {
            RingKind ringKind = parsed.GetValue(kind) switch { "mpmc" => RingKind.Mpmc, "broadcast" => RingKind.Broadcast, _ => RingKind.Spsc };
            bool mpmc = ringKind == RingKind.Mpmc;
            long? payload = parsed.GetValue(maxMessage) ?? parsed.GetValue(slotSize);
            if (ringKind != RingKind.Broadcast && parsed.GetValue(overflow) is not null)
                throw new CliException(ExitCode.Usage, "--overflow is for a broadcast ring: an SPSC or MPMC producer always waits for room.");
            if (!mpmc && parsed.GetValue(slotSize) is not null)
                throw new CliException(ExitCode.Usage, "--slot-size sizes an MPMC slot: an SPSC ring is sized with --capacity and --max-message.");
            if (payload > int.MaxValue)
                throw new CliException(ExitCode.Usage, $"--max-message: {payload} bytes is more than any ring carries in one message.");
            RingOptions options = new()
            {
                Kind = ringKind,
                Overflow = parsed.GetValue(overflow) == "overwrite" ? BroadcastOverflow.Overwrite : BroadcastOverflow.Block,
                Capacity = parsed.GetValue(capacity) ?? 0, // 0: the library's default
                SlotCount = parsed.GetValue(slots) ?? 0,
                MaxMessageLength = (int)(payload ?? 0),
                Mode = parsed.GetValue(mode) ?? new RingOptions().Mode,
            };
            return Run(parsed.GetRequiredValue(name), options, Console.Out);
        });
        return command;
    }

    private static int Run(string name, RingOptions options, TextWriter output)
    {
        SegmentStatus status;
        try
        {
            using RingSegment segment = RingSegment.Create(name, options);
            status = segment.GetStatus();
        }
        catch (ArgumentOutOfRangeException e) when (OptionFor(e.ParamName) is { } option)
        {
            throw new CliException(ExitCode.Usage, $"{option}: {Errors.OneLine(e)}");
        }
        string size = status.Kind == RingKind.Mpmc
            ? $"{status.SlotCount} slots of {Units.FormatSize(status.MaxMessageLength)}"
            : $"capacity {Units.FormatSize(status.Capacity)}, largest message {Units.FormatSize(status.MaxMessageLength)}" +
              (status.Kind == RingKind.Broadcast ? $", overflow {options.Overflow.ToString().ToLowerInvariant()}" : "");
        output.WriteLine($"created {StatusText.Kind(status.Kind)} segment '{name}' at {status.Path}: {size}, mode {Units.FormatMode(status.Mode)}");
        return ExitCode.Ok;
    }

    /// <summary>The option behind a RingOptions property the library's validation names.</summary>
    private static string? OptionFor(string? property) => property switch
    {
        nameof(RingOptions.Kind) => "--kind",
        nameof(RingOptions.Capacity) => "--capacity",
        nameof(RingOptions.SlotCount) => "--slots",
        nameof(RingOptions.MaxMessageLength) => "--max-message/--slot-size",
        nameof(RingOptions.Mode) => "--mode",
        nameof(RingOptions.Overflow) => "--overflow",
        _ => null,
    };
}
