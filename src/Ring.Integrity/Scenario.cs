using System.Text;

namespace Ring.Integrity;

/// <summary>Which ring and how many producer and consumer threads.</summary>
public enum RingShape
{
    Spsc1P1C,
    Mpmc1P1C,
    Mpmc2P1C,
    Mpmc1P2C,
    Mpmc2P2C,
}

/// <summary>How the endpoints wait; sleeping at once reaches the eventcount on every wait.</summary>
public enum WaitMode
{
    SleepAtOnce,
    SpinThenSleep,
    BusySpin,
}

public enum ScenarioOpKind
{
    TryWrite,
    ClaimCommit,
    ClaimCommitShorter,
    ClaimAbort,
    /// <summary>Blocking write with a timeout.</summary>
    Write,
    TryRead,
    /// <summary>TryRead with a handler: the message read in place.</summary>
    ReadInPlace,
    ReadBatch,
    /// <summary>Blocking read with a timeout.</summary>
    Read,
    /// <summary>A producer completes the ring; its later writes, and anyone's after it, must throw.</summary>
    Complete,
    /// <summary>A consumer asks whether the stream has ended (consumers also ask after every read that found nothing).</summary>
    CheckEnd,
    /// <summary>
    /// SPSC: writes into the open batch, opening one first if none is; unseen until a <see cref="BatchPublish"/>. Any
    /// other write op, and the end of the list, closes an open batch unpublished, as <see cref="BatchDrop"/> does.
    /// </summary>
    BatchWrite,
    /// <summary>Publishes the open batch with one store and closes it (nothing when none is open).</summary>
    BatchPublish,
    /// <summary>Closes the open batch unpublished: its messages must never be read.</summary>
    BatchDrop,
}

/// <param name="Length">Payload length for writes (4..max; the first 4 bytes carry the message id).</param>
/// <param name="Arg">Commit length for ClaimCommitShorter, batch limit for ReadBatch, timeout in µs for Write/Read.</param>
public readonly record struct ScenarioOp(ScenarioOpKind Kind, int Length, int Arg)
{
    public override string ToString() => Kind switch
    {
        ScenarioOpKind.TryWrite or ScenarioOpKind.ClaimCommit or ScenarioOpKind.ClaimAbort or ScenarioOpKind.BatchWrite => $"{Kind}({Length})",
        ScenarioOpKind.ClaimCommitShorter => $"{Kind}({Length}->{Arg})",
        ScenarioOpKind.Write => $"Write({Length}, {Arg}µs)",
        ScenarioOpKind.ReadBatch => $"ReadBatch({Arg})",
        ScenarioOpKind.Read => $"Read({Arg}µs)",
        _ => Kind.ToString(),
    };
}

/// <param name="Size">SPSC: capacity in bytes (64..256). MPMC: slot count (2..8).</param>
/// <param name="MaxMessageLength">The ring's largest payload.</param>
public sealed record Scenario(RingShape Shape, int Size, int MaxMessageLength, WaitMode Wait, ScenarioOp[][] Producers, ScenarioOp[][] Consumers)
{
    public const int MinMessageLength = 4;

    public bool IsSpsc => Shape == RingShape.Spsc1P1C;

    /// <summary>
    /// The consumers read exactly as many messages as the producers write, all with blocking calls, so every blocking
    /// call has a partner: none may time out, and none may wait long (<see cref="ScenarioSampler.Balanced"/>).
    /// </summary>
    public bool Balanced { get; init; }

    /// <summary>A producer completes the ring somewhere in the run.</summary>
    public bool Completes => Producers.Any(ops => ops.Any(op => op.Kind == ScenarioOpKind.Complete));

    public RingOptions Options => IsSpsc
        ? new RingOptions { Kind = RingKind.Spsc, Capacity = Size, MaxMessageLength = MaxMessageLength }
        : new RingOptions { Kind = RingKind.Mpmc, SlotCount = Size, MaxMessageLength = MaxMessageLength };

    public override string ToString()
    {
        StringBuilder text = new($"{Shape} {(IsSpsc ? $"capacity {Size} B" : $"{Size} slots")}, max {MaxMessageLength} B, {Wait}{(Balanced ? ", balanced" : "")}");
        for (int p = 0; p < Producers.Length; p++) text.Append($"\n  t{p} producer: ").AppendJoin(", ", Producers[p]);
        for (int c = 0; c < Consumers.Length; c++) text.Append($"\n  t{Producers.Length + c} consumer: ").AppendJoin(", ", Consumers[c]);
        return text.ToString();
    }

    public static (int Producers, int Consumers) Threads(RingShape shape) => shape switch
    {
        RingShape.Mpmc2P1C => (2, 1),
        RingShape.Mpmc1P2C => (1, 2),
        RingShape.Mpmc2P2C => (2, 2),
        _ => (1, 1),
    };
}

/// <summary>A scenario and the schedule the step scheduler runs it under.</summary>
public sealed record ScheduledCase(Scenario Scenario, int[] Choices, int Seed)
{
    public override string ToString() =>
        $"{Scenario}\n  schedule: seed {Seed}, choices [{string.Join(",", Choices)}]";
}
