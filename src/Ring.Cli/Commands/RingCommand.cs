using System.CommandLine;
using System.CommandLine.Help;

namespace Ring.Cli;

/// <summary>The root command.</summary>
internal static class RingCommand
{
    public static Command Create()
    {
        // A plain Command rather than RootCommand, whose name is the executable's ("Ring.Cli" under `dotnet
        // Ring.Cli.dll`): help and errors should say "ring" however it was started.
        return new Command("ring", $"""
            Inspect and manage Ring shared-memory segments: what ipcs/ipcrm are for System V segments.
            Segments live in $RING_DIR, or /dev/shm/ring-<uid> when it is not set.

            {ExitCode.Help}
            """)
        {
            new HelpOption(),
            new VersionOption(),
            CliOptions.Verbose,
            LsCommand.Create(),
            StatCommand.Create(),
            CreateCommand.Create(),
            RmCommand.Create(),
            GcCommand.Create(),
            TailCommand.Create(),
            SendCommand.Create(),
            CompleteCommand.Create(),
            BridgeCommand.Create(),
        };
    }
}
