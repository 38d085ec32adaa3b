using System.CommandLine;
using Ring.Cli;

// ring: ipcs/ipcrm and AeronStat for Ring segments. Every command is in its own file under Commands/.
Command root = RingCommand.Create();
ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0 && parsed.Action is not System.CommandLine.Help.HelpAction)
{
    // One line, naming where to look, instead of System.CommandLine's errors followed by the whole help.
    string command = parsed.CommandResult.Command == root ? "ring" : $"ring {parsed.CommandResult.Command.Name}";
    string errors = string.Join("; ", parsed.Errors.Select(e => string.Join(' ', e.Message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))));
    Console.Error.WriteLine($"ring: {errors} (see '{command} --help')");
    return ExitCode.Usage;
}
return parsed.Invoke();
