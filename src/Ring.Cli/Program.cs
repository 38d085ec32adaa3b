using System.CommandLine;
using Ring.Cli;

// ring: ipcs/ipcrm and AeronStat for Ring segments. Every command is in its own file under Commands/.
Command root = RingCommand.Create();
ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0 && parsed.Action is not System.CommandLine.Help.HelpAction)
{
    // One line, naming where to look, instead of System.CommandLine's errors followed by the whole help.
    string command = parsed.CommandResult.Command == root ? "ring" : $"ring {parsed.CommandResult.Command.Name}";
    Console.Error.WriteLine($"ring: {UsageError(parsed)} (see '{command} --help')");
    return ExitCode.Usage;
}
return parsed.Invoke();

// A word the parser did not know is the error to report, alone: System.CommandLine adds what its absence left
// missing ("Required command was not provided." for `ring bogus`), which only says the same thing again.
static string UsageError(ParseResult parsed)
{
    if (parsed.UnmatchedTokens.Count > 0)
    {
        string token = parsed.UnmatchedTokens[0];
        return token.StartsWith('-') ? $"unknown option '{token}'"
            : parsed.CommandResult.Command.Subcommands.Count > 0 ? $"unknown command '{token}'"
            : $"unexpected argument '{token}'";
    }
    return string.Join("; ", parsed.Errors.Select(e => string.Join(' ', e.Message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))));
}
