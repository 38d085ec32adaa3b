using Ring.Tooling;

namespace Ring.Bench.Common;

/// <summary>The peer processes of demo and compare: this program again, on the console, on a lifeline.</summary>
internal static class BenchChild
{
    private static readonly ChildOptions Options = new() { CaptureOutput = false, Lifeline = true };

    /// <summary>Starts <c>Ring.Bench ARGS</c>; it notices through <see cref="ParentLifeline"/> when this process is gone.</summary>
    public static ChildProcess Start(IEnumerable<string> arguments) => ChildProcess.StartProgram("Ring.Bench", arguments, Options);
}
