using System.CommandLine;
using Ring.Stress;
using Ring.Stress.Fuzz;
using Ring.Stress.Integrity;

// Ring.Stress: stress and fault-injection runs for Ring. The root command runs a stress run (or a --profile of
// them) and is its coordinator; `worker` plays one end of an existing ring for the cross-process tests;
// `interleave` is the integrity harness's stress mode; `wakeups` the lost-wake-up detector on real cores;
// `fuzz` runs hostile segment data against every entry point.
RootCommand root = new("Ring.Stress: stress runs for Ring rings, in threads or in worker processes it kills and pauses.")
{
    WorkerCommand.Create(),
    InterleaveCommand.Create(),
    WakeUpsCommand.Create(),
    FuzzCommand.Create(),
};
RunCommand.Configure(root);

ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (System.CommandLine.Parsing.ParseError error in parsed.Errors)
    {
        Console.Error.WriteLine(error.Message);
    }
    Console.Error.WriteLine("Run 'Ring.Stress --help' or 'Ring.Stress worker --help' for usage.");
    return Worker.ExitUsage;
}
return parsed.Invoke();
