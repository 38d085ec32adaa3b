using System.Globalization;

namespace Ring.Integrity;

/// <param name="Violations">Human-readable violations, each starting with its kind (<c>invented:</c>,
/// <c>duplicated:</c>, <c>lost:</c>, <c>causality:</c>, <c>fifo:</c>); empty when the history passes. At most
/// <see cref="QueueHistoryAudit.ShownPerKind"/> are spelled out per kind, followed by a line counting the rest.</param>
/// <param name="ViolationCount">All violations found, including those not spelled out.</param>
public sealed record AuditResult(IReadOnlyList<string> Violations, long ViolationCount)
{
    public bool Ok => ViolationCount == 0;
}

/// <summary>
/// Necessary conditions for a FIFO queue history that cost O(n log n), for histories far too long for the
/// <see cref="LinearizabilityChecker"/>. Values follow the (producer &lt;&lt; 32 | sequence) convention of
/// <see cref="QueueOperation"/>; only successful operations count.
/// <list type="bullet">
/// <item><b>invented</b>: a dequeue of a value no enqueue produced.</item>
/// <item><b>duplicated</b>: a value dequeued, or enqueued, more than once.</item>
/// <item><b>lost</b> (only for a drained history): an enqueued value never dequeued.</item>
/// <item><b>causality</b>: a dequeue of v that returned before the enqueue of v began.</item>
/// <item><b>fifo</b>: for a and b of one producer with seq(a) &lt; seq(b), the dequeue of b returned before the
/// dequeue of a began.</item>
/// </list>
/// A producer's enqueues must be sequential in sequence order (each returns before the next begins), except values
/// that took effect together (a batch published by one store), which share one interval; a history that breaks this
/// was recorded wrongly and is refused with <see cref="ArgumentException"/>.
/// </summary>
public static class QueueHistoryAudit
{
    public const int ShownPerKind = 20;

    private enum Kind
    {
        Invented,
        Duplicated,
        Lost,
        Causality,
        Fifo,
    }

    public static AuditResult Check(IReadOnlyList<QueueOperation> history, bool drained)
    {
        QueueHistory.ThrowIfMalformed(history);
        Report report = new();

        Dictionary<long, int> enqueueOf = [];
        Dictionary<long, int> dequeueOf = [];
        for (int i = 0; i < history.Count; i++)
        {
            QueueOperation op = history[i];
            if (!op.Succeeded)
            {
                continue;
            }
            Dictionary<long, int> firsts = op.Kind == QueueOpKind.Enqueue ? enqueueOf : dequeueOf;
            if (!firsts.TryAdd(op.Value, i))
            {
                string verb = op.Kind == QueueOpKind.Enqueue ? "enqueues" : "dequeues";
                report.Add(Kind.Duplicated,
                    $"{Describe(history, i)} {verb} {QueueHistory.FormatValue(op.Value)} again (first {Describe(history, firsts[op.Value])})");
            }
        }

        foreach (List<(long Value, int Index)> enqueues in ByProducer(enqueueOf))
        {
            for (int k = 1; k < enqueues.Count; k++)
            {
                QueueOperation earlier = history[enqueues[k - 1].Index];
                QueueOperation later = history[enqueues[k].Index];
                bool publishedTogether = earlier.Invoke == later.Invoke && earlier.Response == later.Response;
                if (earlier.Response >= later.Invoke && !publishedTogether)
                {
                    throw new ArgumentException(
                        $"Malformed history: {Describe(history, enqueues[k - 1].Index)} does not return before " +
                        $"{Describe(history, enqueues[k].Index)} of the same producer begins.", nameof(history));
                }
            }
        }

        for (int i = 0; i < history.Count; i++)
        {
            QueueOperation op = history[i];
            if (!op.Succeeded || op.Kind != QueueOpKind.Dequeue)
            {
                continue;
            }
            if (!enqueueOf.TryGetValue(op.Value, out int enqueue))
            {
                report.Add(Kind.Invented, $"{Describe(history, i)}: no enqueue of {QueueHistory.FormatValue(op.Value)} succeeded");
            }
            else if (op.Response < history[enqueue].Invoke)
            {
                report.Add(Kind.Causality, $"{Describe(history, i)} returned before {Describe(history, enqueue)} began");
            }
        }

        if (drained)
        {
            foreach ((long value, int enqueue) in enqueueOf.OrderBy(pair => pair.Value))
            {
                if (!dequeueOf.ContainsKey(value))
                {
                    report.Add(Kind.Lost, $"{Describe(history, enqueue)} was never dequeued");
                }
            }
        }

        // Walking a producer's dequeued values in sequence order, b is out of order iff some earlier-sequence a's
        // dequeue began after b's returned; the latest-beginning one is the one to name.
        Dictionary<long, int> dequeuedEnqueued = dequeueOf.Where(pair => enqueueOf.ContainsKey(pair.Key)).ToDictionary();
        foreach (List<(long Value, int Index)> dequeues in ByProducer(dequeuedEnqueued))
        {
            int latest = dequeues[0].Index;
            foreach ((_, int b) in dequeues.Skip(1))
            {
                if (history[latest].Invoke > history[b].Response)
                {
                    report.Add(Kind.Fifo,
                        $"{Describe(history, b)} returned before {Describe(history, latest)} began, though " +
                        $"{QueueHistory.FormatValue(history[latest].Value)} was enqueued first");
                }
                if (history[b].Invoke > history[latest].Invoke)
                {
                    latest = b;
                }
            }
        }

        return report.ToResult();
    }

    /// <summary>Per producer, its (value, operation index) pairs in sequence order.</summary>
    private static IEnumerable<List<(long Value, int Index)>> ByProducer(Dictionary<long, int> operationOf) =>
        operationOf
            .GroupBy(pair => QueueHistory.Producer(pair.Key))
            .Select(group => group
                .OrderBy(pair => QueueHistory.Sequence(pair.Key))
                .Select(pair => (pair.Key, pair.Value))
                .ToList());

    private static string Describe(IReadOnlyList<QueueOperation> history, int index) => QueueHistory.Describe(history, index);

    private sealed class Report
    {
        private readonly List<string>[] _shown = [.. Enum.GetValues<Kind>().Select(_ => new List<string>())];
        private readonly long[] _counts = new long[Enum.GetValues<Kind>().Length];

        public void Add(Kind kind, string message)
        {
            _counts[(int)kind]++;
            if (_shown[(int)kind].Count < ShownPerKind)
            {
                _shown[(int)kind].Add($"{kind.ToString().ToLowerInvariant()}: {message}");
            }
        }

        public AuditResult ToResult()
        {
            List<string> lines = [];
            foreach (Kind kind in Enum.GetValues<Kind>())
            {
                lines.AddRange(_shown[(int)kind]);
                long hidden = _counts[(int)kind] - _shown[(int)kind].Count;
                if (hidden > 0)
                {
                    lines.Add(string.Create(CultureInfo.InvariantCulture, $"{kind.ToString().ToLowerInvariant()}: {hidden} more not shown"));
                }
            }
            return new AuditResult(lines, _counts.Sum());
        }
    }
}
