using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Ring.Tooling;

/// <summary>How a <see cref="ChildProcess"/> is started.</summary>
public sealed record ChildOptions
{
    /// <summary>
    /// Collect stdout and stderr (see <see cref="ChildProcess.StandardOutput"/>); false lets the child write to
    /// this process's own.
    /// </summary>
    public bool CaptureOutput { get; init; } = true;

    /// <summary>
    /// Keep the child's stdin a pipe this process never writes to and never closes, so the child reads end-of-file
    /// once this process has exited, however it exited, SIGKILL included (<see cref="ParentLifeline"/>). False
    /// closes the child's stdin at once: a child reading it gets end-of-file instead of this process's input.
    /// </summary>
    public bool Lifeline { get; init; }

    /// <summary>Variables added to (or, with a null value, removed from) the environment the child inherits.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }
}

/// <summary>
/// A program started as a child of this process: what it wrote is collected as it runs (or passes through),
/// <see cref="Kill"/> is a SIGKILL, and disposing kills it if it is still running, so a failing or timed-out
/// caller never leaves a child behind. <see cref="Describe"/> gives everything needed in an error message.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    /// <summary>How long <see cref="Dispose"/> waits for a killed child to be gone.</summary>
    private static readonly TimeSpan DisposeTimeout = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _disposed;

    private ChildProcess(ProcessStartInfo startInfo, bool captureOutput)
    {
        CommandLine = string.Join(' ', startInfo.ArgumentList.Prepend(startInfo.FileName).Select(Quote));
        _process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        if (captureOutput)
        {
            _process.OutputDataReceived += (_, e) => Collect(_stdout, _stdoutClosed, e.Data);
            _process.ErrorDataReceived += (_, e) => Collect(_stderr, _stderrClosed, e.Data);
        }
        else
        {
            _stdoutClosed.SetResult();
            _stderrClosed.SetResult();
        }
        _process.Exited += (_, _) => _exited.TrySetResult(_process.ExitCode);
        try
        {
            _process.Start(); // true for every start that is not a shell's reuse of a running process
        }
        catch (Win32Exception e)
        {
            _process.Dispose();
            throw new IOException($"could not start {CommandLine}: {e.Message}", e);
        }
        Id = _process.Id;
        if (captureOutput)
        {
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }
    }

    /// <summary>The dotnet host to run managed programs with: DOTNET_HOST_PATH, this process's host, or "dotnet" on PATH.</summary>
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

    /// <summary>The process id.</summary>
    public int Id { get; }

    /// <summary>What was started, quoted for a shell.</summary>
    public string CommandLine { get; }

    /// <summary>Completes with the exit code when the process exits (captured output may still be draining).</summary>
    public Task<int> Exited => _exited.Task;

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>The exit code (128 + the signal for a process a signal ended); only once <see cref="HasExited"/>.</summary>
    public int ExitCode => HasExited ? _exited.Task.Result : throw new InvalidOperationException($"child {Id} is still running");

    /// <summary>Everything the child wrote to stdout so far (empty unless <see cref="ChildOptions.CaptureOutput"/>).</summary>
    public string StandardOutput
    {
        get
        {
            lock (_stdout) return _stdout.ToString();
        }
    }

    /// <summary>Everything the child wrote to stderr so far (empty unless <see cref="ChildOptions.CaptureOutput"/>).</summary>
    public string StandardError
    {
        get
        {
            lock (_stderr) return _stderr.ToString();
        }
    }

    /// <summary>Starts a program; the child inherits this process's environment plus <see cref="ChildOptions.Environment"/>.</summary>
    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, ChildOptions? options = null)
    {
        options ??= new ChildOptions();
        ProcessStartInfo startInfo = new(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = options.CaptureOutput,
            RedirectStandardError = options.CaptureOutput,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) startInfo.ArgumentList.Add(argument);
        if (options.Environment is not null)
        {
            foreach ((string key, string? value) in options.Environment) startInfo.Environment[key] = value;
        }
        ChildProcess child = new(startInfo, options.CaptureOutput);
        if (!options.Lifeline) child._process.StandardInput.Close();
        return child;
    }

    /// <summary>
    /// Starts the .NET program <paramref name="assemblyName"/> that sits beside this one: through its apphost when
    /// this process is that apphost, else as <c>dotnet NAME.dll</c> (how a test host or <c>dotnet NAME.dll</c> runs).
    /// </summary>
    public static ChildProcess StartProgram(string assemblyName, IEnumerable<string> arguments, ChildOptions? options = null)
    {
        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileName(self) == assemblyName) return Start(self, arguments, options);
        return Start(DotnetHost, [Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll"), .. arguments], options);
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the child to exit and its captured output to drain; false when it
    /// is still running then (it is left running).
    /// </summary>
    public bool WaitForExit(TimeSpan timeout) => Task.WhenAll(_exited.Task, _stdoutClosed.Task, _stderrClosed.Task).Wait(timeout);

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

    /// <summary>SIGKILL to the child and everything it started: no chance to clean up, as in a crash.</summary>
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

    /// <summary>Command line, exit status, stdout and stderr, for error messages.</summary>
    public string Describe()
    {
        string status = HasExited ? $"exited with code {ExitCode}" : "still running";
        return $"child {Id} ({CommandLine}) {status}\n--- stdout ---\n{StandardOutput}--- stderr ---\n{StandardError}--- end ---";
    }

    /// <summary>Kills the child if it is still running and releases the process handle (and the lifeline with it).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!HasExited)
        {
            Kill();
            _process.WaitForExit(DisposeTimeout);
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
