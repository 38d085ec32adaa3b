using System.CommandLine;
using Ring.Bench.Demo;

RootCommand root = new("Ring's demo and benchmarks: two processes exchanging messages through shared memory.")
{
    DemoCommands.CreateDemo(),
    DemoCommands.CreateChild(),
};
return root.Parse(args).Invoke();
