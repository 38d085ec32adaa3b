using System.Diagnostics;

namespace Ring.Integrity;

/// <summary>
/// The stress mode of the integrity harness: generated scenarios on free-running threads, each scenario run
/// many times on one ring (drained between runs), all threads released together by a barrier. The step
/// scheduler is sequentially consistent; only real threads on real cores can expose a missing fence.
/// <para>
/// Its short waits may time out, so a lost wake-up there passes for a legal timeout. The blocking mode runs balanced
/// scenarios instead (<see cref="ScenarioSampler.Balanced"/>), in which every blocking call must succeed promptly: a
/// call that waits past <see cref="StallLimit"/> is a probable lost wake-up, the bug a missing fence between a
/// publishing store and the eventcount's waiter check makes.
/// </para>
/// </summary>
public static class FreeRunStress
{
    /// <param name="Blocking">Balanced scenarios of blocking calls, each judged by how long it waited too.</param>
    /// <param name="Variant">The ring as built, or a fence mutation (<see cref="EndpointFactories.FreeRunning"/>) to prove the blocking mode can fail.</param>
    public sealed record Settings(int Scenarios, int RunsPerScenario, int Seed, bool Blocking = false, RingVariant Variant = RingVariant.Correct);

    /// <param name="OverlappingRuns">Runs in which two threads' calls overlapped in time: the runs that tested concurrency at all.</param>
    public sealed record Result(int Scenarios, long Runs, long OverlappingRuns, long Operations, int Failures, TimeSpan Elapsed, IReadOnlyList<string> Reports);

    public static Result Run(Settings settings, TextWriter log)
    {
        // The fence mutations are the SPSC ring's: the MPMC shapes would run the ring as built.
        RingShape[] shapes = settings.Variant == RingVariant.Correct ? Enum.GetValues<RingShape>() : [RingShape.Spsc1P1C];
        Stopwatch clock = Stopwatch.StartNew();
        long runs = 0, overlapping = 0, operations = 0;
        List<string> reports = [];
        for (int index = 0; index < settings.Scenarios; index++)
        {
            RingShape shape = shapes[index % shapes.Length];
            Scenario scenario = Generate(shape, settings.Seed, index, settings.Blocking);
            (long done, long overlapped, long ops, string? report) = RunScenario(scenario, settings.RunsPerScenario, settings.Variant);
            runs += done;
            overlapping += overlapped;
            operations += ops;
            if (report is not null)
            {
                reports.Add($"scenario {index} (seed {settings.Seed}): {report}");
                log.WriteLine($"FAIL scenario {index} after {done} runs ({runs:N0} runs, {clock.Elapsed.TotalSeconds:F1} s into the whole):\n{report}");
            }
            if ((index + 1) % 20 == 0 || index + 1 == settings.Scenarios)
                log.WriteLine($"  {index + 1}/{settings.Scenarios} scenarios, {runs:N0} runs ({overlapping * 100.0 / Math.Max(1, runs):F0}% with overlapping calls), {operations:N0} operations checked, {reports.Count} failed, {clock.Elapsed.TotalSeconds:F0} s");
        }
        return new Result(settings.Scenarios, runs, overlapping, operations, reports.Count, clock.Elapsed, reports);
    }

    /// <summary>
    /// How long one run may take before it counts as hung. A run is at most a few dozen calls whose waits last at
    /// most 300 µs, or in a blocking run end as soon as their partner comes; even a loaded machine finishes one in
    /// milliseconds. Far above <see cref="BlockingTimeout"/>, so that a call that timed out is reported as such.
    /// </summary>
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The blocking calls' timeout. A correct ring never reaches it, since every call's partner comes; it only has to
    /// stay above <see cref="StallLimit"/>, so that a sleeper whose wake-up was lost sleeps its whole bounded sleep.
    /// </summary>
    public static readonly TimeSpan BlockingTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The longest a call of a balanced scenario may take. A sleeper whose wake-up was lost sleeps until its sleep runs
    /// out (<see cref="Waiter.MaxSleep"/>), then re-checks and finds what it was waiting for: the call succeeds, late, and
    /// only its length shows the loss. A healthy call waits for its partner's next step: microseconds, but up to 91 ms
    /// when a thread was pre-empted on a loaded two-core machine (2 calls past 20 ms in 1.2 million runs). Half a sleep
    /// is well above that and well below what a loss costs. An MPMC sleeper wakes on its own every 100 ms at most
    /// (<see cref="MpmcProtocol.IdleSleep"/>), so a lost MPMC wake-up costs less than pre-emption can: this limit sees
    /// only SPSC ones.
    /// </summary>
    public static readonly TimeSpan StallLimit = Waiter.MaxSleep / 2;

    /// <summary>The sampler's size for stress scenarios: up to 7 calls per thread.</summary>
    private const int ScenarioSize = 20;

    /// <summary>Scenario <paramref name="index"/> of the run seeded <paramref name="seed"/>: the same pair gives the same scenario.</summary>
    public static Scenario Generate(RingShape shape, int seed, int index, bool blocking = false)
    {
        Random random = new(unchecked(seed * 1_000_003 + index));
        return blocking
            ? ScenarioSampler.Balanced(shape, random, ScenarioSize, BlockingTimeout)
            : ScenarioSampler.Scenario(shape, random, ScenarioSize, completion: false);
    }

    /// <summary>Runs the scenario up to <paramref name="runs"/> times; stops at the first failing run and returns its report.</summary>
    public static (long Runs, long OverlappingRuns, long Operations, string? Report) RunScenario(Scenario scenario, int runs, RingVariant variant = RingVariant.Correct)
    {
        using ScenarioRunner runner = new(scenario, EndpointFactories.FreeRunning(variant), Stopwatch.GetTimestamp);
        Action[] bodies = runner.Bodies();
        using Barrier start = new(bodies.Length + 1);
        using Barrier end = new(bodies.Length + 1);
        string?[] thrown = new string?[bodies.Length];
        bool stop = false;
        int arrived = 0;
        Thread[] threads = new Thread[bodies.Length];
        for (int t = 0; t < bodies.Length; t++)
        {
            int thread = t;
            threads[t] = new Thread(() =>
            {
                Random jitter = new(thread);
                for (int run = 1; ; run++)
                {
                    start.SignalAndWait();
                    if (Volatile.Read(ref stop)) return;
                    if (scenario.Balanced) Rendezvous(ref arrived, run * bodies.Length, jitter);
                    try
                    {
                        bodies[thread]();
                    }
                    catch (Exception exception)
                    {
                        thrown[thread] = $"t{thread} threw {exception.GetType().Name}: {exception.Message}";
                    }
                    end.SignalAndWait();
                }
            }) { IsBackground = true, Name = $"integrity-{thread}" };
            threads[t].Start();
        }
        long done = 0, overlapping = 0, operations = 0;
        string? report = null;
        bool hung = false;
        try
        {
            for (int run = 0; run < runs && report is null; run++)
            {
                runner.BeginRun();
                start.SignalAndWait();
                if (!end.SignalAndWait(RunLimit))
                {
                    hung = true;
                    report = $"run {run} of {scenario}\nproblems:\n  - a thread was still inside the ring {RunLimit.TotalSeconds:0} s after the run began: a call never returned";
                    break;
                }
                string? failure = Array.Find(thrown, t => t is not null);
                RunVerdict verdict = runner.Check(failure);
                if (scenario.Balanced && FindStall(verdict.History) is { } stall) verdict.Problems.Add(stall);
                done++;
                operations += verdict.History.Count;
                if (HasOverlap(verdict.History)) overlapping++;
                if (!verdict.Passed)
                {
                    report = $"run {run} of {scenario}\nproblems:\n  - {string.Join("\n  - ", verdict.Problems)}\nhistory:\n{verdict.FormatHistory()}";
                }
            }
        }
        finally
        {
            // A hung thread never reaches the barrier again; it and the ones waiting for it are left behind (background threads).
            if (!hung)
            {
                Volatile.Write(ref stop, true);
                start.SignalAndWait();
                foreach (Thread thread in threads) thread.Join();
            }
        }
        return (done, overlapping, operations, report);
    }

    /// <summary>
    /// Lines a blocking run's threads up again after the barrier, spinning. The barrier wakes them from the kernel one by
    /// one, microseconds apart, and the race of a publish against a waiter's registration is nanoseconds wide; the random
    /// spin after the rendezvous moves each thread's start across that window from run to run. With it the
    /// tail-without-fence ring was caught four times as often (13 against 3 lost wake-ups in about 400,000 runs, seeds
    /// 2-5). The short-wait runs go without: they overlapped less with it (57% of 200,000 runs against 60%, seed 7), and
    /// cannot show a lost wake-up anyway.
    /// </summary>
    private static void Rendezvous(ref int arrived, int all, Random jitter)
    {
        Interlocked.Increment(ref arrived);
        SpinWait wait = default;
        while (Volatile.Read(ref arrived) < all) wait.SpinOnce(sleep1Threshold: -1);
        for (int step = jitter.Next(JitterSteps + 1); step > 0; step--) Thread.SpinWait(1);
    }

    /// <summary>The random spin after the rendezvous: 0 to this many SpinWait(1) steps, as the lost-wake-up detector's signaller.</summary>
    private const int JitterSteps = LostWakeUpDetector.DefaultJitterSteps;

    /// <summary>The first call that waited past <see cref="StallLimit"/>, timed out or not, as a problem of the run.</summary>
    private static string? FindStall(List<QueueOperation> history)
    {
        foreach (QueueOperation op in history)
        {
            TimeSpan waited = Stopwatch.GetElapsedTime(op.Invoke, op.Response);
            if (waited > StallLimit)
                return $"{op} took {waited.TotalMilliseconds:N0} ms ({(op.Succeeded ? "it succeeded late" : "it timed out")}); every blocking call of a balanced scenario has a partner: a probable lost wake-up";
        }
        return null;
    }

    /// <summary>Whether some call began before another thread's earlier call returned (the history is sorted by invoke).</summary>
    private static bool HasOverlap(List<QueueOperation> history)
    {
        long latestResponse = long.MinValue;
        int latestThread = -1;
        foreach (QueueOperation op in history)
        {
            if (op.Invoke < latestResponse && op.Thread != latestThread) return true;
            if (op.Response > latestResponse) (latestResponse, latestThread) = (op.Response, op.Thread);
        }
        return false;
    }
}
