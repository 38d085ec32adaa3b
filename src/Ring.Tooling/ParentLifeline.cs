using System.Runtime.InteropServices;

namespace Ring.Tooling;

/// <summary>
/// The child's side of <see cref="ChildOptions.Lifeline"/>: a child started by a parent that owns it notices when
/// that parent is gone, without polling, and leaves stopping to the parent.
/// </summary>
public static class ParentLifeline
{
    /// <summary>
    /// Runs <paramref name="onParentGone"/> on a background thread once stdin reaches end-of-file: the parent never
    /// writes to it, so that happens when the parent has exited, however it exited.
    /// </summary>
    public static void OnParentExit(Action onParentGone)
    {
        Thread watcher = new(() =>
        {
            using Stream stdin = Console.OpenStandardInput();
            byte[] buffer = new byte[64];
            while (stdin.Read(buffer) > 0)
            {
            }
            onParentGone();
        })
        {
            IsBackground = true,
            Name = "parent watcher",
        };
        watcher.Start();
    }

    /// <summary>
    /// Ignores SIGINT until disposed: Ctrl+C reaches the whole foreground process group, and the parent alone
    /// decides when its child stops.
    /// </summary>
    public static PosixSignalRegistration IgnoreInterrupt() =>
        PosixSignalRegistration.Create(PosixSignal.SIGINT, context => context.Cancel = true);
}
