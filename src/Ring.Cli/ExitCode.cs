namespace Ring.Cli;

/// <summary>The process exit codes; <see cref="Help"/> documents them in the root --help.</summary>
internal static class ExitCode
{
    public const int Ok = 0;
    public const int Error = 1;
    public const int Usage = 2;
    public const int NotFound = 3;
    public const int Refused = 4;
    public const int Timeout = 5;
    public const int NotASegment = 6;
    public const int ProducersLost = 7;
    public const int Completed = 8;
    public const int Interrupted = 130; // what a shell reports for a process ended by SIGINT

    public const string Help = """
        Exit codes:
          0    ok; a tail without --count also ends with 0 once the ring is completed and
               everything before the completion has been read (the reason goes to stderr)
          1    error: I/O, no room for the segment, anything not listed below
          2    usage: bad arguments, an invalid segment name, options the library rejects
          3    no such segment
          4    refused: the name is taken, a live process is attached (rm without --force),
               the SPSC role is held by a live process (complete: an SPSC ring whose producer
               is alive), permission denied, the segment or its directory belongs to another
               user (see --trust-owner), the directory is writable by group or others, a
               symbolic link
          5    timed out (tail, send)
          6    not a usable Ring segment: not a regular file (a directory, a FIFO...), not a
               Ring file, a file truncated after creation, or its header is corrupted
          7    the producers are gone: tail --exit-on-producer-loss read everything and every
               producer that had attached is gone (died or detached)
          8    the ring is completed: send or complete found it completed already, or a tail
               --count ended before N messages because the ring was completed
          130  interrupted by Ctrl+C or SIGTERM before the command was done; stat --watch and
               a tail without --count have no end of their own, so Ctrl+C ends them with 0
        """;
}

/// <summary>A failure the CLI itself detects, with the exit code it maps to.</summary>
internal sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
