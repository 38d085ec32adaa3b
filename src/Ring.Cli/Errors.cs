namespace Ring.Cli;

/// <summary>Turns any failure into one line on stderr and an exit code (the stack trace only with --verbose).</summary>
internal static class Errors
{
    public static int Report(Exception exception, bool verbose, TextWriter error)
    {
        (int code, string message) = Classify(exception);
        error.WriteLine($"ring: {message}");
        if (verbose) error.WriteLine(exception);
        return code;
    }

    private static (int Code, string Message) Classify(Exception exception) => exception switch
    {
        CliException e => (e.ExitCode, e.Message),
        SegmentNotFoundException e => (ExitCode.NotFound, OneLine(e)),
        SegmentExistsException or RingRoleTakenException or SegmentAccessException or UnauthorizedAccessException => (ExitCode.Refused, OneLine(exception)),
        SegmentFormatException or RingCorruptedException => (ExitCode.NotASegment, OneLine(exception)),
        RingCompletedException e => (ExitCode.Completed, OneLine(e)),
        // Names and options the library validates: a bad name, a capacity that is not a power of two...
        ArgumentException e => (ExitCode.Usage, OneLine(e)),
        _ => (ExitCode.Error, OneLine(exception)),
    };

    /// <summary>
    /// The message on one line: ArgumentException appends " (Parameter 'x')" and ArgumentOutOfRangeException
    /// a second line with the value, neither of which helps someone who typed a command.
    /// </summary>
    public static string OneLine(Exception exception)
    {
        string message = exception.Message;
        if (exception is ArgumentException { ParamName: { } parameter })
        {
            message = message.Split('\n')[0].TrimEnd('\r');
            string suffix = $" (Parameter '{parameter}')";
            if (message.EndsWith(suffix, StringComparison.Ordinal)) message = message[..^suffix.Length];
        }
        return string.Join("; ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}
