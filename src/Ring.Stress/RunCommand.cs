using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using Ring.Tooling;

namespace Ring.Stress;

/// <summary>
/// The root command: a whole stress run (or a fixed profile of runs), and the hidden <c>participant</c>
/// subcommand the processes mode starts its workers with.
/// </summary>
public static class RunCommand
{
    /// <summary>Exit code of a run with a violation.</summary>
    public const int ExitViolations = 1;

    private const string Accounting =
        "Accounting: every (re)started producer takes a fresh producer id, so no sequence is ever reused. Committed = for a producer " +
        "that finished, the count it recorded after its last commit; for a killed one, one past the highest sequence a consumer took " +
        "(claims it never committed are invisible by design). Consumers record each message in a shared ledger file (not the ring): " +
        "HELD inside the read handler, DONE when the read returned. lost = committed, never taken (violation); lost_in_delivery = " +
        "taken by a consumer that was killed before its read returned (MPMC at-most-once; must not exceed the consumers killed; the ring's " +
        "LostInDelivery may lag it until a producer laps the slot); redelivered_after_crash = SPSC re-read of the message a killed " +
        "consumer was reading (at-least-once, by design); duplicated, reordered (per consumer, per producer id), corrupted (length, CRC-32, " +
        "payload or id wrong) are violations. Broadcast (--kind broadcast): every message carries its index in the one stream all publisher " +
        "incarnations publish; each subscriber must get each message intact exactly where its stream owes it (one past the previous plus the " +
        "losses its laps reported; under block no lap except in the history a subscriber from oldest reads), and one that reads to the end " +
        "must reach the last message with delivered + reported lost = published from its start. Exit 0 only when there was no violation; " +
        "1 otherwise; 2 on a usage error.";

    /// <summary>Adds the run options and action to <paramref name="root"/>.</summary>
    public static void Configure(RootCommand root)
    {
        Option<string?> profile = new("--profile") { Description = "A fixed bundle of phases: ci (~6 min: SPSC, MPMC and broadcast (block and overwrite), threads and processes, busy-spin, spin-then-yield and spin-then-block, 24 B..4 KiB, 200+ kills and pauses) or soak (~1 h). Other options are ignored." };
        profile.AcceptOnlyFromAmong("ci", "soak");
        Option<string> kind = new("--kind") { Description = "Ring kind.", DefaultValueFactory = _ => "spsc" };
        kind.AcceptOnlyFromAmong("spsc", "mpmc", "broadcast");
        Option<int> producers = new("--producers") { Description = "Producers at a time (SPSC: 1).", HelpName = "N", DefaultValueFactory = _ => 1 };
        Option<int> consumers = new("--consumers") { Description = "Consumers at a time (SPSC: 1).", HelpName = "M", DefaultValueFactory = _ => 1 };
        Option<int> subscribers = new("--subscribers") { Description = "Broadcast: subscribers at a time, joining at the live tail and at the oldest message by turns (replacements too).", HelpName = "N", DefaultValueFactory = _ => 2 };
        Option<string> overflow = new("--overflow") { Description = "Broadcast: the publisher waits for the slowest live subscriber (block) or laps it (overwrite).", DefaultValueFactory = _ => "block" };
        overflow.AcceptOnlyFromAmong("block", "overwrite");
        Option<int> slowSubscribers = new("--slow-subscribers") { Description = "Broadcast: how many subscribers pause 1..2 ms every 64..256 messages (to be lapped under overwrite).", HelpName = "K" };
        Option<string> mode = new("--mode") { Description = "Participants as threads of this process, or as worker processes (needed for faults).", DefaultValueFactory = _ => "threads" };
        mode.AcceptOnlyFromAmong("threads", "processes");
        Option<long?> messages = new("--messages") { Description = "Total messages to send (instead of --duration).", HelpName = "COUNT" };
        Option<TimeSpan?> duration = new("--duration") { Description = "How long to send (default 10s).", HelpName = "30s|5m|250ms", CustomParser = ParseSpan };
        Option<int> minSize = new("--min-size") { Description = $"Smallest message; below {StressMessage.PrefixLength} (the stress prefix: sequence, timestamp, CRC-32, producer id) it is raised to {StressMessage.PrefixLength}.", HelpName = "B", DefaultValueFactory = _ => StressMessage.PrefixLength };
        Option<int> maxSize = new("--max-size") { Description = "Largest message.", HelpName = "B", DefaultValueFactory = _ => 256 };
        Option<long> capacity = new("--capacity") { Description = "SPSC and broadcast record space (power of two, ≥ 8 × max-size; broadcast ≥ 8 × (max-size + 8)); MPMC: slots = largest power of two with slots × (max-size + 16) ≤ capacity.", HelpName = "BYTES", DefaultValueFactory = _ => 1 << 20 };
        Option<int> slots = new("--slots") { Description = "MPMC slot count (power of two), overriding the one derived from --capacity.", HelpName = "N" };
        Option<string> wait = EnumNames.CreateOption<WaitStrategy>("--wait", "How every endpoint waits (Ring's WaitStrategy).", WaitStrategy.SpinThenBlock);
        Option<TimeSpan?> killInterval = new("--kill-interval") { Description = "Processes mode: SIGKILL a random producer or consumer about this often (0.5×..1.5×) and start a replacement.", HelpName = "250ms", CustomParser = ParseSpan };
        Option<TimeSpan?> pauseInterval = new("--pause-interval") { Description = $"Processes mode: SIGSTOP a random participant about this often for {MinPauseMs}..{MaxPauseMs} ms (past the 50 ms recovery threshold), then SIGCONT it.", HelpName = "1s", CustomParser = ParseSpan };
        Option<ulong> seed = new("--seed") { Description = "Seed of sizes, payloads and the fault schedule.", HelpName = "S", DefaultValueFactory = _ => 1 };
        Option<string?> json = new("--json") { Description = "Write the JSON report here.", HelpName = "PATH" };
        Option<bool> quiet = new("--no-progress") { Description = "No live progress." };

        root.Description += " " + Accounting;
        foreach (Option option in new Option[] { profile, kind, producers, consumers, subscribers, overflow, slowSubscribers, mode, messages, duration, minSize, maxSize, capacity, slots, wait, killInterval, pauseInterval, seed, json, quiet })
        {
            root.Options.Add(option);
        }
        root.Add(ParticipantCommand());
        root.SetAction(parsed =>
        {
            bool progress = !parsed.GetValue(quiet);
            IReadOnlyList<EngineSettings> phases;
            string profileName = parsed.GetValue(profile) ?? "custom";
            if (parsed.GetValue(profile) is { } chosen)
            {
                phases = Profiles.Get(chosen, parsed.GetValue(seed), progress);
            }
            else
            {
                int min = parsed.GetValue(minSize);
                if (min < StressMessage.PrefixLength)
                {
                    Console.Error.WriteLine($"stress: --min-size {min} raised to {StressMessage.PrefixLength}: every stress message carries a {StressMessage.PrefixLength}-byte prefix.");
                    min = StressMessage.PrefixLength;
                }
                RingKind ringKind = parsed.GetValue(kind) switch
                {
                    "mpmc" => RingKind.Mpmc,
                    "broadcast" => RingKind.Broadcast,
                    _ => RingKind.Spsc,
                };
                EngineSettings settings = new()
                {
                    Name = "custom",
                    Kind = ringKind,
                    Producers = parsed.GetValue(producers),
                    Consumers = parsed.GetValue(ringKind == RingKind.Broadcast ? subscribers : consumers),
                    Overflow = parsed.GetValue(overflow) == "overwrite" ? BroadcastOverflow.Overwrite : BroadcastOverflow.Block,
                    SlowSubscribers = parsed.GetValue(slowSubscribers),
                    Mode = parsed.GetValue(mode) == "processes" ? EngineMode.Processes : EngineMode.Threads,
                    Messages = parsed.GetValue(messages),
                    Duration = parsed.GetValue(duration) ?? TimeSpan.FromSeconds(10),
                    MinSize = min,
                    MaxSize = Math.Max(min, parsed.GetValue(maxSize)),
                    Capacity = parsed.GetValue(capacity),
                    Slots = parsed.GetValue(slots),
                    Wait = EnumNames.Parse<WaitStrategy>(parsed.GetValue(wait)!),
                    KillInterval = parsed.GetValue(killInterval),
                    PauseInterval = parsed.GetValue(pauseInterval),
                    Seed = parsed.GetValue(seed),
                    Progress = progress,
                };
                if (settings.Validate() is { } problem)
                {
                    Console.Error.WriteLine($"stress: {problem}");
                    return Worker.ExitUsage;
                }
                phases = [settings];
            }
            // Ctrl-C ends the sending early instead of killing the coordinator: the workers are stopped, the ring
            // drained and audited, and the private directory removed, as at a normal end.
            CancellationTokenSource interrupted = new(); // not disposed: the handler may still fire while the process exits
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                interrupted.Cancel();
            };
            Stopwatch clock = Stopwatch.StartNew();
            List<EngineResult> results = [];
            foreach (EngineSettings phase in phases)
            {
                if (interrupted.IsCancellationRequested) break;
                EngineResult result = StressEngine.Run(phase, Console.Out, interrupted.Token);
                Console.WriteLine(result.Summary());
                results.Add(result);
            }
            RunReport report = RunReport.From(profileName, results, clock.Elapsed.TotalSeconds);
            if (parsed.GetValue(json) is { } path) File.WriteAllText(path, report.ToJson() + "\n");
            Console.WriteLine(report.Summary());
            return report.Ok ? 0 : ExitViolations;
        });
    }

    private const int MinPauseMs = 80, MaxPauseMs = 300;

    private static Command ParticipantCommand()
    {
        Option<string> segment = new("--segment") { Required = true };
        Option<string> ledger = new("--ledger") { Required = true };
        Option<string> role = new("--role") { Required = true };
        role.AcceptOnlyFromAmong("producer", "consumer");
        Option<ulong> seed = new("--seed") { Required = true };
        Option<int> minSize = new("--min-size") { Required = true };
        Option<int> maxSize = new("--max-size") { Required = true };
        Option<string> wait = EnumNames.CreateOption<WaitStrategy>("--wait", "How the endpoint waits.", defaultValue: null);
        Option<string> from = new("--from") { DefaultValueFactory = _ => "tail" };
        from.AcceptOnlyFromAmong("tail", "oldest");
        Option<bool> slow = new("--slow");
        Command command = new("participant", "Internal: one producer or consumer process of a --mode processes run, reporting through the run's ledger file.")
        {
            segment, ledger, role, seed, minSize, maxSize, wait, from, slow,
        };
        command.Hidden = true;
        command.SetAction(parsed =>
        {
            // The coordinator starts its workers with a lifeline (StressEngine.ProcessCrew): nobody would ever set the
            // ledger's stop flags once it is gone, and a CI job must not leave workers spinning behind it.
            ParentLifeline.OnParentExit(() => Environment.Exit(3));
            using RingSegment ring = RingSegment.Open(parsed.GetRequiredValue(segment));
            using Ledger book = Ledger.Open(parsed.GetRequiredValue(ledger));
            ParticipantSettings settings = new()
            {
                Kind = ring.Kind,
                Seed = parsed.GetValue(seed),
                MinSize = parsed.GetValue(minSize),
                MaxSize = parsed.GetValue(maxSize),
                Wait = EnumNames.Parse<WaitStrategy>(parsed.GetRequiredValue(wait)),
            };
            if (parsed.GetRequiredValue(role) == "producer")
            {
                using RingWriter writer = ring.CreateWriter(settings.Wait);
                if (ring.Kind == RingKind.Broadcast) BroadcastParticipant.Publish(ring, writer, book, settings);
                else Participant.Produce(writer, book, settings);
            }
            else if (ring.Kind == RingKind.Broadcast)
            {
                SubscribeFrom start = parsed.GetValue(from) == "oldest" ? SubscribeFrom.Oldest : SubscribeFrom.Tail;
                BroadcastParticipant.Subscribe(ring, start, book, settings, slow: parsed.GetValue(slow));
            }
            else
            {
                using RingReader reader = ring.CreateReader(settings.Wait);
                Participant.Consume(reader, book, settings);
            }
            return 0;
        });
        return command;
    }

    /// <summary>Parses 250ms, 30s, 5m, 1h (or a plain number of seconds).</summary>
    private static TimeSpan? ParseSpan(ArgumentResult result)
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        (string number, double scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ when text.EndsWith('h') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0)
            return TimeSpan.FromSeconds(value * scale);
        result.AddError($"'{text}' is not a positive duration: write e.g. 250ms, 30s, 5m or 1h.");
        return null;
    }
}
