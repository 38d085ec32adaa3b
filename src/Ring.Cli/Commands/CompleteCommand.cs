using System.CommandLine;

namespace Ring.Cli;

/// <summary><c>ring complete</c>: ends a ring's stream from outside, as a producer.</summary>
internal static class CompleteCommand
{
    public static Command Create()
    {
        Argument<string> name = CliOptions.SegmentName("The segment whose ring to complete");
        Option<string?> reason = CliOptions.Reason();
        Option<uint[]> trustOwner = CliOptions.TrustOwner();
        Command command = new("complete", "Complete a ring: its readers read what is left, then see the end of the stream (a tail " +
            "without --count exits 0), and nothing more can be written. It takes the producer role to do so: on an MPMC ring it is one " +
            "more producer; an SPSC ring whose producer is alive is refused (exit 4), because that producer's next write would " +
            "overwrite the completion; that producer has to complete it itself. A ring completed already gives 8.")
        {
            name, reason, trustOwner,
        };
        command.SetBlockingAction((parsed, _) => Run(parsed.GetRequiredValue(name), parsed.OpenOptions(trustOwner), new Completion(parsed.GetValue(reason)), Console.Out));
        return command;
    }

    private static int Run(string name, RingOpenOptions trust, Completion completion, TextWriter output)
    {
        using RingSegment segment = RingSegment.Open(name, trust);
        RingWriter writer;
        try
        {
            writer = segment.CreateWriter(WaitStrategy.SpinThenBlock);
        }
        catch (RingRoleTakenException e)
        {
            // An SPSC producer keeps its tail in its own memory and publishes it with a store, not a compare-exchange:
            // a flag another process set would be gone with its next message.
            throw new CliException(ExitCode.Refused, $"segment '{name}' has a live producer (pid {e.HolderPid}): an outside process cannot complete " +
                "an SPSC ring whose producer is alive, because the producer's own tail stores would overwrite the completion; that producer has to complete it.");
        }
        using (writer)
        {
            try
            {
                completion.Apply(writer);
            }
            catch (RingCompletedException first)
            {
                throw new CliException(ExitCode.Completed, $"segment '{name}' was completed already{(first.Reason is null ? "" : $" ({first.Reason})")}.");
            }
        }
        output.WriteLine($"completed '{name}'{completion.Describe()}");
        return ExitCode.Ok;
    }
}

/// <summary>A completion the command line asked for: with a reason, or without one.</summary>
internal sealed record Completion(string? Reason)
{
    /// <summary>Completes the ring.</summary>
    /// <exception cref="RingCompletedException">It was completed already (exit 8, with the first reason).</exception>
    public void Apply(RingWriter writer)
    {
        if (Reason is null) writer.Complete();
        else writer.Complete(Reason);
    }

    /// <summary>" (REASON)", or nothing without a reason.</summary>
    public string Describe() => Reason is null ? "" : $" ({Reason})";
}
