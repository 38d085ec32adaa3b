namespace Ring.Bench.Demo;

/// <summary>The demo's options, parsed.</summary>
internal sealed record DemoSettings(TimeSpan StreamDuration, int MessageSize, WaitStrategy Wait, bool Pin);
