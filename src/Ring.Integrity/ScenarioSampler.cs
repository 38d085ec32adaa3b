namespace Ring.Integrity;

/// <summary>
/// Random scenarios and schedules: small rings, so wrap-around, full and empty happen all the time. Everything
/// drawn comes from the one <see cref="Random"/>, so a seed names a case; the property tests draw that seed from
/// FsCheck (whose replay then brings the same cases back) and the stress mode from its own seed and index.
/// </summary>
/// <remarks>
/// <paramref name="size"/> plays the part of a property test's size: the longest op list is 2 + size/4 calls
/// (2 to 16) and a schedule has up to 4·size + 8 choices, so early tests of a run are short and later ones long.
/// </remarks>
public static class ScenarioSampler
{
    /// <param name="completion">
    /// Whether a third of the scenarios complete the ring (producer 0 calls Complete somewhere in its list) and consumers
    /// ask for the end now and then. Off for free runs, which run a scenario many times on one ring. Drawn after
    /// everything else, so it changes nothing else a seed gives.
    /// </param>
    public static Scenario Scenario(RingShape shape, Random random, int size, bool completion = true)
    {
        (int producers, int consumers) = Integrity.Scenario.Threads(shape);
        bool spsc = shape == RingShape.Spsc1P1C;
        int ringSize = spsc ? Element(random, 64, 128, 256) : Element(random, 2, 4, 8);
        int max = spsc ? ringSize / SegmentLayout.MaxMessageDivisor : Choose(random, 8, 32);
        WaitMode wait = Pick(random, 3, 2, 1) switch
        {
            0 => WaitMode.SleepAtOnce,
            1 => WaitMode.SpinThenSleep,
            _ => WaitMode.BusySpin,
        };
        ScenarioOp[][] writes = new ScenarioOp[producers][];
        for (int p = 0; p < producers; p++) writes[p] = OpList(random, size, r => WriteOp(r, max));
        ScenarioOp[][] reads = new ScenarioOp[consumers][];
        for (int c = 0; c < consumers; c++) reads[c] = OpList(random, size, ReadOp);
        if (completion && Pick(random, 2, 1) == 1)
        {
            // Mostly at the end of the list, sometimes in the middle so that later writes meet a completed ring.
            int at = Pick(random, 1, 2) == 0 ? Choose(random, 0, writes[0].Length) : writes[0].Length;
            writes[0] = [.. writes[0][..at], new ScenarioOp(ScenarioOpKind.Complete, 0, 0), .. writes[0][at..]];
            for (int c = 0; c < consumers; c++)
            {
                for (int n = Choose(random, 0, 2); n > 0; n--)
                {
                    int where = Choose(random, 0, reads[c].Length);
                    reads[c] = [.. reads[c][..where], new ScenarioOp(ScenarioOpKind.CheckEnd, 0, 0), .. reads[c][where..]];
                }
            }
        }
        if (spsc && Pick(random, 1, 1) == 1) writes[0] = WithBatches(random, writes[0], max);
        return new Scenario(shape, ringSize, max, wait, writes, reads);
    }

    /// <summary>
    /// A scenario for the blocking free runs, in which no wait may end without its partner: every wait sleeps at once,
    /// producers make blocking Writes and the consumers make exactly as many blocking Reads between them. The short
    /// waits of <see cref="Scenario"/> may time out, so a lost wake-up there passes for a legal timeout; here every
    /// blocking call must succeed, promptly. The rings have the two smallest sizes, so producers sleep on a full ring
    /// as often as consumers on an empty one.
    /// </summary>
    /// <param name="timeout">Every blocking call's timeout: long enough that only a broken ring reaches it.</param>
    public static Scenario Balanced(RingShape shape, Random random, int size, TimeSpan timeout)
    {
        (int producers, int consumers) = Integrity.Scenario.Threads(shape);
        bool spsc = shape == RingShape.Spsc1P1C;
        int ringSize = spsc ? Element(random, 64, 128) : Element(random, 2, 4);
        int max = spsc ? ringSize / SegmentLayout.MaxMessageDivisor : Choose(random, 8, 32);
        int micros = (int)timeout.TotalMicroseconds;
        // A lost wake-up shows only on the last publish of a run: an earlier one is covered by the next publish, which
        // finds the sleeper registered and wakes it. Half the scenarios are one write per producer, the shortest runs,
        // which meet that race most often.
        bool single = Pick(random, 1, 1) == 0;
        ScenarioOp Write(Random r) => new(ScenarioOpKind.Write, WriteLength(r, max), micros);
        ScenarioOp[][] writes = new ScenarioOp[producers][];
        for (int p = 0; p < producers; p++) writes[p] = single ? [Write(random)] : OpList(random, size, Write);
        int messages = writes.Sum(ops => ops.Length);
        int[] shares = new int[consumers];
        shares[0] = consumers == 1 || messages < 2 ? messages : Choose(random, 1, messages - 1);
        if (consumers == 2) shares[1] = messages - shares[0];
        ScenarioOp[][] reads = Array.ConvertAll(shares, share => Enumerable.Repeat(new ScenarioOp(ScenarioOpKind.Read, 0, micros), share).ToArray());
        // An aborted claim writes nothing whether it finds room or not, so the counts stay even; in an MPMC ring it still
        // fills a slot with a skip that the readers must step over.
        if (Pick(random, 3, 1) == 1)
        {
            int producer = Choose(random, 0, producers - 1);
            int at = Choose(random, 0, writes[producer].Length);
            writes[producer] = [.. writes[producer][..at], new ScenarioOp(ScenarioOpKind.ClaimAbort, WriteLength(random, max), 0), .. writes[producer][at..]];
        }
        return new Scenario(shape, ringSize, max, WaitMode.SleepAtOnce, writes, reads) { Balanced = true };
    }

    /// <summary>
    /// One or two batches put into a producer's list: 1 to 4 writes, then published (three in four) or dropped. Drawn
    /// after everything else, so the rest of what a seed gives stays as it was before batches existed.
    /// </summary>
    private static ScenarioOp[] WithBatches(Random random, ScenarioOp[] ops, int max)
    {
        for (int n = Choose(random, 1, 2); n > 0; n--)
        {
            ScenarioOp[] batch = new ScenarioOp[Choose(random, 1, 4) + 1];
            for (int i = 0; i < batch.Length - 1; i++) batch[i] = new(ScenarioOpKind.BatchWrite, Choose(random, Integrity.Scenario.MinMessageLength, max), 0);
            batch[^1] = new(Pick(random, 3, 1) == 0 ? ScenarioOpKind.BatchPublish : ScenarioOpKind.BatchDrop, 0, 0);
            int at = Choose(random, 0, ops.Length);
            ops = [.. ops[..at], .. batch, .. ops[at..]];
        }
        return ops;
    }

    public static ScheduledCase Scheduled(RingShape shape, Random random, int size)
    {
        Scenario scenario = Scenario(shape, random, size);
        int[] choices = new int[Choose(random, 0, 4 * size + 8)];
        for (int i = 0; i < choices.Length; i++) choices[i] = Choose(random, 0, 3);
        return new ScheduledCase(scenario, choices, Choose(random, 0, int.MaxValue));
    }

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

    private static ScenarioOp[] OpList(Random random, int size, Func<Random, ScenarioOp> op)
    {
        ScenarioOp[] ops = new ScenarioOp[Choose(random, 1, Math.Max(2, Math.Min(16, 2 + size / 4)))];
        for (int i = 0; i < ops.Length; i++) ops[i] = op(random);
        return ops;
    }

    private static ScenarioOp WriteOp(Random random, int max)
    {
        ScenarioOp Shorter(int length) =>
            new(ScenarioOpKind.ClaimCommitShorter, length, Choose(random, Integrity.Scenario.MinMessageLength, length));
        return Pick(random, 4, 2, 1, 1, 4) switch
        {
            0 => new(ScenarioOpKind.TryWrite, WriteLength(random, max), 0),
            1 => new(ScenarioOpKind.ClaimCommit, WriteLength(random, max), 0),
            2 => Shorter(WriteLength(random, max)),
            3 => new(ScenarioOpKind.ClaimAbort, WriteLength(random, max), 0),
            _ => new(ScenarioOpKind.Write, WriteLength(random, max), Choose(random, 1, 300)),
        };
    }

    /// <summary>One write in four is as long as the ring allows: an edge that a uniform length would seldom reach.</summary>
    private static int WriteLength(Random random, int max) =>
        Pick(random, 3, 1) == 0 ? Choose(random, Integrity.Scenario.MinMessageLength, max) : max;

    private static ScenarioOp ReadOp(Random random) => Pick(random, 3, 1, 2, 5) switch
    {
        0 => new ScenarioOp(ScenarioOpKind.TryRead, 0, 0),
        1 => new ScenarioOp(ScenarioOpKind.ReadInPlace, 0, 0),
        2 => new ScenarioOp(ScenarioOpKind.ReadBatch, 0, Choose(random, 1, 4)),
        _ => new ScenarioOp(ScenarioOpKind.Read, 0, Choose(random, 1, 300)),
    };

    /// <summary>Uniform in [<paramref name="low"/>, <paramref name="high"/>], both ends included (even int.MaxValue).</summary>
    private static int Choose(Random random, int low, int high) => (int)random.NextInt64(low, (long)high + 1);

    private static int Element(Random random, params ReadOnlySpan<int> values) => values[random.Next(values.Length)];

    /// <summary>The index of one of the weights, each as likely as its share of their sum.</summary>
    private static int Pick(Random random, params ReadOnlySpan<int> weights)
    {
        int total = 0;
        foreach (int weight in weights) total += weight;
        int draw = random.Next(total);
        int index = 0;
        while (draw >= weights[index]) draw -= weights[index++];
        return index;
    }
}
