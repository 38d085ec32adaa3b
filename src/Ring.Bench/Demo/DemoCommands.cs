using System.CommandLine;
using Ring.Tooling;

namespace Ring.Bench.Demo;

/// <summary>The <c>demo</c> command and the hidden <c>demo-child</c> command it starts as its peer process.</summary>
internal static class DemoCommands
{
    public const string ChildCommandName = "demo-child";
    public const string SegmentOptionName = "--segment";
    public const string SizeOptionName = "--size";
    public const string WaitOptionName = "--wait";

    public static Command CreateDemo()
    {
        Option<double> seconds = new("--seconds")
        {
            Description = "How long the stream phase runs, in seconds.",
            DefaultValueFactory = _ => 3,
        };
        seconds.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is not (> 0 and <= 3600)) result.AddError("--seconds must be more than 0 and at most 3600.");
        });
        Option<int> size = CreateSizeOption();
        Option<string> wait = CreateWaitOption();
        Option<bool> noPin = new("--no-pin") { Description = "Leave both processes to the scheduler instead of pinning them to two CPUs." };

        Command demo = new("demo", "Streams messages to a child process, then ping-pongs with it, and reports throughput and round-trip latency.")
        {
            seconds, size, wait, noPin,
        };
        demo.SetAction(parse => DemoParent.Run(new DemoSettings(
            TimeSpan.FromSeconds(parse.GetValue(seconds)),
            parse.GetValue(size),
            EnumNames.Parse<WaitStrategy>(parse.GetValue(wait)!),
            Pin: !parse.GetValue(noPin))));
        return demo;
    }

    public static Command CreateChild()
    {
        Option<string> segment = new(SegmentOptionName) { Description = "The parent-to-child segment.", Required = true };
        Option<int> size = CreateSizeOption();
        Option<string> wait = CreateWaitOption();
        Command child = new(ChildCommandName, "The demo's peer process; started by 'demo'.")
        {
            segment, size, wait,
        };
        child.Hidden = true;
        child.SetAction(parse => DemoChild.Run(parse.GetValue(segment)!, parse.GetValue(size), EnumNames.Parse<WaitStrategy>(parse.GetValue(wait)!)));
        return child;
    }

    private static Option<int> CreateSizeOption()
    {
        Option<int> size = new(SizeOptionName)
        {
            Description = "Message payload in bytes (the first 8 carry the sequence number).",
            DefaultValueFactory = _ => 64,
        };
        size.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < sizeof(long)) result.AddError($"{SizeOptionName} must be at least {sizeof(long)} bytes, room for the sequence number.");
        });
        return size;
    }

    private static Option<string> CreateWaitOption() =>
        EnumNames.CreateOption<WaitStrategy>(WaitOptionName, "How both sides wait (Ring's WaitStrategy); busy-spin is the fast path.", WaitStrategy.BusySpin);
}
