using System.CommandLine;
using BenchmarkDotNet.Running;
using Ring.Bench.Compare;
using Ring.Bench.Demo;

Command bdn = new("bdn", "Runs the BenchmarkDotNet suites (in-process operation costs and MPMC throughput against Channels); "
    + "every other argument goes to BenchmarkDotNet, e.g. --filter '*MpmcThroughput*'.")
{
    TreatUnmatchedTokensAsErrors = false,
};
bdn.SetAction(parse =>
{
    BenchmarkSwitcher.FromAssembly(typeof(Ring.Bench.Operations.SingleThreadOperations).Assembly).Run([.. parse.UnmatchedTokens]);
    return 0;
});

RootCommand root = new("Ring's demo and benchmarks: two processes exchanging messages through shared memory.")
{
    DemoCommands.CreateDemo(),
    DemoCommands.CreateChild(),
    CompareCommands.CreateCompare(),
    CompareCommands.CreateChild(),
    CompareCommands.CreateRoudiKeeper(),
    Ring.Bench.Fanout.FanoutCommands.CreateFanout(),
    Ring.Bench.Fanout.FanoutCommands.CreateChild(),
    Ring.Bench.AsyncScaleCommand.Create(),
    Ring.Bench.NatsBridgeCommand.Create(),
    Ring.Bench.Operations.PairLoopCommand.Create(),
    bdn,
};
return root.Parse(args).Invoke();
