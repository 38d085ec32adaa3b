using Ring.Stress;
using Ring.Tooling;

namespace Ring.Tests;

/// <summary>The Ring.Stress <c>worker</c> as a child of a test, and the JSON result line it prints.</summary>
internal static class StressWorker
{
    /// <summary>The program, copied next to the test assembly by the project reference.</summary>
    public const string Program = "Ring.Stress";

    /// <summary>Starts <c>Ring.Stress worker ARGS</c> with its output captured.</summary>
    public static ChildProcess Start(params IEnumerable<string> workerArguments) =>
        ChildProcess.StartProgram(Program, ["worker", .. workerArguments]);

    /// <summary>Starts <c>Ring.Stress worker ARGS</c> with <paramref name="environment"/> added to what it inherits.</summary>
    public static ChildProcess Start(IReadOnlyDictionary<string, string?> environment, params IEnumerable<string> workerArguments) =>
        ChildProcess.StartProgram(Program, ["worker", .. workerArguments], new ChildOptions { Environment = environment });

    /// <summary>
    /// The worker's result: the last stdout line, parsed. Throws with the child's output when there is none
    /// or it is not a result line.
    /// </summary>
    public static WorkerResult ReadWorkerResult(this ChildProcess child)
    {
        string? line = child.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (line is null) throw new InvalidOperationException($"child {child.Id} printed no result line.\n{child.Describe()}");
        try
        {
            return WorkerResult.FromJson(line) ?? throw new InvalidOperationException($"child {child.Id} printed 'null' as its result.\n{child.Describe()}");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidOperationException($"child {child.Id} printed a result line that is not JSON: {e.Message}\n{child.Describe()}", e);
        }
    }
}
