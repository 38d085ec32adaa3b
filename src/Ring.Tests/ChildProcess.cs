using System.Diagnostics;
using System.Text;
using Ring.Stress;

namespace Ring.Tests;

/// <summary>
/// A real child process started by a test: its stdout and stderr are collected as it runs, <see cref="Kill"/>
/// is a SIGKILL (for fault injection), and disposing kills it if it is still running, so a failing or timed-out
/// test never leaves a child behind. <see cref="Describe"/> gives everything needed in an assertion message.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _disposed;

    private ChildProcess(ProcessStartInfo startInfo)
    {
        CommandLine = string.Join(' ', startInfo.ArgumentList.Prepend(startInfo.FileName).Select(Quote));
        _process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => Collect(_stdout, _stdoutClosed, e.Data);
        _process.ErrorDataReceived += (_, e) => Collect(_stderr, _stderrClosed, e.Data);
        _process.Exited += (_, _) => _exited.TrySetResult(_process.ExitCode);
        if (!_process.Start()) throw new InvalidOperationException($"could not start {CommandLine}");
        Id = _process.Id;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The dotnet host to run managed children with: DOTNET_HOST_PATH, this process's host, or "dotnet" on PATH.</summary>
    public static string DotnetHost
    {
        get
        {
            string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(host) && File.Exists(host)) return host;
            string? self = Environment.ProcessPath;
            if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
            return "dotnet";
        }
    }

    /// <summary>Ring.Stress.dll, copied next to the test assembly by the project reference.</summary>
    public static string StressAssembly => Path.Combine(AppContext.BaseDirectory, "Ring.Stress.dll");

    /// <summary>The process id.</summary>
    public int Id { get; }

    /// <summary>What was started, quoted for a shell.</summary>
    public string CommandLine { get; }

    /// <summary>Completes with the exit code when the process exits (stdout/stderr may still be draining).</summary>
    public Task<int> Exited => _exited.Task;

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>Everything the child wrote to stdout so far.</summary>
    public string StandardOutput
    {
        get
        {
            lock (_stdout) return _stdout.ToString();
        }
    }

    /// <summary>Everything the child wrote to stderr so far.</summary>
    public string StandardError
    {
        get
        {
            lock (_stderr) return _stderr.ToString();
        }
    }

    /// <summary>Starts <c>dotnet Ring.Stress.dll worker ARGS</c>.</summary>
    public static ChildProcess StartStressWorker(params IEnumerable<string> workerArguments) =>
        Start(DotnetHost, [StressAssembly, "worker", .. workerArguments]);

    /// <summary>Starts a program with its output redirected; the child inherits this process's environment plus <paramref name="environment"/>.</summary>
    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null)
    {
        ProcessStartInfo startInfo = new(fileName)
        {
            RedirectStandardInput = true, // a child waiting on stdin gets EOF instead of the test runner's input
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (string argument in arguments) startInfo.ArgumentList.Add(argument);
        if (environment is not null)
        {
            foreach ((string key, string? value) in environment) startInfo.Environment[key] = value;
        }
        ChildProcess child = new(startInfo);
        child._process.StandardInput.Close();
        return child;
    }

    /// <summary>
    /// Waits for the child to exit and its output to drain; returns the exit code. Past <paramref name="timeout"/>
    /// (or on cancellation) the child is killed and a <see cref="TimeoutException"/> carrying its output is thrown.
    /// </summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using CancellationTokenSource limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            int exitCode = await _exited.Task.WaitAsync(limit.Token).ConfigureAwait(false);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(limit.Token).ConfigureAwait(false);
            return exitCode;
        }
        catch (OperationCanceledException)
        {
            Kill();
            string why = cancellationToken.IsCancellationRequested ? "the wait was cancelled" : $"it ran past {timeout.TotalSeconds:0.#} s";
            throw new TimeoutException($"killed child {Id}: {why}.\n{Describe()}");
        }
    }

    /// <summary>
    /// The worker's result: the last stdout line, parsed. Throws with the child's output when there is none
    /// or it is not a result line.
    /// </summary>
    public WorkerResult ReadWorkerResult()
    {
        string? line = StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (line is null) throw new InvalidOperationException($"child {Id} printed no result line.\n{Describe()}");
        try
        {
            return WorkerResult.FromJson(line) ?? throw new InvalidOperationException($"child {Id} printed 'null' as its result.\n{Describe()}");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidOperationException($"child {Id} printed a result line that is not JSON: {e.Message}\n{Describe()}", e);
        }
    }

    /// <summary>SIGKILL: the child gets no chance to clean up, as in a crash.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    /// <summary>Command line, exit status, stdout and stderr, for assertion messages.</summary>
    public string Describe()
    {
        string status = HasExited ? $"exited with code {_exited.Task.Result}" : "still running";
        return $"child {Id} ({CommandLine}) {status}\n--- stdout ---\n{StandardOutput}--- stderr ---\n{StandardError}--- end ---";
    }

    /// <summary>Kills the child if it is still running and releases the process handle.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!HasExited)
        {
            Kill();
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
    }

    private static void Collect(StringBuilder sink, TaskCompletionSource closed, string? line)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }
        lock (sink) sink.Append(line).Append('\n');
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or '=' or ':' or ',')
            ? argument
            : $"'{argument.Replace("'", "'\\''", StringComparison.Ordinal)}'";
}
