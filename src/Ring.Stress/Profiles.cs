using Ring.Tooling;

namespace Ring.Stress;

/// <summary>
/// The fixed bundles of <c>--profile</c>. <b>ci</b> must fit the CI budget (shared with the test suite) of about
/// 6 minutes on a 2-core machine, so it runs ~5.7 minutes of phases: SPSC, MPMC and broadcast, threads and processes,
/// busy-spin, spin-then-yield and spin-then-block waits, messages of 24 B (the stress prefix; sizes below it cannot carry the checks) to
/// 4 KiB, and four processes phases whose kill interval yields well over 200 SIGKILLs with replacement plus
/// SIGSTOP pauses of 80..300 ms (past the 50 ms recovery threshold). The broadcast phases: four subscribers under
/// Block, which a paused one gates and a killed one stops gating; and under Overwrite three and a slow one, all of
/// them lapped now and then (by the pauses too) and held to the losses they were told of. <b>soak</b> is the same mix for an hour.
/// </summary>
public static class Profiles
{
    private const int MaxSize = 4096;

    /// <summary>The phases of a profile.</summary>
    public static IReadOnlyList<EngineSettings> Get(string name, ulong seed, bool progress)
    {
        double scale = name == "soak" ? 12.5 : 1.0;
        // Named for what it runs, e.g. ci-mpmc-processes-spin-then-yield-faults or ci-broadcast-overwrite-processes-spin-then-yield-faults.
        EngineSettings Phase(RingKind kind, int producers, int consumers, EngineMode mode, WaitStrategy wait, double seconds,
            TimeSpan? kill = null, TimeSpan? pause = null, BroadcastOverflow? overflow = null, int slow = 0) => new()
        {
            Name = string.Join('-', new[] { name, kind.ToString(), overflow?.ToString(), mode.ToString(), EnumNames.Of(wait), kill is null ? null : "faults" }
                .OfType<string>().Select(part => part.ToLowerInvariant())),
            Kind = kind,
            Producers = producers,
            Consumers = consumers,
            Overflow = overflow ?? BroadcastOverflow.Block,
            SlowSubscribers = slow,
            Mode = mode,
            Wait = wait,
            Duration = TimeSpan.FromSeconds(seconds * scale),
            MinSize = StressMessage.PrefixLength,
            MaxSize = MaxSize,
            Capacity = 1 << 20,
            KillInterval = kill,
            PauseInterval = pause,
            Seed = seed,
            Progress = progress,
        };
        TimeSpan killEvery = TimeSpan.FromMilliseconds(600);
        TimeSpan pauseEvery = TimeSpan.FromSeconds(1.5);
        return
        [
            Phase(RingKind.Spsc, 1, 1, EngineMode.Threads, WaitStrategy.BusySpin, 35),
            Phase(RingKind.Mpmc, 2, 2, EngineMode.Threads, WaitStrategy.SpinThenBlock, 35),
            Phase(RingKind.Spsc, 1, 1, EngineMode.Processes, WaitStrategy.SpinThenBlock, 95, killEvery, pauseEvery),
            Phase(RingKind.Mpmc, 2, 2, EngineMode.Processes, WaitStrategy.SpinThenYield, 95, killEvery, pauseEvery),
            Phase(RingKind.Broadcast, 1, 4, EngineMode.Processes, WaitStrategy.SpinThenBlock, 35, killEvery, pauseEvery, BroadcastOverflow.Block),
            Phase(RingKind.Broadcast, 1, 4, EngineMode.Processes, WaitStrategy.SpinThenYield, 25, killEvery, pauseEvery, BroadcastOverflow.Overwrite, slow: 1),
        ];
    }
}
