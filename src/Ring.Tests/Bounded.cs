using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Ring.Tests;

/// <summary>
/// Runs a test body that drives a ring on a thread of its own, so that a call into the ring that never returns
/// (a non-blocking call spinning on a bad position, say) fails the test by name instead of hanging the run. The
/// runsettings' hang timeout is the net below this: it kills the whole test host.
/// </summary>
internal static class Bounded
{
    /// <summary>Far above what any body run through here needs (milliseconds to a few seconds on a loaded machine).</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public static void Run(Action body, [CallerMemberName] string caller = "")
    {
        ExceptionDispatchInfo? failure = null;
        Thread thread = new(() =>
        {
            try
            {
                body();
            }
            catch (Exception exception)
            {
                failure = ExceptionDispatchInfo.Capture(exception);
            }
        }) { IsBackground = true, Name = $"bounded {caller}" };
        thread.Start();
        // A thread cannot be stopped from outside: on timeout it is left running, in the background.
        if (!thread.Join(Limit)) Assert.Fail($"{caller}: the ring was still busy after {Limit.TotalSeconds:0} s: a call into it never returned.");
        failure?.Throw();
    }
}
