using System.Runtime.InteropServices;

namespace Ring.Tooling;

/// <summary>
/// The cleanup duty of a parent that runs one session at a time — one child, or several sharing the names it
/// created for them (segments, files): the children are killed and the names removed on every way out this process
/// controls. Disposing does it on a
/// normal end; SIGINT or SIGTERM, or a child that fails (exits non-zero) while the parent still talks to it, do
/// it from their own thread and end the process, because the parent's main thread may be waiting on that child
/// without a timeout. A child started with <see cref="ChildOptions.Lifeline"/> covers the rest (a parent killed
/// outright) through <see cref="ParentLifeline"/>.
/// </summary>
/// <remarks>
/// A child's exit code 0 is never a failure here: the children exit 0 only once told to, after their last
/// message, which the main thread then reads and checks itself.
/// </remarks>
public sealed class ChildSupervisor : IDisposable
{
    private const int ExitFailure = 1;

    private readonly string _program;
    private readonly Lock _gate = new();
    private readonly PosixSignalRegistration _sigint;
    private readonly PosixSignalRegistration _sigterm;
    private readonly List<ChildProcess> _children = []; // guarded by _gate, shared with the signal and exit handlers
    private Action? _removeNames; // guarded by _gate
    private bool _stopping; // guarded by _gate: from here on the child's exit is expected
    private volatile string _activity = "starting the child";

    /// <param name="program">The name error lines start with, e.g. <c>demo</c>.</param>
    public ChildSupervisor(string program)
    {
        _program = program;
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>What the parent is doing, for the error line when the child fails: "streaming", "waiting for the child".</summary>
    public string Activity
    {
        get => _activity;
        set => _activity = value;
    }

    /// <summary>
    /// Makes <paramref name="removeNames"/> part of the cleanup until <see cref="EndChild"/>; call it before creating
    /// the names it removes, so there is no moment they exist and nobody would remove them.
    /// </summary>
    /// <exception cref="OperationCanceledException">The cleanup has begun: the process is on its way out.</exception>
    public void OwnNames(Action removeNames)
    {
        lock (_gate)
        {
            ThrowIfStopping();
            _removeNames = removeNames;
        }
    }

    /// <summary>
    /// Runs <paramref name="start"/> under the cleanup's lock, so a signal either comes first and no child starts,
    /// or comes after and finds the child to kill; from then on a failing child ends the process. A session may
    /// start several children: each joins the ones before it until <see cref="EndChild"/>.
    /// </summary>
    /// <exception cref="OperationCanceledException">The cleanup has begun: the process is on its way out.</exception>
    public ChildProcess StartChild(Func<ChildProcess> start)
    {
        ChildProcess child;
        lock (_gate)
        {
            ThrowIfStopping();
            child = start();
            _children.Add(child);
        }
        child.Exited.ContinueWith(exited => OnChildExited(child, exited.Result), TaskScheduler.Default);
        return child;
    }

    /// <summary>The session is over: kills its children that still run, and forgets them and the names.</summary>
    public void EndChild()
    {
        ChildProcess[] children;
        lock (_gate)
        {
            children = [.. _children];
            _children.Clear();
            _removeNames = null;
        }
        foreach (ChildProcess child in children) child.Dispose();
    }

    /// <summary>Kills the children and removes the names, then stops listening for signals.</summary>
    public void Dispose()
    {
        Cleanup();
        _sigint.Dispose();
        _sigterm.Dispose();
        lock (_gate)
        {
            foreach (ChildProcess child in _children) child.Dispose();
            _children.Clear();
        }
    }

    private void ThrowIfStopping()
    {
        if (_stopping) throw new OperationCanceledException($"{_program}: stopping");
    }

    private void OnChildExited(ChildProcess child, int code)
    {
        lock (_gate)
        {
            if (_stopping || code == 0 || !_children.Contains(child)) return;
        }
        Console.Error.WriteLine($"{_program}: error: the child exited with code {code} while the parent was {_activity}");
        Cleanup();
        Environment.Exit(ExitFailure);
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // the default would end the process without removing the names
        Console.Error.WriteLine($"{_program}: {context.Signal}: stopping the child and removing its files");
        Cleanup();
        Environment.Exit(context.Signal == PosixSignal.SIGINT ? 128 + (int)Platform.Signal.SIGINT : 128 + (int)Platform.Signal.SIGTERM);
    }

    /// <summary>
    /// Kills the children and removes the names, without unmapping or closing anything: the main thread may be inside
    /// a measured loop on a mapping, and the process is about to exit anyway.
    /// </summary>
    private void Cleanup()
    {
        lock (_gate)
        {
            _stopping = true;
            foreach (ChildProcess child in _children)
            {
                if (!child.HasExited) child.Kill();
            }
            _removeNames?.Invoke();
        }
    }
}
