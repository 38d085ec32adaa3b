using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace Ring.Stress.Integrity;

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
}

/// <param name="Length">Payload length for writes (4..max; the first 4 bytes carry the message id).</param>
/// <param name="Arg">Commit length for ClaimCommitShorter, batch limit for ReadBatch, timeout in µs for Write/Read.</param>
public readonly record struct ScenarioOp(ScenarioOpKind Kind, int Length, int Arg)
{
    public override string ToString() => Kind switch
    {
        ScenarioOpKind.TryWrite or ScenarioOpKind.ClaimCommit or ScenarioOpKind.ClaimAbort => $"{Kind}({Length})",
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

    public RingOptions Options => IsSpsc
        ? new RingOptions { Kind = RingKind.Spsc, Capacity = Size, MaxMessageLength = MaxMessageLength }
        : new RingOptions { Kind = RingKind.Mpmc, SlotCount = Size, MaxMessageLength = MaxMessageLength };

    public override string ToString()
    {
        StringBuilder text = new($"{Shape} {(IsSpsc ? $"capacity {Size} B" : $"{Size} slots")}, max {MaxMessageLength} B, {Wait}");
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

/// <summary>FsCheck generators for scenarios: small rings, so wrap-around, full and empty happen all the time.</summary>
public static class ScenarioGenerators
{
    public static Gen<Scenario> Scenario(RingShape shape)
    {
        (int producers, int consumers) = Integrity.Scenario.Threads(shape);
        bool spsc = shape == RingShape.Spsc1P1C;
        return
            from size in spsc ? Gen.Elements(64, 128, 256) : Gen.Elements(2, 4, 8)
            from max in spsc ? Gen.Constant(size / SegmentLayout.MaxMessageDivisor) : Gen.Choose(8, 32)
            from wait in Gen.Frequency((3, Gen.Constant(WaitMode.SleepAtOnce)), (2, Gen.Constant(WaitMode.SpinThenSleep)), (1, Gen.Constant(WaitMode.BusySpin)))
            from writes in Gen.ArrayOf(OpList(WriteOp(max)), producers)
            from reads in Gen.ArrayOf(OpList(ReadOp()), consumers)
            select new Scenario(shape, size, max, wait, writes, reads);
    }

    public static Gen<ScheduledCase> Scheduled(RingShape shape) =>
        from scenario in Scenario(shape)
        from choices in Gen.Sized(size => Gen.Choose(0, 4 * size + 8).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 3), n)))
        from seed in Gen.Choose(0, int.MaxValue)
        select new ScheduledCase(scenario, choices, seed);

    /// <summary>Shrinks the schedule's choices (fewer, smaller: towards running each thread longer) and the op lists.</summary>
    public static IEnumerable<ScheduledCase> Shrink(ScheduledCase value)
    {
        int[] choices = value.Choices;
        for (int length = choices.Length / 2; length < choices.Length; length += Math.Max(1, (choices.Length - length) / 2))
        {
            yield return value with { Choices = choices[..length] };
        }
        for (int index = 0; index < choices.Length; index++)
        {
            if (choices[index] == 0) continue;
            int[] smaller = (int[])choices.Clone();
            smaller[index] = 0;
            yield return value with { Choices = smaller };
        }
        Scenario scenario = value.Scenario;
        foreach (ScenarioOp[][] producers in ShrinkLists(scenario.Producers))
            yield return value with { Scenario = scenario with { Producers = producers } };
        foreach (ScenarioOp[][] consumers in ShrinkLists(scenario.Consumers))
            yield return value with { Scenario = scenario with { Consumers = consumers } };
    }

    private static IEnumerable<ScenarioOp[][]> ShrinkLists(ScenarioOp[][] lists)
    {
        for (int thread = 0; thread < lists.Length; thread++)
        {
            ScenarioOp[] ops = lists[thread];
            for (int index = ops.Length - 1; index >= 0; index--)
            {
                ScenarioOp[][] copy = (ScenarioOp[][])lists.Clone();
                copy[thread] = [.. ops[..index], .. ops[(index + 1)..]];
                yield return copy;
            }
        }
    }

    private static Gen<ScenarioOp[]> OpList(Gen<ScenarioOp> op) =>
        Gen.Sized(size => Gen.Choose(1, Math.Max(2, Math.Min(16, 2 + size / 4))).SelectMany(n => Gen.ArrayOf(op, n)));

    private static Gen<ScenarioOp> WriteOp(int max)
    {
        Gen<int> length = Gen.Frequency((3, Gen.Choose(Integrity.Scenario.MinMessageLength, max)), (1, Gen.Constant(max)));
        Gen<int> timeout = Gen.Choose(1, 300);
        return Gen.Frequency(
            (4, length.Select(l => new ScenarioOp(ScenarioOpKind.TryWrite, l, 0))),
            (2, length.Select(l => new ScenarioOp(ScenarioOpKind.ClaimCommit, l, 0))),
            (1, from l in length from s in Gen.Choose(Integrity.Scenario.MinMessageLength, l) select new ScenarioOp(ScenarioOpKind.ClaimCommitShorter, l, s)),
            (1, length.Select(l => new ScenarioOp(ScenarioOpKind.ClaimAbort, l, 0))),
            (4, from l in length from t in timeout select new ScenarioOp(ScenarioOpKind.Write, l, t)));
    }

    private static Gen<ScenarioOp> ReadOp() => Gen.Frequency(
        (3, Gen.Constant(new ScenarioOp(ScenarioOpKind.TryRead, 0, 0))),
        (1, Gen.Constant(new ScenarioOp(ScenarioOpKind.ReadInPlace, 0, 0))),
        (2, Gen.Choose(1, 4).Select(limit => new ScenarioOp(ScenarioOpKind.ReadBatch, 0, limit))),
        (5, Gen.Choose(1, 300).Select(t => new ScenarioOp(ScenarioOpKind.Read, 0, t))));
}
