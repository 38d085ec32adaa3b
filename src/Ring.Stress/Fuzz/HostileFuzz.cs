using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ring.Stress.Fuzz;

/// <summary>How one call on a corrupted ring ended, short of a typed corruption error (counted by rule).</summary>
internal enum CallOutcome
{
    Delivered,
    False,
    ArgumentError,

    /// <summary>RingCompletedException: a tail with the completion bit reads as a completed ring, which a writer of the segment may make it.</summary>
    Completed,
}

/// <summary>Outcome counts of some cases of one kind.</summary>
internal sealed class OutcomeTally
{
    private readonly long[] _byRule = new long[Enum.GetValues<RingCorruptionRule>().Max(r => (int)r) + 1];

    public long Cases;
    public long Calls;
    public long Delivered;
    public long False;
    public long ArgumentErrors;
    public long Completed;

    public void Count(CallOutcome outcome)
    {
        switch (outcome)
        {
            case CallOutcome.Delivered: Delivered++; break;
            case CallOutcome.False: False++; break;
            case CallOutcome.Completed: Completed++; break;
            default: ArgumentErrors++; break;
        }
    }

    public void CountCorrupted(RingCorruptionRule rule) => _byRule[(int)rule]++;

    public void Add(OutcomeTally other)
    {
        Cases += other.Cases;
        Calls += other.Calls;
        Delivered += other.Delivered;
        False += other.False;
        ArgumentErrors += other.ArgumentErrors;
        Completed += other.Completed;
        for (int rule = 0; rule < _byRule.Length; rule++) _byRule[rule] += other._byRule[rule];
    }

    public long Corrupted => _byRule.Sum();

    /// <summary>Typed corruption errors by rule name, the rules seen only.</summary>
    public SortedDictionary<string, long> CorruptedByRule => new(
        Enum.GetValues<RingCorruptionRule>().Where(r => _byRule[(int)r] > 0).ToDictionary(r => r.ToString(), r => _byRule[(int)r]),
        StringComparer.Ordinal);
}

/// <summary>
/// The hostile-data fuzzer: runs <see cref="HostileCase"/>s on worker threads and fails a case that does not
/// end within its call budget plus <see cref="Slack"/> (a hang), hands out a span outside the mapping, or
/// throws anything but a typed error. Case i of a run seeded S has seed <see cref="CaseSeed"/>(S, kind, i).
/// </summary>
internal static class HostileFuzz
{
    /// <summary>What a case may take beyond the sum of its timed calls' timeouts.</summary>
    public static readonly TimeSpan Slack = TimeSpan.FromSeconds(1);

    /// <summary>Building and corrupting a segment reads nothing hostile, but gets a generous bound too.</summary>
    private static readonly TimeSpan SetupLimit = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(20);

    /// <param name="Cases">Cases per kind; ignored when <paramref name="Case"/> replays one.</param>
    /// <param name="Case">A single case seed to replay, as a failure report prints it.</param>
    public sealed record Settings(IReadOnlyList<RingKind> Kinds, int Cases, ulong Seed, string Directory, ulong? Case = null);

    public static ulong CaseSeed(ulong seed, RingKind kind, int index) =>
        StressMessage.Mix(StressMessage.Mix(seed + (ulong)kind * 0x9E3779B97F4A7C15) + (ulong)index);

    public static FuzzReport Run(Settings settings, TextWriter log)
    {
        List<FuzzKindReport> kinds = [];
        List<FuzzFailure> failures = [];
        Stopwatch total = Stopwatch.StartNew();
        foreach (RingKind kind in settings.Kinds)
        {
            Stopwatch clock = Stopwatch.StartNew();
            int cases = settings.Case is null ? settings.Cases : 1;
            (OutcomeTally tally, List<FuzzFailure> failed) = RunKind(kind, cases, index => settings.Case ?? CaseSeed(settings.Seed, kind, index), settings);
            FuzzKindReport report = FuzzKindReport.From(kind, tally, clock.Elapsed);
            log.WriteLine(report.Summary());
            foreach (FuzzFailure failure in failed) log.WriteLine(failure.Report());
            kinds.Add(report);
            failures.AddRange(failed);
            if (failed.Any(f => f.Hung)) break; // a hung worker keeps its core: what follows would measure nothing
        }
        return new FuzzReport
        {
            Ok = failures.Count == 0,
            Seed = settings.Seed,
            ElapsedS = Math.Round(total.Elapsed.TotalSeconds, 3),
            Kinds = kinds,
            Failures = failures,
        };
    }

    private static (OutcomeTally, List<FuzzFailure>) RunKind(RingKind kind, int cases, Func<int, ulong> seedOf, Settings settings)
    {
        // Most of a case is spent in timed calls that sleep, so two workers per core; more let cases that spin
        // (busy-spin waits) starve the others past their deadline on a loaded machine.
        int workers = Math.Max(2, Environment.ProcessorCount * 2);
        OutcomeTally total = new();
        List<FuzzFailure> failures = [];
        Worker[] pool = [.. Enumerable.Range(0, Math.Min(workers, cases)).Select(_ => new Worker())];
        int next = 0;
        bool stop = false;
        foreach (Worker worker in pool)
        {
            worker.Thread = new Thread(() =>
            {
                OutcomeTally tally = new();
                int index;
                while (!Volatile.Read(ref stop) && (index = Interlocked.Increment(ref next) - 1) < cases)
                {
                    ulong seed = seedOf(index);
                    worker.Clock = new CaseClock(seed, Stopwatch.GetTimestamp(), SetupLimit);
                    string? failure;
                    string description = "";
                    try
                    {
                        CaseResult result = HostileCase.Run(kind, seed, settings.Directory,
                            budget => worker.Clock = new CaseClock(seed, Stopwatch.GetTimestamp(), budget + Slack));
                        tally.Add(result.Tally);
                        (failure, description) = (result.Failure, result.Case.Description);
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        failure = $"the case could not clean up: {e}"; // e.g. its directory removed after another case hung
                    }
                    worker.Clock = null;
                    if (failure is not null)
                    {
                        lock (failures) failures.Add(new FuzzFailure(kind, seed, failure, description, Hung: false));
                        Volatile.Write(ref stop, true);
                    }
                }
                lock (total) total.Add(tally);
            })
            { IsBackground = true, Name = $"fuzz {kind}" }; // background: a hung case must not keep the process alive
            worker.Thread.Start();
        }
        while (!pool.All(w => w.Thread!.Join(WatchInterval)))
        {
            foreach (Worker worker in pool)
            {
                if (worker.Clock is not { } clock || Stopwatch.GetElapsedTime(clock.Start) <= clock.Limit) continue;
                // The hung thread cannot be stopped; it is left behind, and the run reports without waiting for it.
                Volatile.Write(ref stop, true);
                OutcomeTally sofar = new();
                lock (total) sofar.Add(total);
                lock (failures)
                {
                    failures.Add(new FuzzFailure(kind, clock.Seed, $"hang: the case ran past its limit of {clock.Limit.TotalMilliseconds:F0} ms", "", Hung: true));
                    return (sofar, [.. failures]);
                }
            }
        }
        return (total, failures);
    }

    private sealed class Worker
    {
        public Thread? Thread;

        /// <summary>The running case and how long it may take; swapped whole, so the watchdog never mixes two cases.</summary>
        public volatile CaseClock? Clock;
    }

    private sealed record CaseClock(ulong Seed, long Start, TimeSpan Limit);
}

/// <summary>One failed case, with what replays it.</summary>
public sealed record FuzzFailure(RingKind Kind, ulong CaseSeed, string What, string Description, bool Hung)
{
    /// <summary>The command line that runs this case alone.</summary>
    public string Replay => $"dotnet run -c Release --project src/Ring.Stress -- fuzz --kind {Kind.ToString().ToLowerInvariant()} --case {CaseSeed}";

    /// <summary>The failure for a log or a test message.</summary>
    public string Report() => $"FAIL {Kind} case {CaseSeed}: {What}{Environment.NewLine}{Description}{Environment.NewLine}replay: {Replay}";
}

/// <summary>The outcomes of one kind's cases, per call.</summary>
public sealed class FuzzKindReport
{
    /// <summary>spsc or mpmc.</summary>
    public required string Kind { get; init; }
    /// <summary>Cases run.</summary>
    public long Cases { get; init; }
    /// <summary>Calls made on the corrupted rings (refused attaches included).</summary>
    public long Calls { get; init; }
    /// <summary>Calls that read or wrote a message.</summary>
    public long Delivered { get; init; }
    /// <summary>Calls that answered empty, full, or timed out.</summary>
    public long False { get; init; }
    /// <summary>Reads refused because the destination was shorter than the message (the documented ArgumentException).</summary>
    public long ArgumentErrors { get; init; }
    /// <summary>Calls that found the ring completed (RingCompletedException).</summary>
    public long Completed { get; init; }
    /// <summary>Calls that threw RingCorruptedException.</summary>
    public long Corrupted { get; init; }
    /// <summary>The same, by the rule the exception named.</summary>
    public required SortedDictionary<string, long> CorruptedByRule { get; init; }
    /// <summary>Wall time of this kind's cases.</summary>
    public double ElapsedS { get; init; }

    internal static FuzzKindReport From(RingKind kind, OutcomeTally tally, TimeSpan elapsed) => new()
    {
        Kind = kind.ToString().ToLowerInvariant(),
        Cases = tally.Cases,
        Calls = tally.Calls,
        Delivered = tally.Delivered,
        False = tally.False,
        ArgumentErrors = tally.ArgumentErrors,
        Completed = tally.Completed,
        Corrupted = tally.Corrupted,
        CorruptedByRule = tally.CorruptedByRule,
        ElapsedS = Math.Round(elapsed.TotalSeconds, 3),
    };

    /// <summary>One line for the console.</summary>
    public string Summary() =>
        $"fuzz {Kind}: {Cases:N0} cases, {Calls:N0} calls: delivered {Delivered:N0}, false {False:N0}, argument errors {ArgumentErrors:N0}, completed {Completed:N0}, " +
        $"corrupted {Corrupted:N0} ({string.Join(", ", CorruptedByRule.Select(r => $"{r.Key} {r.Value:N0}"))}), {ElapsedS:0.0} s";
}

/// <summary>A fuzz run's report, written by <c>fuzz --json</c>.</summary>
public sealed class FuzzReport
{
    /// <summary>True when no case hung, handed out a span outside the mapping, or threw an untyped exception.</summary>
    public bool Ok { get; init; }
    /// <summary>The run's seed.</summary>
    public ulong Seed { get; init; }
    /// <summary>Wall time of the run.</summary>
    public double ElapsedS { get; init; }
    /// <summary>Outcomes per kind.</summary>
    public required IReadOnlyList<FuzzKindReport> Kinds { get; init; }
    /// <summary>Failed cases (the run stops at the first).</summary>
    public required IReadOnlyList<FuzzFailure> Failures { get; init; }

    /// <summary>Indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, FuzzJsonContext.Default.FuzzReport);
}

/// <summary>Source-generated JSON for the fuzz report.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true, UseStringEnumConverter = true)]
[JsonSerializable(typeof(FuzzReport))]
public sealed partial class FuzzJsonContext : JsonSerializerContext;
