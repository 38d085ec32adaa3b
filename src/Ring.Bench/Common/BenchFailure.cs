namespace Ring.Bench.Common;

/// <summary>A failure the command reports as one line and a non-zero exit code, without a stack trace.</summary>
internal sealed class BenchFailure(string message) : Exception(message);
