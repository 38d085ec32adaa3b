using Ring.Tooling;

namespace Ring.Stress;

/// <summary>
/// The fixed bundles of <c>--profile</c>. <b>ci</b> must fit the CI budget (shared with the test suite) of about
/// 6 minutes on a 2-core machine, so it runs ~4.7 minutes of phases: SPSC and MPMC, threads and processes,
/// busy-spin, spin-then-yield and spin-then-block waits, messages of 24 B (the stress prefix; sizes below it cannot carry the checks) to
/// 4 KiB, and two processes phases whose kill interval yields well over 200 SIGKILLs with replacement plus
/// SIGSTOP pauses of 80..300 ms (past the 50 ms recovery threshold). <b>soak</b> is the same mix for an hour.
/// </summary>
public static class Profiles
{
    private const int MaxSize = 4096;

    /// <summary>The phases of a profile.</summary>
    public static IReadOnlyList<EngineSettings> Get(string name, ulong seed, bool progress)
    {
        double scale = name == "soak" ? 12.5 : 1.0;
        // Named for what it runs, e.g. ci-mpmc-processes-spin-then-yield-faults.
        EngineSettings Phase(RingKind kind, int producers, int consumers, EngineMode mode, WaitStrategy wait, double seconds,
            TimeSpan? kill = null, TimeSpan? pause = null) => new()
        {
            Name = string.Join('-', name, kind.ToString().ToLowerInvariant(), mode.ToString().ToLowerInvariant(), EnumNames.Of(wait))
                + (kill is null ? "" : "-faults"),
            Kind = kind,
            Producers = producers,
            Consumers = consumers,
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
        ];
    }
}
