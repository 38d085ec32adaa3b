namespace Ring.Bench.Demo;

/// <summary>The demo's options, parsed.</summary>
internal sealed record DemoSettings(TimeSpan StreamDuration, int MessageSize, DemoWait Wait, bool Pin);

/// <summary>The <c>--wait</c> choice: its command-line spelling and the library strategy it stands for.</summary>
internal sealed record DemoWait(string Name, WaitStrategy Strategy)
{
    public static readonly DemoWait Spin = new("spin", WaitStrategy.BusySpin);
    public static readonly DemoWait Block = new("block", WaitStrategy.SpinThenBlock);

    public static DemoWait Parse(string name) => name == Block.Name ? Block : Spin;
}
