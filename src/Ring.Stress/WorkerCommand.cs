using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text;
using Ring.Tooling;

namespace Ring.Stress;

/// <summary>The <c>worker</c> subcommand: one producer or consumer process of a stress run.</summary>
public static class WorkerCommand
{
    private const int DefaultMinSize = StressMessage.PrefixLength;
    private const int DefaultMaxSize = 256;

    /// <summary>Builds the subcommand; its action runs <see cref="Worker.Run"/>.</summary>
    public static Command Create()
    {
        Option<string> segment = new("--segment")
        {
            Description = "Segment to attach to: a name (in RING_DIR or /dev/shm/ring-<uid>) or an absolute path. It must exist.",
            HelpName = "PATH",
            Required = true,
        };
        Option<string> role = new("--role")
        {
            Description = "The end of the ring to play.",
            Required = true,
        };
        role.AcceptOnlyFromAmong("producer", "consumer");
        Option<long> messages = new("--messages")
        {
            Description = "Messages to write (producer) or to read and check from each producer (consumer).",
            HelpName = "N",
            Required = true,
        };
        messages.Validators.Add(r => Positive(r, r.GetValueOrDefault<long>()));
        Option<int> producerId = new("--producer-id")
        {
            Description = "Producer: its id, stamped into every message (give each producer of an MPMC ring its own, 0..P-1).",
            HelpName = "ID",
            DefaultValueFactory = _ => 0,
        };
        producerId.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 0) r.AddError("--producer-id must not be negative.");
        });
        Option<int> producers = new("--producers")
        {
            Description = "Consumer: how many producers (ids 0..P-1) each send --messages messages; each one's stream is checked on its own.",
            HelpName = "P",
            DefaultValueFactory = _ => 1,
        };
        producers.Validators.Add(r => Positive(r, r.GetValueOrDefault<int>()));
        Option<bool> zeroCopy = new("--zero-copy")
        {
            Description = "Use the zero-copy calls: TryClaim/Commit (producer), read handlers (consumer). Implied by a fault plan.",
        };
        Option<int> batch = new("--batch")
        {
            Description = "Producer, SPSC ring: write through a RingBatch and publish every N messages (and before waiting for room). 0: each on its own.",
            HelpName = "N",
        };
        batch.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 0) r.AddError("--batch must be 0 or more.");
        });
        Option<int> minSize = new("--min-size")
        {
            Description = $"Smallest message in bytes (at least the {StressMessage.PrefixLength}-byte prefix).",
            HelpName = "B",
            DefaultValueFactory = _ => DefaultMinSize,
        };
        Option<int> maxSize = new("--max-size")
        {
            Description = "Largest message in bytes (at most the segment's largest message).",
            HelpName = "B",
            DefaultValueFactory = _ => DefaultMaxSize,
        };
        Option<string> wait = EnumNames.CreateOption<WaitStrategy>("--wait", "How the endpoint waits (Ring's WaitStrategy).", WaitStrategy.SpinThenBlock);
        Option<string> peerLoss = EnumNames.CreateOption<PeerLoss>("--peer-loss",
            "What the endpoint does once every process at the other end is gone (Ring's PeerLoss): wait for a successor, " +
            "or end the stream once drained (consumer) or full (producer).", PeerLoss.Wait);
        Option<string?> complete = new("--complete")
        {
            Description = "Producer: complete the ring after the last message, with REASON if given. Consumer: expect the ring to be " +
                "completed after the last message (with REASON, if given); not completed within --read-timeout-ms is a failure.",
            HelpName = "REASON",
            Arity = ArgumentArity.ZeroOrOne,
        };
        Option<IntRange?> burst = new("--burst")
        {
            Description = "Messages per burst, N or A..B (drawn per burst); a pause follows each burst. Needs --pause-ms.",
            HelpName = "N|A..B",
            CustomParser = ParseRange,
        };
        Option<IntRange?> pauseMs = new("--pause-ms")
        {
            Description = "Pause after each burst in milliseconds, M or A..B (0 only yields the CPU). Needs --burst.",
            HelpName = "M|A..B",
            CustomParser = ParseRange,
        };
        Option<ulong> seed = new("--seed")
        {
            Description = "Seed of message sizes, contents and pacing; producer and consumer must use the same.",
            HelpName = "S",
            DefaultValueFactory = _ => 1,
        };
        Option<int> readTimeoutMs = new("--read-timeout-ms")
        {
            Description = "Consumer: how long one blocking read waits before the producer counts as stopped.",
            HelpName = "T",
            DefaultValueFactory = _ => 10_000,
        };
        readTimeoutMs.Validators.Add(r => Positive(r, r.GetValueOrDefault<int>()));
        Option<int> writeTimeoutMs = new("--write-timeout-ms")
        {
            Description = "Producer: how long one blocking write waits for room before the consumer counts as stopped.",
            HelpName = "T",
            DefaultValueFactory = _ => 10_000,
        };
        writeTimeoutMs.Validators.Add(r => Positive(r, r.GetValueOrDefault<int>()));

        Command command = new("worker",
            "Play one end of an existing ring (SPSC or MPMC) and print one JSON result line: role, messages, bytes, lost, duplicated, " +
            "reordered, corrupted, lost_wakeups, max_latency_us, elapsed_s, and how the stream ended if it did (completion: " +
            $"{StreamEnd.Completed} or {StreamEnd.PeerLost}, completion_reason). Exit 0: no violation; 1: violations; " +
            "2: usage error; 3: could not attach (no such segment, or the role is taken). A consumer waits --read-timeout-ms and a " +
            "producer --write-timeout-ms for its peer before it counts the peer as stopped (exit 1). A stream that ends before the " +
            "last message counts what is missing as lost (exit 1). Fault injection: " +
            $"{FaultPlan.KillAtVariable}=before-claim|after-claim|mid-payload|after-commit (producer) or mid-read (consumer) and " +
            $"{FaultPlan.KillAfterVariable}=N (the N-th message, default 1) make the worker send itself SIGKILL at that point; " +
            $"{FaultPlan.StopAtVariable} and {FaultPlan.StopAfterVariable} the same with SIGSTOP. The worker then uses the zero-copy calls.")
        {
            segment, role, messages, producerId, producers, zeroCopy, batch, minSize, maxSize, wait, peerLoss, complete, burst, pauseMs, seed,
            readTimeoutMs, writeTimeoutMs,
        };
        command.Validators.Add(r =>
        {
            // Options left out have no OptionResult here, so their defaults are spelled out.
            int min = r.GetResult(minSize)?.GetValueOrDefault<int>() ?? DefaultMinSize;
            int max = r.GetResult(maxSize)?.GetValueOrDefault<int>() ?? DefaultMaxSize;
            if (min < StressMessage.PrefixLength)
                r.AddError($"--min-size must be at least {StressMessage.PrefixLength} (the sequence, timestamp, checksum and producer-id prefix).");
            else if (max < min)
                r.AddError("--max-size must be at least --min-size.");
            if ((r.GetResult(batch)?.GetValueOrDefault<int>() ?? 0) > 0 && (r.GetResult(zeroCopy) is not null || FaultPlan.FromEnvironment(out _).Count != 0))
                r.AddError("--batch writes through a batch: it does not go with --zero-copy or a fault plan.");
            if ((r.GetResult(burst) is null) != (r.GetResult(pauseMs) is null))
                r.AddError("--burst and --pause-ms go together.");
            // Checked here, not by Complete after the last message: a run should not fail at its end for its command line.
            if (r.GetResult(complete)?.GetValueOrDefault<string?>() is { } reason && Encoding.UTF8.GetByteCount(reason) > RingWriter.MaxCompletionReasonBytes)
                r.AddError($"--complete: a reason is at most {RingWriter.MaxCompletionReasonBytes} bytes of UTF-8.");
        });
        command.SetAction(parsed =>
        {
            IReadOnlyList<FaultPlan> faults = FaultPlan.FromEnvironment(out string? faultError);
            if (faultError is not null)
            {
                Console.Error.WriteLine($"worker: {faultError}");
                return Worker.ExitUsage;
            }
            return Worker.Run(
                new WorkerSettings
                {
                    Segment = parsed.GetRequiredValue(segment),
                    Role = parsed.GetRequiredValue(role) == "producer" ? WorkerRole.Producer : WorkerRole.Consumer,
                    Messages = parsed.GetValue(messages),
                    ProducerId = parsed.GetValue(producerId),
                    Producers = parsed.GetValue(producers),
                    ZeroCopy = parsed.GetValue(zeroCopy),
                    Batch = parsed.GetValue(batch),
                    Faults = faults,
                    MinSize = parsed.GetValue(minSize),
                    MaxSize = parsed.GetValue(maxSize),
                    Wait = EnumNames.Parse<WaitStrategy>(parsed.GetValue(wait)!),
                    PeerLoss = EnumNames.Parse<PeerLoss>(parsed.GetValue(peerLoss)!),
                    Complete = parsed.GetResult(complete) is not null,
                    CompleteReason = parsed.GetValue(complete),
                    Burst = parsed.GetValue(burst),
                    PauseMs = parsed.GetValue(pauseMs) ?? IntRange.Exactly(0),
                    Seed = parsed.GetValue(seed),
                    ReadTimeout = TimeSpan.FromMilliseconds(parsed.GetValue(readTimeoutMs)),
                    WriteTimeout = TimeSpan.FromMilliseconds(parsed.GetValue(writeTimeoutMs)),
                },
                Console.Out,
                Console.Error);
        });
        return command;
    }

    private static IntRange? ParseRange(ArgumentResult result)
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (IntRange.TryParse(text, out IntRange range, out string? error)) return range;
        result.AddError(error!);
        return null;
    }

    private static void Positive(OptionResult result, long value)
    {
        if (value <= 0) result.AddError($"{result.Option.Name} must be positive.");
    }
}
