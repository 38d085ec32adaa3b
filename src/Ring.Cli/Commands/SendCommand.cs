using System.CommandLine;
using System.Text;

namespace Ring.Cli;

/// <summary><c>ring send</c>: writes messages as a producer.</summary>
internal static class SendCommand
{
    public static Command Create()
    {
        Argument<string> name = CliOptions.SegmentName("The segment to write to");
        Option<string?> text = new("--text") { Description = "Send STRING, UTF-8 encoded, as one message.", HelpName = "STRING" };
        Option<FileInfo?> file = new("--file") { Description = "Send the file's bytes as one message.", HelpName = "PATH" };
        Option<bool> stdin = new("--stdin") { Description = "Send each line of standard input (UTF-8, without its line ending) as one message, as it arrives." };
        Option<TimeSpan?> timeout = CliOptions.Duration("--timeout",
            "How long one message may wait for room while the ring is full (exit 5); without it, wait as long as it takes");
        Option<bool> complete = new("--complete")
        {
            Description = "Complete the ring once every message is sent (not when interrupted): its readers read what is left, then see " +
                "the end of the stream, and nothing more can be written. See 'ring complete'.",
        };
        Option<string?> reason = CliOptions.Reason();
        Option<uint[]> trustOwner = CliOptions.TrustOwner();
        Command command = new("send", "Write messages as a producer: an SPSC ring allows one producer, so a live one already " +
            "there is refused (exit 4); on an MPMC ring send is one more producer. Give one of --text, --file, --stdin. " +
            "A completed ring takes no more messages (exit 8).")
        {
            name, text, file, stdin, timeout, complete, reason, trustOwner,
        };
        command.Validators.Add(r =>
        {
            int sources = (r.GetResult(text) is null ? 0 : 1) + (r.GetResult(file) is null ? 0 : 1) + (r.GetResult(stdin) is null ? 0 : 1);
            if (sources != 1) r.AddError("give exactly one of --text, --file, --stdin.");
            if (r.GetResult(reason) is not null && r.GetResult(complete) is null) r.AddError("--reason goes with --complete.");
        });
        command.SetBlockingAction((parsed, cancellationToken) =>
        {
            IEnumerable<byte[]> messages =
                parsed.GetValue(text) is { } t ? [Encoding.UTF8.GetBytes(t)]
                : parsed.GetValue(file) is { } f ? [File.ReadAllBytes(f.FullName)]
                : StandardInputLines();
            Completion? completion = parsed.GetValue(complete) ? new Completion(parsed.GetValue(reason)) : null;
            return Run(parsed.GetRequiredValue(name), parsed.OpenOptions(trustOwner), messages, parsed.GetValue(timeout), completion, Console.Out, cancellationToken);
        });
        return command;
    }

    private static int Run(string name, RingOpenOptions trust, IEnumerable<byte[]> messages, TimeSpan? timeout, Completion? completion,
        TextWriter output, CancellationToken cancellationToken)
    {
        using RingSegment segment = RingSegment.Open(name, trust);
        using RingWriter writer = segment.CreateWriter(WaitStrategy.SpinThenBlock);
        long sent = 0;
        long bytes = 0;
        try
        {
            foreach (byte[] message in messages)
            {
                // A line read from stdin after Ctrl+C is not sent: the user asked to stop.
                cancellationToken.ThrowIfCancellationRequested();
                if (message.Length > writer.MaxMessageLength)
                {
                    throw new CliException(ExitCode.Error, $"message {sent + 1} is {message.Length} bytes; segment '{name}' carries at most " +
                        $"{writer.MaxMessageLength} ({sent} sent before it).");
                }
                if (!writer.TryWrite(message, timeout ?? Timeout.InfiniteTimeSpan, cancellationToken))
                {
                    throw new CliException(ExitCode.Timeout, $"timed out after {Units.FormatDuration(timeout!.Value)} waiting for room " +
                        $"(is anyone reading?); {sent} messages sent.");
                }
                sent++;
                bytes += message.Length;
            }
            cancellationToken.ThrowIfCancellationRequested(); // stdin closed by the same Ctrl+C
        }
        catch (OperationCanceledException)
        {
            throw new CliException(ExitCode.Interrupted, $"interrupted; {sent} messages sent.");
        }
        completion?.Apply(writer);
        output.WriteLine($"sent {sent} message{(sent == 1 ? "" : "s")} ({Units.FormatSize(bytes)}) to '{name}'{(completion is null ? "" : $" and completed it{completion.Describe()}")}");
        return ExitCode.Ok;
    }

    /// <summary>Lazily, so each line goes out as soon as it is typed or piped in.</summary>
    private static IEnumerable<byte[]> StandardInputLines()
    {
        using StreamReader input = new(Console.OpenStandardInput(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        while (input.ReadLine() is { } line) yield return Encoding.UTF8.GetBytes(line);
    }
}
