using System.CommandLine;
using Ring.Nats;

namespace Ring.Cli;

/// <summary><c>ring bridge out|in</c>: a ring's messages to NATS, or a NATS subject's into a ring, until Ctrl+C or SIGTERM.</summary>
internal static class BridgeCommand
{
    public static Command Create() => new("bridge", "Forward a ring's messages to NATS (out), or NATS messages into a ring (in), one message for one message, " +
        "until Ctrl+C or SIGTERM; then a one-line summary on stderr (--json: on stdout). With --jetstream: at least once, the stream created " +
        "(bound to the subject, file storage) when missing. Without: core NATS, at most once.")
    {
        Direction("out", "Read the ring as a consumer (a subscriber of a broadcast ring) and publish each message to SUBJ. With --jetstream, a message " +
            "leaves the ring only once JetStream acknowledged it, and carries a Nats-Msg-Id from the segment and its position, so a bridge killed " +
            "and started again republishes what was unacknowledged and the stream stores it once (SPSC or broadcast rings). Ends, exit 0, when the ring is completed and drained."),
        Direction("in", "Subscribe to SUBJ and write each message into the ring as a producer. With --jetstream and --durable, a durable pull consumer: " +
            "a message is acknowledged after it is committed to the ring, and nothing is pulled while the ring is full."),
    };

    private static Command Direction(string direction, string description)
    {
        bool inward = direction == "in";
        Argument<string> name = CliOptions.SegmentName(inward ? "The segment to write into" : "The segment to read");
        Option<string> url = new("--nats") { Description = "The NATS server URL, e.g. nats://127.0.0.1:4222.", Required = true };
        Option<string> subject = new("--subject") { Description = "The NATS subject.", Required = true };
        Option<string?> stream = new("--jetstream") { Description = "Use JetStream with this stream (created when missing).", HelpName = "STREAM" };
        Option<string?> durable = new("--durable") { Description = "In, with --jetstream: the durable consumer's name (default: ring-NAME).", HelpName = "NAME" };
        Option<int?> window = CliOptions.Count("--window", inward
            ? "With --jetstream: messages asked for per pull (default 256)."
            : "With --jetstream: publishes awaiting their acknowledgement at once (default 256).");
        Option<bool> create = new("--create") { Description = "In: create the segment (SPSC, --capacity, --max-message) when it does not exist." };
        Option<long?> capacity = CliOptions.Size("--capacity", "With --create: bytes of record space, a power of two (default 1MiB)");
        Option<long?> maxMessage = CliOptions.Size("--max-message", "With --create: the largest message (default capacity/8)");
        Option<bool> json = CliOptions.Json("the summary (counters)");
        Option<uint[]> trustOwner = CliOptions.TrustOwner();
        Command command = new(direction, description) { name, url, subject, stream, window, json, trustOwner };
        if (inward)
        {
            command.Add(durable);
            command.Add(create);
            command.Add(capacity);
            command.Add(maxMessage);
        }
        command.SetBlockingAction((parsed, cancellationToken) =>
        {
            string segmentName = parsed.GetRequiredValue(name);
            string? streamName = parsed.GetValue(stream);
            BridgeOptions options = new()
            {
                Url = parsed.GetRequiredValue(url),
                Subject = parsed.GetRequiredValue(subject),
                Stream = streamName,
                Durable = inward && streamName is not null ? parsed.GetValue(durable) ?? $"ring-{segmentName}" : null,
                Window = parsed.GetValue(window) ?? 256,
                ConnectionName = $"ring bridge {direction} {segmentName}",
            };
            if (options.Window <= 0) throw new CliException(ExitCode.Usage, "--window: give at least 1.");
            RingOpenOptions trust = parsed.OpenOptions(trustOwner);
            using RingSegment segment = inward && parsed.GetValue(create)
                ? RingSegment.OpenOrCreate(segmentName, new RingOptions { Capacity = parsed.GetValue(capacity) ?? 0, MaxMessageLength = (int)(parsed.GetValue(maxMessage) ?? 0) }, trust)
                : RingSegment.Open(segmentName, trust);
            using BridgeCounters counters = new(direction, segmentName);
            Task run = inward
                ? RingNatsBridge.RunInAsync(segment, options, counters, cancellationToken)
                : RingNatsBridge.RunOutAsync(segment, options, counters, cancellationToken);
            // Said once, on stderr, for whoever starts publishing only when the bridge listens (a core subscription gets nothing sent before it).
            counters.Ready.ContinueWith(_ => Console.Error.WriteLine($"ring: bridge {direction} {segmentName}: ready"), TaskScheduler.Default);
            run.GetAwaiter().GetResult();
            if (parsed.GetValue(json)) Console.Out.WriteLine(counters.ToJson());
            else Console.Error.WriteLine($"ring: bridge {direction} {segmentName}: {counters}");
            return ExitCode.Ok;
        });
        return command;
    }
}
