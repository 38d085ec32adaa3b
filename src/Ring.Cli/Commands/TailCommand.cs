using System.CommandLine;
using System.Diagnostics;
using System.Text;

namespace Ring.Cli;

/// <summary><c>ring tail</c>: reads messages as a consumer and prints one per line, following the ring like tail -f.</summary>
internal static class TailCommand
{
    public static Command Create()
    {
        Argument<string> name = CliOptions.SegmentName("The segment to read");
        Option<int?> count = CliOptions.Count("--count", "Stop after N messages (exit 0). Without it, follow until the ring is completed (exit 0), Ctrl+C or --timeout.");
        count.Aliases.Add("-n");
        Option<TimeSpan?> timeout = CliOptions.Duration("--timeout",
            "Give up after this long in all (exit 5) if --count messages have not arrived; without --count, stop then (exit 5)");
        Option<bool> exitOnProducerLoss = new("--exit-on-producer-loss")
        {
            Description = "Exit 7 once every producer that had attached is gone (died or detached) and everything is read, instead of " +
                "waiting for a new producer. A death is noticed within about a quarter of a second.",
        };
        Option<string?> from = new("--from")
        {
            Description = "Broadcast: where the subscriber starts: live (default), at the next message published; oldest, at the oldest message still in the ring.",
        };
        from.AcceptOnlyFromAmong("live", "oldest");
        Option<bool> hex = new("--hex") { Description = "Print each message as lowercase hex." };
        Option<bool> text = new("--text")
        {
            Description = "Print each message as UTF-8 text (the default), escaped so that one message stays one line: \\\\, \\n, \\r, \\t, " +
                "\\xNN for other control characters and invalid UTF-8 bytes, \\uNNNN for C1 controls.",
        };
        Option<uint[]> trustOwner = CliOptions.TrustOwner();
        Command command = new("tail", "Read messages as a consumer and print them, one per line. Reading takes them: an SPSC ring " +
            "allows one consumer, so a live one already there is refused (exit 4); on an MPMC ring tail is one more consumer " +
            "and gets only the messages the others do not; on a broadcast ring it is a subscriber, takes nothing from the others, and " +
            "reports to stderr the messages it lost when an overwriting publisher lapped it. Waits asleep in the kernel between messages. Once the ring is completed " +
            "and everything before the completion is read, it exits 0 and prints the reason, if there is one, to stderr " +
            "(with --count, short of N: exit 8).")
        {
            name, count, timeout, exitOnProducerLoss, from, hex, text, trustOwner,
        };
        command.Validators.Add(r =>
        {
            if (r.GetResult(hex) is not null && r.GetResult(text) is not null) r.AddError("--hex and --text: give one.");
        });
        command.SetBlockingAction((parsed, cancellationToken) => Run(
            parsed.GetRequiredValue(name), parsed.OpenOptions(trustOwner), parsed.GetValue(count), parsed.GetValue(timeout),
            parsed.GetValue(exitOnProducerLoss) ? PeerLoss.Complete : PeerLoss.Wait, parsed.GetValue(from), parsed.GetValue(hex), Console.Error, cancellationToken));
        return command;
    }

    private static int Run(string name, RingOpenOptions trust, int? count, TimeSpan? timeout, PeerLoss producerLoss, string? from, bool hex, TextWriter error,
        CancellationToken cancellationToken)
    {
        using RingSegment segment = RingSegment.Open(name, trust);
        if (from is not null && segment.Kind != RingKind.Broadcast)
            throw new CliException(ExitCode.Usage, $"--from is for a broadcast ring; '{name}' is {StatusText.Kind(segment.Kind)}, whose consumers share one stream.");
        using RingReader reader = segment.Kind == RingKind.Broadcast
            ? segment.CreateSubscriber(from == "oldest" ? SubscribeFrom.Oldest : SubscribeFrom.Tail, WaitStrategy.SpinThenBlock, producerLoss)
            : segment.CreateReader(WaitStrategy.SpinThenBlock, producerLoss);
        // Buffered, and flushed each time the ring runs dry: one write per burst rather than per message.
        using StreamWriter output = new(Console.OpenStandardOutput(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        RingMessageHandler print = hex
            ? message => output.WriteLine(Convert.ToHexStringLower(message))
            : message => WriteEscaped(output, message);
        long started = Stopwatch.GetTimestamp();
        int received = 0;
        string Progress() => count is null ? $"{received} messages arrived" : $"{received} of {count} messages arrived";
        CliException TimedOut() => new(ExitCode.Timeout, $"timed out after {Units.FormatDuration(timeout!.Value)}: {Progress()}.");
        byte[]? last = null; // for the end of the stream only
        bool TryRead()
        {
            try
            {
                return reader.TryRead(print);
            }
            catch (RingLappedException lapped)
            {
                output.Flush(); // the messages before the loss come before the line that reports it
                error.WriteLine($"ring: lapped by the publisher: {lapped.LostMessages} messages lost");
                return false; // the oldest message still there is next
            }
        }
        try
        {
            while (count is null || received < count)
            {
                if (TryRead())
                {
                    received++;
                    continue;
                }
                output.Flush();
                if (reader.IsCompleted)
                {
                    // Nothing is left to wait for: the blocking read throws the end, which says how and why. A message
                    // comes instead only if a new producer wrote one since.
                    last ??= new byte[reader.MaxMessageLength];
                    print(last.AsSpan(0, reader.Read(last, cancellationToken)));
                    received++;
                    continue;
                }
                TimeSpan wait = Timeout.InfiniteTimeSpan;
                if (timeout is { } limit)
                {
                    wait = limit - Stopwatch.GetElapsedTime(started);
                    if (wait <= TimeSpan.Zero) throw TimedOut();
                }
                // The blocking slow path: spins briefly, then sleeps on the ring's futex until a producer commits (or the stream ends).
                if (!reader.WaitToRead(wait, cancellationToken) && !reader.IsCompleted) throw TimedOut();
            }
            return ExitCode.Ok;
        }
        catch (RingPeerLostException lost)
        {
            throw new CliException(ExitCode.ProducersLost, $"{lost.Reason}: {Progress()}.");
        }
        catch (RingCompletedException completed)
        {
            if (count is not null) throw new CliException(ExitCode.Completed, $"the ring was completed{Because(completed)}: {Progress()}.");
            output.Flush(); // the messages come before the line that ends them
            if (completed.Reason is not null) error.WriteLine($"ring: completed: {completed.Reason}");
            return ExitCode.Ok;
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C is how an open-ended tail ends; one short of its --count was interrupted.
            if (count is null) return ExitCode.Ok;
            throw new CliException(ExitCode.Interrupted, $"interrupted: {Progress()}.");
        }
        finally
        {
            output.Flush();
        }
    }

    private static string Because(RingCompletedException completed) => completed.Reason is null ? "" : $" ({completed.Reason})";

    /// <summary>UTF-8 as is, except what would break the one-message-per-line form or make it ambiguous.</summary>
    private static void WriteEscaped(TextWriter output, ReadOnlySpan<byte> message)
    {
        StringBuilder line = new(message.Length);
        while (!message.IsEmpty)
        {
            if (System.Text.Rune.DecodeFromUtf8(message, out System.Text.Rune rune, out int consumed) != System.Buffers.OperationStatus.Done)
            {
                line.Append($"\\x{message[0]:x2}");
                message = message[1..];
                continue;
            }
            message = message[consumed..];
            switch (rune.Value)
            {
                case '\\': line.Append(@"\\"); break;
                case '\n': line.Append(@"\n"); break;
                case '\r': line.Append(@"\r"); break;
                case '\t': line.Append(@"\t"); break;
                default:
                    // C0 controls as \xNN; C1 as \uNNNN, so they cannot be mistaken for an invalid byte 0x80-0x9F.
                    if (!System.Text.Rune.IsControl(rune)) line.Append(rune.ToString());
                    else if (rune.IsAscii) line.Append($"\\x{rune.Value:x2}");
                    else line.Append($"\\u{rune.Value:x4}");
                    break;
            }
        }
        output.WriteLine(line);
    }
}
