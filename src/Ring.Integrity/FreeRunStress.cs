using System.Diagnostics;

namespace Ring.Integrity;

/// <summary>
/// The stress mode of the integrity harness: generated scenarios on free-running threads, each scenario run
/// many times on one ring (drained between runs), all threads released together by a barrier. The step
/// scheduler is sequentially consistent; only real threads on real cores can expose a missing fence.
/// </summary>
public static class FreeRunStress
{
    public sealed record Settings(int Scenarios, int RunsPerScenario, int Seed);

    /// <param name="OverlappingRuns">Runs in which two threads' calls overlapped in time: the runs that tested concurrency at all.</param>
    public sealed record Result(int Scenarios, long Runs, long OverlappingRuns, long Operations, int Failures, TimeSpan Elapsed, IReadOnlyList<string> Reports);

    public static Result Run(Settings settings, TextWriter log)
    {
        RingShape[] shapes = Enum.GetValues<RingShape>();
        Stopwatch clock = Stopwatch.StartNew();
        long runs = 0, overlapping = 0, operations = 0;
        List<string> reports = [];
        for (int index = 0; index < settings.Scenarios; index++)
        {
            RingShape shape = shapes[index % shapes.Length];
            Scenario scenario = Generate(shape, settings.Seed, index);
            (long done, long overlapped, long ops, string? report) = RunScenario(scenario, settings.RunsPerScenario);
            runs += done;
            overlapping += overlapped;
            operations += ops;
            if (report is not null)
            {
                reports.Add($"scenario {index} (seed {settings.Seed}): {report}");
                log.WriteLine($"FAIL scenario {index} after {done} runs:\n{report}");
            }
            if ((index + 1) % 20 == 0 || index + 1 == settings.Scenarios)
                log.WriteLine($"  {index + 1}/{settings.Scenarios} scenarios, {runs:N0} runs ({overlapping * 100.0 / Math.Max(1, runs):F0}% with overlapping calls), {operations:N0} operations checked, {reports.Count} failed, {clock.Elapsed.TotalSeconds:F0} s");
        }
        return new Result(settings.Scenarios, runs, overlapping, operations, reports.Count, clock.Elapsed, reports);
    }

    /// <summary>
    /// How long one run may take before it counts as hung. A run is at most a few dozen calls whose waits last at
    /// most 300 µs; even a loaded machine finishes one in milliseconds.
    /// </summary>
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(30);

    /// <summary>The sampler's size for stress scenarios: up to 7 calls per thread.</summary>
    private const int ScenarioSize = 20;

    /// <summary>Scenario <paramref name="index"/> of the run seeded <paramref name="seed"/>: the same pair gives the same scenario.</summary>
    public static Scenario Generate(RingShape shape, int seed, int index) =>
        ScenarioSampler.Scenario(shape, new Random(unchecked(seed * 1_000_003 + index)), ScenarioSize, completion: false);

    /// <summary>Runs the scenario up to <paramref name="runs"/> times; stops at the first failing run and returns its report.</summary>
    public static (long Runs, long OverlappingRuns, long Operations, string? Report) RunScenario(Scenario scenario, int runs)
    {
        using ScenarioRunner runner = new(scenario, EndpointFactories.Direct, Stopwatch.GetTimestamp);
        Action[] bodies = runner.Bodies();
        using Barrier start = new(bodies.Length + 1);
        using Barrier end = new(bodies.Length + 1);
        string?[] thrown = new string?[bodies.Length];
        bool stop = false;
        Thread[] threads = new Thread[bodies.Length];
        for (int t = 0; t < bodies.Length; t++)
        {
            int thread = t;
            threads[t] = new Thread(() =>
            {
                while (true)
                {
                    start.SignalAndWait();
                    if (Volatile.Read(ref stop)) return;
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
