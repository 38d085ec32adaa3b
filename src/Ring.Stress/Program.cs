using System.CommandLine;
using Ring.Stress;

// Ring.Stress: stress and fault-injection runs for Ring. For now the worker — one producer or consumer
// process — is what exists; a coordinator that starts (and kills) workers comes next.
RootCommand root = new("Ring.Stress: cross-process stress runs for Ring rings.")
{
    WorkerCommand.Create(),
};

ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (System.CommandLine.Parsing.ParseError error in parsed.Errors)
    {
        Console.Error.WriteLine(error.Message);
    }
    Console.Error.WriteLine("Run 'Ring.Stress worker --help' for usage.");
    return Worker.ExitUsage;
}
return parsed.Invoke();
