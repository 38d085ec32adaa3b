using System.CommandLine;
using System.Diagnostics;

namespace Ring.Cli;

/// <summary><c>ring stat</c>: one segment's full status, like AeronStat; read-only, never a participant.</summary>
internal static class StatCommand
{
    // ANSI: clear the screen, cursor home, clear to the end of the line, clear to the end of the screen, hide /
    // show the cursor. Enough for a redraw in place; a console library would be a dependency for five strings.
    private const string ClearScreen = "\e[2J";
    private const string Home = "\e[H";
    private const string ClearLine = "\e[K";
    private const string ClearBelow = "\e[J";
    private const string HideCursor = "\e[?25l";
    private const string ShowCursor = "\e[?25h";

    public static Command Create()
    {
        Argument<string> name = CliOptions.SegmentName("The segment");
        Option<TimeSpan?> watch = CliOptions.Duration("--watch",
            "Redraw every DURATION with rates (msgs/s, MB/s, wakes/s) from counter deltas, until Ctrl+C. " +
            "With --json, or when the output is not a terminal, print one report per interval instead", positive: true);
        Option<bool> json = CliOptions.Json("the status");
        Option<uint[]> trustOwner = CliOptions.TrustOwner();
        Command command = new("stat", "Show a segment's header fields, counters, waiters and participants with their liveness. " +
            "Attaches read-only: it never registers as a participant, so it cannot disturb the ring.")
        {
            name, watch, json, trustOwner,
        };
        command.SetBlockingAction((parsed, cancellationToken) =>
        {
            string segment = parsed.GetRequiredValue(name);
            bool asJson = parsed.GetValue(json);
            RingOpenOptions trust = parsed.OpenOptions(trustOwner);
            return parsed.GetValue(watch) is { } interval
                ? Watch(segment, trust, interval, asJson, Console.Out, cancellationToken)
                : Once(segment, trust, asJson, Console.Out);
        });
        return command;
    }

    private static int Once(string name, RingOpenOptions trust, bool json, TextWriter output)
    {
        SegmentStatus status = RingSegment.Stat(name, trust);
        if (json) output.WriteLine(JsonModel.Status(status, rates: null));
        else foreach (string line in StatusText.Render(name, status, rates: null)) output.WriteLine(line);
        return ExitCode.Ok;
    }

    /// <summary>
    /// Holds one read-only attachment and samples it every interval; rates divide counter deltas by the time
    /// measured between samples, not the nominal interval, so a late tick does not inflate them.
    /// </summary>
    private static int Watch(string name, RingOpenOptions trust, TimeSpan interval, bool json, TextWriter output, CancellationToken cancellationToken)
    {
        using RingSegment monitor = RingSegment.OpenReadOnly(name, trust);
        bool redraw = !json && !Console.IsOutputRedirected;
        if (redraw) output.Write(HideCursor + ClearScreen);
        try
        {
            SegmentStatus? previous = null;
            long previousAt = 0;
            while (!cancellationToken.IsCancellationRequested)
            {
                SegmentStatus status = monitor.GetStatus();
                long now = Stopwatch.GetTimestamp();
                Rates? rates = previous is null ? null : Rates.Between(previous, status, Stopwatch.GetElapsedTime(previousAt, now));
                (previous, previousAt) = (status, now);
                if (json)
                {
                    output.WriteLine(JsonModel.Status(status, rates));
                }
                else
                {
                    IReadOnlyList<string> lines = StatusText.Render(name, status, rates);
                    if (redraw)
                    {
                        output.Write(Home + string.Concat(lines.Select(l => l + ClearLine + "\n")) + $"(every {Units.FormatDuration(interval)}; Ctrl+C to stop){ClearLine}\n" + ClearBelow);
                    }
                    else
                    {
                        foreach (string line in lines) output.WriteLine(line);
                        output.WriteLine();
                    }
                }
                output.Flush();
                cancellationToken.WaitHandle.WaitOne(interval);
            }
        }
        finally
        {
            if (redraw) output.Write(ShowCursor);
        }
        // Ctrl+C is how a watch ends: not a failure.
        return ExitCode.Ok;
    }
}
