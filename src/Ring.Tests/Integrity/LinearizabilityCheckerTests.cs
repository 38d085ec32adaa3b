using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Ring.Integrity;
using Xunit.Abstractions;
using static Ring.Tests.Integrity.QueueOps;

namespace Ring.Tests.Integrity;

public sealed class LinearizabilityCheckerTests(ITestOutputHelper output)
{
    private static readonly QueueModelOptions Strict = new(CheckEmpty: true);

    [Fact]
    public void ToString_EachKindOfOperation_ReadsAsDocumented()
    {
        Assert.Equal("t1 enq 0x1:3 [12..15]", Enq(1, Id(1, 3), 12, 15).ToString());
        Assert.Equal("t2 deq -> 0x0:2 [14..20]", Deq(2, Id(0, 2), 14, 20).ToString());
        Assert.Equal("t3 deq -> empty [16..18]", DeqEmpty(3, 16, 18).ToString());
        Assert.Equal("t1 enq -> full [19..21]", EnqFull(1, 19, 21).ToString());
    }

    [Fact]
    public void Check_SequentialValidHistory_IsLinearizable()
    {
        QueueOperation[] history =
        [
            Enq(0, Id(0, 0), 0, 1), Enq(0, Id(0, 1), 2, 3), Deq(1, Id(0, 0), 4, 5),
            Enq(0, Id(0, 2), 6, 7), Deq(1, Id(0, 1), 8, 9), Deq(1, Id(0, 2), 10, 11), DeqEmpty(1, 12, 13),
        ];

        LinearizabilityResult result = LinearizabilityChecker.Check(history, Strict);

        Assert.Equal(LinearizabilityVerdict.Linearizable, result.Verdict);
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5, 6 }, result.Witness);
        Assert.Null(result.Explanation);
    }

    [Fact]
    public void Check_EmptyHistory_IsLinearizable()
    {
        LinearizabilityResult result = LinearizabilityChecker.Check([], Strict);

        Assert.Equal(LinearizabilityVerdict.Linearizable, result.Verdict);
        Assert.Empty(result.Witness!);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Check_OverlappingEnqueuesDequeuedInEitherOrder_IsLinearizable(bool secondFirst)
    {
        long a = Id(0, 0);
        long b = Id(1, 0);
        QueueOperation[] history =
        [
            Enq(0, a, 0, 10), Enq(1, b, 5, 15),
            Deq(2, secondFirst ? b : a, 20, 21), Deq(2, secondFirst ? a : b, 22, 23),
        ];

        LinearizabilityResult result = LinearizabilityChecker.Check(history, Strict);

        Assert.Equal(LinearizabilityVerdict.Linearizable, result.Verdict);
        int[] expected = secondFirst ? [1, 0, 2, 3] : [0, 1, 2, 3];
        Assert.Equal(expected, result.Witness);
    }

    [Fact]
    public void Check_NonOverlappingEnqueuesDequeuedOutOfOrder_IsNotLinearizable()
    {
        long a = Id(0, 0);
        long b = Id(1, 0);
        QueueOperation[] history = [Enq(0, a, 0, 1), Enq(1, b, 2, 3), Deq(2, b, 4, 5), Deq(2, a, 6, 7)];

        LinearizabilityResult result = LinearizabilityChecker.Check(history, Strict);

        Assert.Equal(LinearizabilityVerdict.NotLinearizable, result.Verdict);
        Assert.Null(result.Witness);
        string explanation = ExplanationOf(result);
        Assert.Contains("longest linearisable prefix found holds 1 of 4", explanation);
        Assert.Contains("  #0 t0 enq 0x0:0 [0..1]", explanation);
        Assert.Contains(
            "#1 t1 enq 0x1:0 [2..3]: 0x1:0 would queue behind 0x0:0, yet #2 t2 deq -> 0x1:0 [4..5] returns before #3 t2 deq -> 0x0:0 [6..7] begins",
            explanation);
    }

    [Fact]
    public void Check_LaterValueDequeuedWhileEarlierNeverIs_IsNotLinearizable()
    {
        QueueOperation[] history = [Enq(0, Id(0, 0), 0, 1), Enq(1, Id(1, 0), 2, 3), Deq(2, Id(1, 0), 4, 5)];

        LinearizabilityResult result = LinearizabilityChecker.Check(history, Strict);

        Assert.Equal(LinearizabilityVerdict.NotLinearizable, result.Verdict);
        Assert.Contains(
            "#1 t1 enq 0x1:0 [2..3]: 0x1:0 would queue behind 0x0:0, which is never dequeued, yet #2 t2 deq -> 0x1:0 [4..5] takes 0x1:0",
            ExplanationOf(result));
    }

    [Fact]
    public void Check_DequeueOfNeverEnqueuedValue_IsNotLinearizable()
    {
        QueueOperation[] history = [Enq(0, Id(0, 0), 0, 1), Deq(1, Id(0, 0), 2, 3), Deq(1, Id(7, 0), 4, 5)];

        LinearizabilityResult result = LinearizabilityChecker.Check(history, Strict);

        Assert.Equal(LinearizabilityVerdict.NotLinearizable, result.Verdict);
        Assert.Contains("#2 t1 deq -> 0x7:0 [4..5]: no successful enqueue of 0x7:0 exists", ExplanationOf(result));
    }

    [Fact]
    public void Check_DuplicateDequeue_IsNotLinearizable()
    {
        long a = Id(0, 0);
        QueueOperation[] history = [Enq(0, a, 0, 1), Enq(0, Id(0, 1), 2, 3), Deq(1, a, 4, 5), Deq(2, a, 4, 6)];

        LinearizabilityResult result = LinearizabilityChecker.Check(history, Strict);

        Assert.Equal(LinearizabilityVerdict.NotLinearizable, result.Verdict);
        Assert.Contains("#3 t2 deq -> 0x0:0 [4..6]: 0x0:0 was already dequeued by #2 t1 deq -> 0x0:0 [4..5]", ExplanationOf(result));
    }

    [Theory]
    [InlineData(true, LinearizabilityVerdict.NotLinearizable)]
    [InlineData(false, LinearizabilityVerdict.Linearizable)]
    public void Check_EmptyDequeueWhileACompletedEnqueuesValueIsQueued_IsRejectedOnlyWithCheckEmpty(bool checkEmpty, LinearizabilityVerdict expected)
    {
        long a = Id(0, 0);
        QueueOperation[] history = [Enq(0, a, 0, 1), DeqEmpty(1, 2, 3), Deq(1, a, 4, 5)];

        LinearizabilityResult result = LinearizabilityChecker.Check(history, new QueueModelOptions(checkEmpty));

        Assert.Equal(expected, result.Verdict);
        if (checkEmpty)
        {
            Assert.Contains("#1 t1 deq -> empty [2..3]: needs an empty queue, but the queue holds 1 value(s)", ExplanationOf(result));
        }
        else
        {
            Assert.Equal(new[] { 0, 1, 2 }, result.Witness);
        }
    }

    [Fact]
    public void Check_EmptyDequeueOverlappingTheOnlyEnqueue_IsLinearizable()
    {
        long a = Id(0, 0);
        QueueOperation[] history = [Enq(0, a, 0, 10), DeqEmpty(1, 5, 6), Deq(1, a, 11, 12)];

        LinearizabilityResult result = LinearizabilityChecker.Check(history, Strict);

        Assert.Equal(LinearizabilityVerdict.Linearizable, result.Verdict);
        Assert.Equal(new[] { 1, 0, 2 }, result.Witness);
    }

    [Fact]
    public void Check_FailedEnqueueWhileFull_IsLinearizable()
    {
        QueueModelOptions options = new(CheckEmpty: true, Capacity: 2, CheckFull: true);
        QueueOperation[] history =
        [
            Enq(0, Id(0, 0), 0, 1), Enq(0, Id(0, 1), 2, 3), EnqFull(0, 4, 5),
            Deq(1, Id(0, 0), 6, 7), Enq(0, Id(0, 2), 8, 9), EnqFull(0, 10, 11),
        ];

        LinearizabilityResult result = LinearizabilityChecker.Check(history, options);

        Assert.Equal(LinearizabilityVerdict.Linearizable, result.Verdict);
    }

    [Theory]
    [InlineData(true, LinearizabilityVerdict.NotLinearizable)]
    [InlineData(false, LinearizabilityVerdict.Linearizable)]
    public void Check_FailedEnqueueWithRoomLeft_IsRejectedOnlyWithCheckFull(bool checkFull, LinearizabilityVerdict expected)
    {
        QueueModelOptions options = new(CheckEmpty: true, Capacity: 2, CheckFull: checkFull);
        QueueOperation[] history = [Enq(0, Id(0, 0), 0, 1), EnqFull(0, 2, 3), Deq(1, Id(0, 0), 4, 5)];

        LinearizabilityResult result = LinearizabilityChecker.Check(history, options);

        Assert.Equal(expected, result.Verdict);
        if (checkFull)
        {
            Assert.Contains("#1 t0 enq -> full [2..3]: needs a full queue, but the queue holds 1 value(s) (capacity 2)", ExplanationOf(result));
        }
    }

    [Fact]
    public void Check_EnqueueBeyondCapacity_IsNotLinearizable()
    {
        QueueOperation[] history = [Enq(0, Id(0, 0), 0, 1), Enq(0, Id(0, 1), 2, 3), Deq(1, Id(0, 0), 4, 5)];

        LinearizabilityResult result = LinearizabilityChecker.Check(history, new QueueModelOptions(CheckEmpty: true, Capacity: 1));

        Assert.Equal(LinearizabilityVerdict.NotLinearizable, result.Verdict);
        Assert.Contains("#1 t0 enq 0x0:1 [2..3]: needs room", ExplanationOf(result));
    }

    [Fact]
    public void Check_StateBudgetExceeded_IsInconclusive()
    {
        QueueOperation[] history = HistoryScenario.Draw(seed: 1, threads: 4, steps: 60, maxSpan: 1000).Build();

        LinearizabilityResult result = LinearizabilityChecker.Check(history, Strict, maxStates: 10);

        Assert.Equal(LinearizabilityVerdict.Inconclusive, result.Verdict);
        Assert.Equal(10L, result.StatesExplored);
        Assert.Null(result.Witness);
        Assert.StartsWith("Gave up after 10 states", result.Explanation);
    }

    [Fact]
    public void Check_OperationRespondingBeforeItsInvocation_Throws()
    {
        Assert.Throws<ArgumentException>(() => LinearizabilityChecker.Check([Enq(0, Id(0, 0), 5, 4)], Strict));
    }

    [Property(MaxTest = 300, Arbitrary = [typeof(HistoryScenarioArbitrary)])]
    public void Check_HistoryOfARealQueue_IsLinearizableWithAReplayableWitness(HistoryScenario scenario)
    {
        QueueOperation[] history = scenario.Build();

        LinearizabilityResult result = LinearizabilityChecker.Check(history, scenario.Options);

        Assert.Equal(LinearizabilityVerdict.Linearizable, result.Verdict);
        AssertReplays(history, result.Witness!, scenario.Options);
    }

    /// <summary>
    /// Dequeues D1 before D2 in real time, of values v1 and v2 whose enqueues are also in real-time order, swapped so
    /// D1 returns v2 and D2 returns v1. Every order respecting real time places enq(v1) before enq(v2) and D1 before D2,
    /// and a FIFO queue of distinct values hands values out in the order they went in, so D1 cannot return v2. (Only
    /// the dequeues being ordered is not enough: with overlapping enqueues an order putting enq(v2) first can exist.)
    /// </summary>
    [Property(MaxTest = 300, Arbitrary = [typeof(SwappableHistoryArbitrary)])]
    public void Check_OrderedDequeuesOfOrderedEnqueuesWithValuesSwapped_IsNotLinearizable(SwappableHistory swappable, NonNegativeInt choice)
    {
        QueueOperation[] history = swappable.Scenario.Build();
        List<(int First, int Second)> pairs = SwappableHistory.Pairs(history);
        (int first, int second) = pairs[choice.Get % pairs.Count];
        long v1 = history[first].Value;
        history[first] = history[first] with { Value = history[second].Value };
        history[second] = history[second] with { Value = v1 };

        LinearizabilityResult result = LinearizabilityChecker.Check(history, swappable.Scenario.Options);

        Assert.Equal(LinearizabilityVerdict.NotLinearizable, result.Verdict);
    }

    /// <summary>
    /// Small histories of a real queue, then damaged (an operation given another value, a dequeue turned into an empty
    /// one, an interval moved), against a plain search over every order that respects real time: the memo and the enqueue
    /// look-ahead must change nothing but the speed.
    /// </summary>
    [Property(MaxTest = 500, Arbitrary = [typeof(HistoryScenarioArbitrary)])]
    public Property Check_SmallDamagedHistory_AgreesWithExhaustiveSearch(HistoryScenario scenario, int seed)
    {
        QueueOperation[] history = (scenario with { Steps = scenario.Steps[..Math.Min(7, scenario.Steps.Length)] }).Build();
        Damage(history, new Random(seed));

        bool expected = ExhaustivelyLinearizable(history, scenario.Options, new bool[history.Length], []);
        LinearizabilityVerdict verdict = LinearizabilityChecker.Check(history, scenario.Options).Verdict;

        return Prop.Label(verdict == (expected ? LinearizabilityVerdict.Linearizable : LinearizabilityVerdict.NotLinearizable),
                $"checker: {verdict}, exhaustive search: {expected}; history: {string.Join(", ", history)}")
            .Collect(expected ? "linearizable" : "not linearizable");
    }

    [Fact]
    public void Check_300OpsFrom4ThreadsWithHeavyOverlap_IsQuick()
    {
        LinearizabilityChecker.Check(HistoryScenario.Draw(seed: 0, threads: 4, steps: 20, maxSpan: 1000).Build(), Strict);
        QueueOperation[] history = HistoryScenario.Draw(seed: 300, threads: 4, steps: 300, maxSpan: 1000).Build();

        Stopwatch clock = Stopwatch.StartNew();
        LinearizabilityResult result = LinearizabilityChecker.Check(history, Strict);
        clock.Stop();

        output.WriteLine($"{clock.Elapsed.TotalMilliseconds:F1} ms, {result.StatesExplored} states, mean overlap {MeanOverlap(history):F1}");
        Assert.Equal(LinearizabilityVerdict.Linearizable, result.Verdict);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Check_2000OpsWithModestOverlap_IsQuick()
    {
        LinearizabilityChecker.Check(HistoryScenario.Draw(seed: 0, threads: 4, steps: 20, maxSpan: 3).Build(), Strict);
        QueueOperation[] history = HistoryScenario.Draw(seed: 2000, threads: 4, steps: 2000, maxSpan: 3).Build();

        Stopwatch clock = Stopwatch.StartNew();
        LinearizabilityResult result = LinearizabilityChecker.Check(history, Strict);
        clock.Stop();

        output.WriteLine($"{clock.Elapsed.TotalMilliseconds:F1} ms, {result.StatesExplored} states, mean overlap {MeanOverlap(history):F1}");
        Assert.Equal(LinearizabilityVerdict.Linearizable, result.Verdict);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    private static void Damage(QueueOperation[] history, Random random)
    {
        long[] values = [.. history.Where(o => o.Succeeded).Select(o => o.Value).Distinct(), QueueOps.Id(9, 9)];
        for (int times = random.Next(1, 3); times > 0; times--)
        {
            int i = random.Next(history.Length);
            switch (random.Next(3))
            {
                case 0:
                    history[i] = history[i] with { Succeeded = true, Value = values[random.Next(values.Length)] };
                    break;
                case 1 when history[i].Kind == QueueOpKind.Dequeue:
                    history[i] = history[i] with { Succeeded = false, Value = 0 };
                    break;
                default:
                    long invoke = random.Next(history.Length + 2);
                    history[i] = history[i] with { Invoke = invoke, Response = invoke + random.Next(4) };
                    break;
            }
        }
    }

    /// <summary>Tries every operation that no other remaining one precedes in real time, on a copy of the queue.</summary>
    private static bool ExhaustivelyLinearizable(QueueOperation[] history, QueueModelOptions options, bool[] placed, List<long> queue)
    {
        if (placed.All(p => p))
        {
            return true;
        }
        for (int i = 0; i < history.Length; i++)
        {
            if (placed[i] || Enumerable.Range(0, history.Length).Any(j => !placed[j] && history[j].Response < history[i].Invoke))
            {
                continue;
            }
            QueueOperation op = history[i];
            List<long> next = [.. queue];
            bool allowed = (op.Kind, op.Succeeded) switch
            {
                (QueueOpKind.Enqueue, true) => queue.Count != options.Capacity,
                (QueueOpKind.Enqueue, false) => !options.CheckFull || options.Capacity is null || queue.Count == options.Capacity,
                (QueueOpKind.Dequeue, true) => queue.Count > 0 && queue[0] == op.Value,
                _ => !options.CheckEmpty || queue.Count == 0,
            };
            if (!allowed)
            {
                continue;
            }
            if (op.Succeeded && op.Kind == QueueOpKind.Enqueue)
            {
                next.Add(op.Value);
            }
            else if (op.Succeeded)
            {
                next.RemoveAt(0);
            }
            placed[i] = true;
            bool found = ExhaustivelyLinearizable(history, options, placed, next);
            placed[i] = false;
            if (found)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The witness must hold every operation once, respect real time, and replay on a sequential queue.</summary>
    private static void AssertReplays(QueueOperation[] history, IReadOnlyList<int> witness, QueueModelOptions options)
    {
        Assert.Equal(Enumerable.Range(0, history.Length), witness.Order());
        for (int p = 0; p < witness.Count; p++)
        {
            for (int q = p + 1; q < witness.Count; q++)
            {
                Assert.False(history[witness[q]].Response < history[witness[p]].Invoke,
                    $"{history[witness[q]]} precedes {history[witness[p]]} in real time but follows it in the witness");
            }
        }

        Queue<long> queue = new();
        foreach (int index in witness)
        {
            QueueOperation op = history[index];
            switch (op.Kind, op.Succeeded)
            {
                case (QueueOpKind.Enqueue, true):
                    Assert.True(queue.Count != options.Capacity, $"{op} into a full queue");
                    queue.Enqueue(op.Value);
                    break;
                case (QueueOpKind.Enqueue, false):
                    Assert.True(!options.CheckFull || options.Capacity is null || queue.Count == options.Capacity, $"{op} with room left");
                    break;
                case (QueueOpKind.Dequeue, true):
                    Assert.True(queue.TryDequeue(out long front), $"{op} from an empty queue");
                    Assert.Equal(op.Value, front);
                    break;
                default:
                    Assert.True(!options.CheckEmpty || queue.Count == 0, $"{op} while the queue holds {queue.Count}");
                    break;
            }
        }
    }

    private static double MeanOverlap(QueueOperation[] history) =>
        Enumerable.Range(0, history.Length).Average(a => Enumerable.Range(0, history.Length)
            .Count(b => a != b && history[a].Invoke <= history[b].Response && history[b].Invoke <= history[a].Response));

    private string ExplanationOf(LinearizabilityResult result)
    {
        Assert.NotNull(result.Explanation);
        output.WriteLine(result.Explanation);
        return result.Explanation;
    }
}

/// <summary>A history of a real queue holding at least one pair of dequeues that can be swapped into a violation.</summary>
public sealed record SwappableHistory(HistoryScenario Scenario)
{
    /// <summary>Successful dequeues (D1, D2), D1 before D2 in real time, whose values were enqueued in real-time order.</summary>
    public static List<(int First, int Second)> Pairs(QueueOperation[] history)
    {
        Dictionary<long, int> enqueueOf = [];
        List<int> dequeues = [];
        for (int i = 0; i < history.Length; i++)
        {
            if (history[i].Succeeded && history[i].Kind == QueueOpKind.Enqueue)
            {
                enqueueOf.Add(history[i].Value, i);
            }
            else if (history[i].Succeeded)
            {
                dequeues.Add(i);
            }
        }
        return
        [
            .. from d1 in dequeues
               from d2 in dequeues
               where history[d1].Response < history[d2].Invoke
                   && history[enqueueOf[history[d1].Value]].Response < history[enqueueOf[history[d2].Value]].Invoke
               select (d1, d2),
        ];
    }

    public override string ToString() => Scenario.ToString();
}

public static class SwappableHistoryArbitrary
{
    public static Arbitrary<SwappableHistory> Histories() => Arb.From(
        HistoryScenarioArbitrary.Generate().Where(HasPair).Select(s => new SwappableHistory(s)),
        swappable => HistoryScenarioArbitrary.Shrink(swappable.Scenario).Where(HasPair).Select(s => new SwappableHistory(s)));

    private static bool HasPair(HistoryScenario scenario) => SwappableHistory.Pairs(scenario.Build()).Count > 0;
}
