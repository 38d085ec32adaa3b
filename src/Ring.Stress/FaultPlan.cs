using System.Globalization;
using Ring.Tooling.Platform;

namespace Ring.Stress;

/// <summary>A point in a worker's loop where it can be made to die (or stop).</summary>
public enum FaultPoint
{
    /// <summary>Producer: the previous message is committed and this one not yet claimed (useful with SIGSTOP: the claim happens on SIGCONT).</summary>
    BeforeClaim,

    /// <summary>Producer: the position is claimed (<see cref="RingWriter.TryClaim"/>) and nothing is written into it yet.</summary>
    AfterClaim,

    /// <summary>Producer: half of the message is written into the claimed span, nothing committed.</summary>
    MidPayload,

    /// <summary>Producer: the message was committed, the next one not claimed.</summary>
    AfterCommit,

    /// <summary>Consumer: inside the zero-copy read handler, the message claimed and not yet released.</summary>
    MidRead,
}

/// <summary>The signal a worker sends itself at a <see cref="FaultPoint"/>.</summary>
public enum FaultSignal
{
    /// <summary>SIGKILL: the process dies on the spot; no finally block, no Dispose, no flush runs.</summary>
    Kill,

    /// <summary>SIGSTOP: the process freezes, holding whatever it holds (a claim, its locks), until someone sends SIGCONT; then it carries on.</summary>
    Stop,
}

/// <summary>
/// Fault injection for a worker process, chosen by environment variables so a coordinator can crash (or
/// freeze) a worker at an exact point of the protocol:
/// <list type="bullet">
/// <item><c>RING_STRESS_KILL_AT</c>: <c>after-claim</c>, <c>mid-payload</c>, <c>after-commit</c>, <c>before-claim</c>
/// (producer) or <c>mid-read</c> (consumer): where the worker sends itself SIGKILL.</item>
/// <item><c>RING_STRESS_KILL_AFTER</c>=N (default 1): the point is hit on the N-th message (1-based) the worker
/// writes or reads. So <c>after-commit</c> leaves N messages committed, <c>after-claim</c> and <c>mid-payload</c>
/// leave N−1 committed and the N-th claimed, <c>mid-read</c> dies holding the N-th message it read.</item>
/// <item><c>RING_STRESS_STOP_AT</c> / <c>RING_STRESS_STOP_AFTER</c>: the same for SIGSTOP; the worker carries on
/// when it gets SIGCONT. Both plans may be given: at the same point the stop comes first.</item>
/// </list>
/// A worker with a fault plan uses the zero-copy calls (TryClaim/Commit, read handlers), so the points exist.
/// Before it signals itself it writes one line to stderr naming the point.
/// </summary>
public sealed record FaultPlan(FaultPoint Point, long AfterMessages, FaultSignal Signal)
{
    /// <summary>The variable naming the SIGKILL point.</summary>
    public const string KillAtVariable = "RING_STRESS_KILL_AT";

    /// <summary>The variable giving N for the SIGKILL point.</summary>
    public const string KillAfterVariable = "RING_STRESS_KILL_AFTER";

    /// <summary>The variable naming the SIGSTOP point.</summary>
    public const string StopAtVariable = "RING_STRESS_STOP_AT";

    /// <summary>The variable giving N for the SIGSTOP point.</summary>
    public const string StopAfterVariable = "RING_STRESS_STOP_AFTER";

    /// <summary>True for the points a producer passes, false for the consumer's.</summary>
    public bool IsProducerPoint => Point != FaultPoint.MidRead;

    /// <summary>The environment spelling of the point.</summary>
    public string PointName => Point switch
    {
        FaultPoint.BeforeClaim => "before-claim",
        FaultPoint.AfterClaim => "after-claim",
        FaultPoint.MidPayload => "mid-payload",
        FaultPoint.AfterCommit => "after-commit",
        _ => "mid-read",
    };

    /// <summary>
    /// Reads the plans from the environment, the stop plan first: empty when no point variable is set; an
    /// error message when a variable holds something else than documented.
    /// </summary>
    public static IReadOnlyList<FaultPlan> FromEnvironment(out string? error)
    {
        List<FaultPlan> plans = [];
        foreach ((string at, string after, FaultSignal signal) in new[]
                 {
                     (StopAtVariable, StopAfterVariable, FaultSignal.Stop),
                     (KillAtVariable, KillAfterVariable, FaultSignal.Kill),
                 })
        {
            FaultPlan? plan = Parse(at, Environment.GetEnvironmentVariable(at), after, Environment.GetEnvironmentVariable(after), signal, out error);
            if (error is not null) return [];
            if (plan is not null) plans.Add(plan);
        }
        error = null;
        return plans;
    }

    /// <summary>Parses one plan from its two variables' values; null without an error when the point is unset or empty.</summary>
    public static FaultPlan? Parse(string atVariable, string? point, string afterVariable, string? after, FaultSignal signal, out string? error)
    {
        error = null;
        if (string.IsNullOrEmpty(point)) return null;
        FaultPoint? parsedPoint = point switch
        {
            "before-claim" => FaultPoint.BeforeClaim,
            "after-claim" => FaultPoint.AfterClaim,
            "mid-payload" => FaultPoint.MidPayload,
            "after-commit" => FaultPoint.AfterCommit,
            "mid-read" => FaultPoint.MidRead,
            _ => null,
        };
        if (parsedPoint is null)
        {
            error = $"{atVariable}='{point}' is not a fault point: before-claim, after-claim, mid-payload, after-commit or mid-read.";
            return null;
        }
        long afterMessages = 1;
        if (!string.IsNullOrEmpty(after)
            && (!long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out afterMessages) || afterMessages <= 0))
        {
            error = $"{afterVariable}='{after}' is not a positive message count.";
            return null;
        }
        return new FaultPlan(parsedPoint.Value, afterMessages, signal);
    }

    /// <summary>
    /// Signals this process for every plan due at <paramref name="point"/> of the message numbered
    /// <paramref name="messageNumber"/> (1-based), announcing each on <paramref name="log"/>.
    /// </summary>
    public static void HitAll(IReadOnlyList<FaultPlan> plans, FaultPoint point, long messageNumber, TextWriter log, string what)
    {
        foreach (FaultPlan plan in plans)
        {
            if (plan.Point == point && plan.AfterMessages == messageNumber) plan.Trigger(log, what);
        }
    }

    /// <summary>True when some plan is due at <paramref name="point"/> of message <paramref name="messageNumber"/>.</summary>
    public static bool AnyDue(IReadOnlyList<FaultPlan> plans, FaultPoint point, long messageNumber)
    {
        foreach (FaultPlan plan in plans)
        {
            if (plan.Point == point && plan.AfterMessages == messageNumber) return true;
        }
        return false;
    }

    /// <summary>
    /// Announces the fault on <paramref name="log"/> and signals this process. A SIGKILL does not return;
    /// after a SIGSTOP this returns once the process has been continued.
    /// </summary>
    public void Trigger(TextWriter log, string what)
    {
        ArgumentNullException.ThrowIfNull(log);
        log.WriteLine($"worker: fault: SIG{(Signal == FaultSignal.Kill ? "KILL" : "STOP")} at {PointName} of {what}");
        log.Flush();
        LibC.Kill(Environment.ProcessId, Signal == FaultSignal.Kill ? Tooling.Platform.Signal.SIGKILL : Tooling.Platform.Signal.SIGSTOP);
        if (Signal == FaultSignal.Kill)
        {
            // A SIGKILL sent to oneself is delivered before the system call returns; should it not be, never go on.
            Thread.Sleep(Timeout.Infinite);
        }
    }
}
