using FsCheck;
using FsCheck.Fluent;
using Ring.Integrity;

namespace Ring.Tests.Integrity;

/// <summary>Shorthand for hand-written histories.</summary>
public static class QueueOps
{
    public static long Id(int producer, int sequence) => ((long)producer << 32) | (uint)sequence;

    public static QueueOperation Enq(int thread, long value, long invoke, long response) =>
        new(thread, QueueOpKind.Enqueue, value, true, invoke, response);

    public static QueueOperation EnqFull(int thread, long invoke, long response) =>
        new(thread, QueueOpKind.Enqueue, 0, false, invoke, response);

    public static QueueOperation Deq(int thread, long value, long invoke, long response) =>
        new(thread, QueueOpKind.Dequeue, value, true, invoke, response);

    public static QueueOperation DeqEmpty(int thread, long invoke, long response) =>
        new(thread, QueueOpKind.Dequeue, 0, false, invoke, response);
}

/// <summary>
/// One operation of a generated history: the thread that runs it, whether it enqueues, and how far its interval
/// reaches before and after its linearisation point (clipped so that each thread stays sequential).
/// </summary>
public readonly record struct HistoryStep(int Thread, bool Enqueue, int InvokeLead, int ResponseLag);

/// <summary>
/// A history that is linearizable by construction: step i takes effect at time i on a real bounded FIFO queue
/// (<paramref name="Capacity"/> null = unbounded), and its interval is stretched around that point. Thread t
/// produces the ids (t &lt;&lt; 32) | 0, 1, 2, ...
/// </summary>
public sealed record HistoryScenario(int Threads, int? Capacity, bool CheckEmpty, bool CheckFull, HistoryStep[] Steps)
{
    public QueueModelOptions Options => new(CheckEmpty, Capacity, CheckFull);

    /// <summary>The operations, listed thread by thread (not in time order) so nothing may lean on the listing order.</summary>
    public QueueOperation[] Build()
    {
        int n = Steps.Length;
        int[] nextOnThread = new int[n];
        int[] upcoming = Enumerable.Repeat(-1, Threads).ToArray();
        for (int i = n - 1; i >= 0; i--)
        {
            nextOnThread[i] = upcoming[Steps[i].Thread];
            upcoming[Steps[i].Thread] = i;
        }

        Queue<long> queue = new();
        int[] sequence = new int[Threads];
        long[] lastResponse = Enumerable.Repeat(-1L, Threads).ToArray();
        QueueOperation[] ops = new QueueOperation[n];
        for (int i = 0; i < n; i++)
        {
            HistoryStep step = Steps[i];
            long invoke = Math.Max(lastResponse[step.Thread] + 1, i - step.InvokeLead);
            long response = nextOnThread[i] < 0 ? i + step.ResponseLag : Math.Min(nextOnThread[i] - 1, i + step.ResponseLag);
            lastResponse[step.Thread] = response;
            if (step.Enqueue)
            {
                bool room = queue.Count != Capacity;
                long value = QueueOps.Id(step.Thread, sequence[step.Thread]);
                if (room)
                {
                    queue.Enqueue(value);
                    sequence[step.Thread]++;
                }
                ops[i] = new QueueOperation(step.Thread, QueueOpKind.Enqueue, room ? value : 0, room, invoke, response);
            }
            else
            {
                bool any = queue.TryDequeue(out long value);
                ops[i] = new QueueOperation(step.Thread, QueueOpKind.Dequeue, value, any, invoke, response);
            }
        }
        return [.. ops.OrderBy(o => o.Thread).ThenBy(o => o.Invoke)];
    }

    /// <summary>A scenario drawn from <paramref name="seed"/>, for fixed-size cases such as the timing tests.</summary>
    public static HistoryScenario Draw(int seed, int threads, int steps, int maxSpan)
    {
        Random random = new(seed);
        HistoryStep[] drawn = new HistoryStep[steps];
        for (int i = 0; i < steps; i++)
        {
            drawn[i] = new HistoryStep(random.Next(threads), random.Next(2) == 0, random.Next(maxSpan + 1), random.Next(maxSpan + 1));
        }
        return new HistoryScenario(threads, Capacity: null, CheckEmpty: true, CheckFull: false, drawn);
    }

    public override string ToString() =>
        $"Threads={Threads} Capacity={Capacity?.ToString() ?? "none"} CheckEmpty={CheckEmpty} CheckFull={CheckFull}: " +
        string.Join(", ", Build().OrderBy(o => o.Invoke));
}

public static class HistoryScenarioArbitrary
{
    public static Arbitrary<HistoryScenario> Scenarios() => Arb.From(Generate(), Shrink);

    internal static Gen<HistoryScenario> Generate() =>
        from threads in Gen.Choose(1, 5)
        from capacity in Gen.Frequency(
            (2, Gen.Constant<int?>(null)),
            (1, Gen.Choose(1, 4).Select(c => (int?)c)))
        from checkEmpty in Gen.Elements(true, false)
        from checkFull in Gen.Elements(true, false)
        from maxSpan in Gen.Frequency((1, Gen.Choose(0, 3)), (2, Gen.Choose(0, 30)))
        from enqueueWeight in Gen.Choose(2, 6)
        from count in Gen.Sized(size => Gen.Choose(4, 10 + size))
        from steps in Gen.ArrayOf(Step(threads, maxSpan, enqueueWeight), count)
        select new HistoryScenario(threads, capacity, checkEmpty, checkFull, steps);

    private static Gen<HistoryStep> Step(int threads, int maxSpan, int enqueueWeight) =>
        from thread in Gen.Choose(0, threads - 1)
        from enqueue in Gen.Frequency((enqueueWeight, Gen.Constant(true)), (4, Gen.Constant(false)))
        from lead in Gen.Choose(0, maxSpan)
        from lag in Gen.Choose(0, maxSpan)
        select new HistoryStep(thread, enqueue, lead, lag);

    /// <summary>Shorter step lists first (dropping halves, quarters, ... single steps), then narrower intervals.</summary>
    internal static IEnumerable<HistoryScenario> Shrink(HistoryScenario scenario)
    {
        HistoryStep[] steps = scenario.Steps;
        for (int chunk = steps.Length / 2; chunk >= 1; chunk /= 2)
        {
            for (int start = 0; start + chunk <= steps.Length; start += chunk)
            {
                yield return scenario with { Steps = [.. steps[..start], .. steps[(start + chunk)..]] };
            }
        }
        if (steps.Any(s => s.InvokeLead > 0 || s.ResponseLag > 0))
        {
            yield return scenario with { Steps = [.. steps.Select(s => s with { InvokeLead = s.InvokeLead / 2, ResponseLag = s.ResponseLag / 2 })] };
        }
    }
}
