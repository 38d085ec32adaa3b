using System.CommandLine;
using System.Runtime.InteropServices;

namespace Ring.Cli;

/// <summary>How every command's body runs: with Ctrl+C turned into cancellation, and failures into exit codes.</summary>
internal static class Runner
{
    /// <summary>How long a command has to stop after Ctrl+C or SIGTERM before the process ends anyway.</summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(2);

    public static void SetBlockingAction(this Command command, Func<ParseResult, CancellationToken, int> body) =>
        command.SetAction(parsed => Run(parsed, body));

    /// <summary>
    /// The signal handlers are in place before the body starts. (System.CommandLine's own handling installs them
    /// only after an async action has returned its task, so a Ctrl+C early in a tail could still kill the process
    /// outright and leave its participant entries dead behind it.)
    /// </summary>
    private static int Run(ParseResult parsed, Func<ParseResult, CancellationToken, int> body)
    {
        using CancellationTokenSource stop = new();
        int signalled = 0;
        void OnSignal(PosixSignalContext context)
        {
            // The first signal asks the body to stop (tail and stat --watch wake up and return); a second one, or a
            // body still running after the grace period (one blocked reading stdin, say), ends the process.
            if (Interlocked.Exchange(ref signalled, 1) != 0) return;
            context.Cancel = true;
            stop.Cancel();
            _ = Task.Delay(StopGrace).ContinueWith(_ =>
            {
                Console.Error.WriteLine("ring: interrupted");
                Environment.Exit(ExitCode.Interrupted);
            }, TaskScheduler.Default);
        }
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            return body(parsed, stop.Token);
        }
        catch (Exception e)
        {
            return Errors.Report(e, parsed.GetValue(CliOptions.Verbose), Console.Error);
        }
    }
}
