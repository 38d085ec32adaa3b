using System.Diagnostics;
using Ring.Tooling;
using Xunit.Sdk;

namespace Ring.Tests;

/// <summary>Waits for something real that no event announces: a segment's state, a process's state in /proc.</summary>
internal static class Polling
{
    /// <summary>
    /// Polls <paramref name="condition"/> about every millisecond until it holds; fails past <paramref name="deadline"/>
    /// naming what it waited for (with <paramref name="state"/>, if given) and the child's output. With
    /// <paramref name="childMustRun"/> it fails as soon as the child has exited: the condition needs it running.
    /// </summary>
    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan deadline, ChildProcess? child,
        bool childMustRun = false, Func<string>? state = null)
    {
        long start = Stopwatch.GetTimestamp();
        while (!condition())
        {
            if (childMustRun && child is { HasExited: true })
                throw new XunitException($"the child exited while waiting for {what}.\n{child.Describe()}");
            if (Stopwatch.GetElapsedTime(start) > deadline)
                throw new XunitException($"timed out after {deadline.TotalSeconds:0} s waiting for {what}{(state is null ? "" : $" ({state()})")}.\n{child?.Describe()}");
            await Task.Delay(1);
        }
    }

    /// <summary>Until a live process <paramref name="child"/> holds <paramref name="role"/> on the segment.</summary>
    public static Task UntilRoleAsync(RingSegment segment, RingRole role, ChildProcess child, TimeSpan deadline) =>
        UntilAsync(() => segment.GetStatus().Participants.Any(p => p.IsAlive && p.Pid == child.Id && (p.Roles & role) != 0),
            $"the child to take the {role} role", deadline, child, childMustRun: true);
}
