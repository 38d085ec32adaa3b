using System.Globalization;
using System.Text;

namespace Ring.Integrity;

public enum LinearizabilityVerdict
{
    Linearizable,
    NotLinearizable,

    /// <summary>The search gave up after exploring its budget of states.</summary>
    Inconclusive,
}

/// <param name="Verdict">Whether some order of the operations respects real time and the sequential FIFO model.</param>
/// <param name="StatesExplored">Distinct (linearised operations, queue contents) states the search visited.</param>
/// <param name="Witness">When linearizable: every index of the history once, in an order that respects real time
/// and replays on a sequential queue (unconstrained failed operations included as no-ops).</param>
/// <param name="Explanation">When not linearizable: the longest linearisable prefix found and the operations none of
/// which could be placed after it. When inconclusive: how far the search got.</param>
public sealed record LinearizabilityResult(
    LinearizabilityVerdict Verdict,
    long StatesExplored,
    IReadOnlyList<int>? Witness,
    string? Explanation);

/// <summary>
/// Decides whether a complete history of FIFO queue operations is linearizable: Wing and Gong's search for an order
/// that respects real time and the sequential model, in the "just-in-time linearisation" form (a list of call and
/// return events; an operation may be placed next only if its call comes before the first remaining return, and
/// reaching a return means the last placement must be undone), with Lowe's memoisation: a state (set of linearised
/// operations, queue contents) reached once is never explored again, since what can follow depends on nothing else.
/// <para>One queue-specific cut on top: an enqueue is refused where it would put its value behind one that the history
/// dequeues only after this value's dequeue has returned, or never dequeues at all (see TryApply).</para>
/// <para>Failed operations the model does not constrain are dropped before the search and slotted back into the
/// witness afterwards.</para>
/// </summary>
public static class LinearizabilityChecker
{
    public static LinearizabilityResult Check(IReadOnlyList<QueueOperation> history, QueueModelOptions options, long maxStates = 5_000_000)
    {
        QueueHistory.ThrowIfMalformed(history);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxStates);
        if (options.Capacity is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Capacity, "Capacity must be positive.");
        }

        List<int> constrained = [];
        List<int> dropped = [];
        for (int i = 0; i < history.Count; i++)
        {
            (IsConstrained(history[i], options) ? constrained : dropped).Add(i);
        }

        Search search = new(history, constrained, options);
        SearchOutcome outcome = search.Run(maxStates);
        return outcome switch
        {
            SearchOutcome.Linearizable => new LinearizabilityResult(
                LinearizabilityVerdict.Linearizable, search.StatesExplored, Complete(history, search.Linearisation(), dropped), null),
            SearchOutcome.Exhausted => new LinearizabilityResult(
                LinearizabilityVerdict.NotLinearizable, search.StatesExplored, null, search.Explain()),
            _ => new LinearizabilityResult(
                LinearizabilityVerdict.Inconclusive, search.StatesExplored, null,
                string.Create(CultureInfo.InvariantCulture,
                    $"Gave up after {search.StatesExplored} states; the longest linearisable prefix found holds " +
                    $"{search.BestDepth} of {constrained.Count} constrained operations.")),
        };
    }

    private static bool IsConstrained(QueueOperation op, QueueModelOptions options) =>
        op.Succeeded || (op.Kind == QueueOpKind.Dequeue ? options.CheckEmpty : options.CheckFull && options.Capacity is not null);

    /// <summary>
    /// Inserts each unconstrained operation X right after the last operation that precedes it in real time. That keeps
    /// the order consistent with real time: an operation Y that X precedes cannot sit at or before that point, since the
    /// operation there ends before X begins and so precedes Y too. The model state is untouched, as X is a no-op.
    /// </summary>
    private static List<int> Complete(IReadOnlyList<QueueOperation> history, List<int> order, List<int> dropped)
    {
        foreach (int x in dropped)
        {
            int at = order.Count;
            while (at > 0 && history[order[at - 1]].Response >= history[x].Invoke)
            {
                at--;
            }
            order.Insert(at, x);
        }
        return order;
    }

    private enum SearchOutcome
    {
        Linearizable,
        Exhausted,
        OutOfBudget,
    }

    /// <summary>
    /// Operations are numbered 0..n-1 in order of invocation, so the set of linearised operations is mostly a run of
    /// full words followed by a short mixed window; the memo stores only the window.
    /// </summary>
    private sealed class Search
    {
        private const int Head = 0;

        private readonly IReadOnlyList<QueueOperation> _history;
        private readonly QueueModelOptions _options;
        private readonly QueueOperation[] _ops;
        private readonly int[] _historyIndex;

        // Events 1..2n sorted by time, with sentinels Head = 0 and _tail = 2n + 1: a doubly linked list from which a
        // placed operation's call and return are unlinked, and relinked in reverse order when the placement is undone.
        private readonly int _tail;
        private readonly int[] _next;
        private readonly int[] _prev;
        private readonly int[] _eventOp;
        private readonly bool[] _isCall;
        private readonly int[] _callEvent;
        private readonly int[] _returnEvent;

        private readonly ulong[] _linearised;
        private readonly ulong[] _opKey;
        private ulong _setHash;

        // The queue: _enqueued[_front.._back) in linearisation order. Given the set of linearised operations the
        // positions are fixed, so a hash summing (value, position) terms identifies the contents for that set.
        private readonly long[] _enqueued;
        private int _front;
        private int _back;
        private ulong _contentHash;
        private ContentNode? _newest;

        // Look-ahead for enqueues (see TryApply). Per successful enqueue of v: when the dequeue of v is invoked
        // (long.MaxValue if v is never dequeued, long.MinValue if v's enqueue and dequeue cannot be paired because
        // v occurs more than once) and when it responds (long.MaxValue when unknown). _latestDequeueInvoke[k]: the
        // largest such invocation among the first k enqueues on the current path.
        private readonly long[] _dequeueInvoke;
        private readonly long[] _dequeueResponse;
        private readonly long[] _latestDequeueInvoke;

        private readonly HashSet<StateKey> _seen = new(StateKeyComparer.Instance);
        private readonly int[] _path;
        private int _depth;
        private int[] _bestPath = [];

        public Search(IReadOnlyList<QueueOperation> history, List<int> constrained, QueueModelOptions options)
        {
            _history = history;
            _options = options;
            int n = constrained.Count;
            _historyIndex = [.. constrained.OrderBy(i => history[i].Invoke).ThenBy(i => history[i].Response)];
            _ops = [.. _historyIndex.Select(i => history[i])];

            _tail = 2 * n + 1;
            _next = new int[2 * n + 2];
            _prev = new int[2 * n + 2];
            _eventOp = new int[2 * n + 2];
            _isCall = new bool[2 * n + 2];
            _callEvent = new int[n];
            _returnEvent = new int[n];
            (long Time, bool IsReturn, int Op)[] events = new (long, bool, int)[2 * n];
            for (int op = 0; op < n; op++)
            {
                events[2 * op] = (_ops[op].Invoke, false, op);
                events[2 * op + 1] = (_ops[op].Response, true, op);
            }
            // At equal times calls sort first: operations that touch at an instant overlap, they do not precede.
            // The operation number breaks the remaining ties so the search, and its explanation, are reproducible.
            Array.Sort(events, (a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time)
                : a.IsReturn != b.IsReturn ? a.IsReturn.CompareTo(b.IsReturn)
                : a.Op.CompareTo(b.Op));
            for (int e = 1; e <= 2 * n; e++)
            {
                (_, bool isReturn, int op) = events[e - 1];
                _eventOp[e] = op;
                _isCall[e] = !isReturn;
                if (isReturn)
                {
                    _returnEvent[op] = e;
                }
                else
                {
                    _callEvent[op] = e;
                }
            }
            for (int e = 0; e <= _tail; e++)
            {
                _next[e] = e == _tail ? _tail : e + 1;
                _prev[e] = e == Head ? Head : e - 1;
            }

            _linearised = new ulong[(n + 63) / 64];
            _opKey = new ulong[n];
            for (int op = 0; op < n; op++)
            {
                _opKey[op] = Mix(((ulong)op + 1) * 0x9E3779B97F4A7C15UL);
            }
            _enqueued = new long[_ops.Count(o => o.Kind == QueueOpKind.Enqueue && o.Succeeded)];
            _latestDequeueInvoke = new long[_enqueued.Length + 1];
            _latestDequeueInvoke[0] = long.MinValue;
            _dequeueInvoke = new long[n];
            _dequeueResponse = new long[n];
            Dictionary<long, int> enqueues = [];
            Dictionary<long, (int Count, int First)> dequeues = [];
            for (int op = 0; op < n; op++)
            {
                long value = _ops[op].Value;
                if (_ops[op].Succeeded && _ops[op].Kind == QueueOpKind.Enqueue)
                {
                    enqueues[value] = enqueues.GetValueOrDefault(value) + 1;
                }
                else if (_ops[op].Succeeded)
                {
                    dequeues[value] = dequeues.TryGetValue(value, out var seen) ? (seen.Count + 1, seen.First) : (1, op);
                }
            }
            for (int op = 0; op < n; op++)
            {
                if (_ops[op].Succeeded && _ops[op].Kind == QueueOpKind.Enqueue)
                {
                    (int takers, int taker) = dequeues.GetValueOrDefault(_ops[op].Value);
                    (_dequeueInvoke[op], _dequeueResponse[op]) = (enqueues[_ops[op].Value], takers) switch
                    {
                        (1, 0) => (long.MaxValue, long.MaxValue),
                        (1, 1) => (_ops[taker].Invoke, _ops[taker].Response),
                        _ => (long.MinValue, long.MaxValue),
                    };
                }
            }
            _path = new int[n];
        }

        public long StatesExplored => _seen.Count;

        public int BestDepth => _bestPath.Length;

        public SearchOutcome Run(long maxStates)
        {
            int e = _next[Head];
            while (_next[Head] != _tail)
            {
                if (_isCall[e])
                {
                    int op = _eventOp[e];
                    if (TryApply(op))
                    {
                        Toggle(op);
                        StateKey key = LiveKey();
                        if (!_seen.Contains(key))
                        {
                            if (_seen.Count >= maxStates)
                            {
                                return SearchOutcome.OutOfBudget;
                            }
                            _seen.Add(key.Detached());
                            _path[_depth++] = op;
                            if (_depth > _bestPath.Length)
                            {
                                _bestPath = _path[.._depth];
                            }
                            Lift(op);
                            e = _next[Head];
                            continue;
                        }
                        Toggle(op);
                        Undo(op);
                    }
                    e = _next[e];
                }
                else
                {
                    // The first remaining return belongs to an operation not yet placed: nothing placed after this
                    // point could respect real time, so the last placement was wrong.
                    if (_depth == 0)
                    {
                        return SearchOutcome.Exhausted;
                    }
                    int op = _path[--_depth];
                    Toggle(op);
                    Undo(op);
                    Unlift(op);
                    e = _next[_callEvent[op]];
                }
            }
            return SearchOutcome.Linearizable;
        }

        /// <summary>The order found, as history indices (valid after <see cref="Run"/> returned Linearizable).</summary>
        public List<int> Linearisation() => [.. _path.Take(_depth).Select(op => _historyIndex[op])];

        /// <summary>
        /// Every operation that may come next after the longest prefix (its call precedes every remaining return)
        /// was rejected there, by the model or the enqueue look-ahead: had one been accepted, the search would have
        /// reached a longer prefix, or found that state already explored at that longer depth.
        /// </summary>
        public string Explain()
        {
            const int PrefixShown = 20;
            StringBuilder text = new();
            text.Append(CultureInfo.InvariantCulture,
                $"Not linearizable: the longest linearisable prefix found holds {_bestPath.Length} of {_ops.Length} constrained operations.");
            text.AppendLine();

            Queue<int> queue = new();
            List<int> enqueued = [];
            Dictionary<long, int> dequeuedBy = [];
            bool[] placed = new bool[_ops.Length];
            foreach (int op in _bestPath)
            {
                placed[op] = true;
                QueueOperation o = _ops[op];
                if (o.Succeeded && o.Kind == QueueOpKind.Enqueue)
                {
                    queue.Enqueue(op);
                    enqueued.Add(op);
                }
                else if (o.Succeeded)
                {
                    dequeuedBy.TryAdd(_ops[queue.Dequeue()].Value, op);
                }
            }

            text.AppendLine(_bestPath.Length == 0 ? "Longest linearisable prefix found: none." : "Longest linearisable prefix found:");
            int skipped = Math.Max(0, _bestPath.Length - PrefixShown);
            if (skipped > 0)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  ... {skipped} earlier operations");
            }
            foreach (int op in _bestPath.Skip(skipped))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {Describe(op)}");
            }
            text.AppendLine(CultureInfo.InvariantCulture, $"After it {DescribeQueue(queue)}.");

            long firstReturn = long.MaxValue;
            for (int op = 0; op < _ops.Length; op++)
            {
                if (!placed[op])
                {
                    firstReturn = Math.Min(firstReturn, _ops[op].Response);
                }
            }
            text.AppendLine("None of these could be placed next:");
            for (int op = 0; op < _ops.Length; op++)
            {
                if (!placed[op] && _ops[op].Invoke <= firstReturn)
                {
                    text.AppendLine(CultureInfo.InvariantCulture,
                        $"  {Describe(op)}: {Reason(op, queue, enqueued, dequeuedBy)}");
                }
            }
            return text.ToString().TrimEnd();
        }

        private string Reason(int op, Queue<int> queue, List<int> enqueued, Dictionary<long, int> dequeuedBy)
        {
            QueueOperation o = _ops[op];
            string value = QueueHistory.FormatValue(o.Value);
            switch (o.Kind, o.Succeeded)
            {
                case (QueueOpKind.Enqueue, true) when queue.Count != _options.Capacity:
                    // The look-ahead's maximum runs over every enqueue on the path, so one of them triggered it.
                    int blocker = enqueued.First(u => _dequeueInvoke[u] > _dequeueResponse[op]);
                    string ahead = QueueHistory.FormatValue(_ops[blocker].Value);
                    string taker = Describe(DequeueOf(o.Value));
                    return _dequeueInvoke[blocker] == long.MaxValue
                        ? $"{value} would queue behind {ahead}, which is never dequeued, yet {taker} takes {value}"
                        : $"{value} would queue behind {ahead}, yet {taker} returns before {Describe(DequeueOf(_ops[blocker].Value))} begins";
                case (QueueOpKind.Enqueue, true):
                    return "needs room, but " + DescribeQueue(queue);
                case (QueueOpKind.Enqueue, false):
                    return "needs a full queue, but " + DescribeQueue(queue);
                case (QueueOpKind.Dequeue, false):
                    return "needs an empty queue, but " + DescribeQueue(queue);
            }
            if (!_ops.Any(e => e.Kind == QueueOpKind.Enqueue && e.Succeeded && e.Value == o.Value))
            {
                return $"no successful enqueue of {value} exists";
            }
            if (dequeuedBy.TryGetValue(o.Value, out int by))
            {
                return $"{value} was already dequeued by {Describe(by)}";
            }
            return $"needs {value} at the front, but " + DescribeQueue(queue);
        }

        private int DequeueOf(long value) =>
            Array.FindIndex(_ops, o => o.Kind == QueueOpKind.Dequeue && o.Succeeded && o.Value == value);

        private string Describe(int op) => QueueHistory.Describe(_history, _historyIndex[op]);

        private string DescribeQueue(Queue<int> queue)
        {
            const int ValuesShown = 8;
            string capacity = _options.Capacity is int c ? string.Create(CultureInfo.InvariantCulture, $" (capacity {c})") : "";
            if (queue.Count == 0)
            {
                return "the queue is empty" + capacity;
            }
            string values = string.Join(", ", queue.Take(ValuesShown).Select(op => QueueHistory.FormatValue(_ops[op].Value)));
            string more = queue.Count > ValuesShown ? ", ..." : "";
            return string.Create(CultureInfo.InvariantCulture,
                $"the queue holds {queue.Count} value(s){capacity}, front first: [{values}{more}]");
        }

        private bool TryApply(int op)
        {
            QueueOperation o = _ops[op];
            int count = _back - _front;
            switch (o.Kind, o.Succeeded)
            {
                case (QueueOpKind.Enqueue, true):
                    // Placing v behind u commits to dequeuing u before v. If u's dequeue begins only after v's has
                    // returned (or u is never dequeued while v is), no continuation can work; without this cut a
                    // wrong order of two overlapping enqueues surfaces only when their values leave the queue, and
                    // everything placed in between is explored in vain. Values placed earlier and already dequeued
                    // cannot trigger it: their dequeues were placed while v's was pending, so began before it returned.
                    if (count == _options.Capacity || _latestDequeueInvoke[_back] > _dequeueResponse[op])
                    {
                        return false;
                    }
                    _latestDequeueInvoke[_back + 1] = Math.Max(_latestDequeueInvoke[_back], _dequeueInvoke[op]);
                    _enqueued[_back] = o.Value;
                    _contentHash += Slot(o.Value, _back);
                    _newest = new ContentNode(o.Value, _newest);
                    _back++;
                    return true;
                case (QueueOpKind.Enqueue, false):
                    return count == _options.Capacity;
                case (QueueOpKind.Dequeue, true):
                    if (count == 0 || _enqueued[_front] != o.Value)
                    {
                        return false;
                    }
                    _contentHash -= Slot(o.Value, _front);
                    _front++;
                    return true;
                default:
                    return count == 0;
            }
        }

        private void Undo(int op)
        {
            QueueOperation o = _ops[op];
            if (!o.Succeeded)
            {
                return;
            }
            if (o.Kind == QueueOpKind.Enqueue)
            {
                _back--;
                _contentHash -= Slot(o.Value, _back);
                _newest = _newest!.Previous;
            }
            else
            {
                _front--;
                _contentHash += Slot(o.Value, _front);
            }
        }

        private void Toggle(int op)
        {
            _linearised[op >> 6] ^= 1UL << op;
            _setHash ^= _opKey[op];
        }

        private StateKey LiveKey()
        {
            int low = 0;
            while (low < _linearised.Length && _linearised[low] == ulong.MaxValue)
            {
                low++;
            }
            int high = _linearised.Length;
            while (high > low && _linearised[high - 1] == 0)
            {
                high--;
            }
            ulong hash = _setHash ^ (_contentHash * 0xD6E8FEB86659FD93UL);
            return new StateKey(hash, low, _linearised, low, high - low, _newest, _back - _front);
        }

        private void Lift(int op)
        {
            Unlink(_callEvent[op]);
            Unlink(_returnEvent[op]);
        }

        private void Unlift(int op)
        {
            Relink(_returnEvent[op]);
            Relink(_callEvent[op]);
        }

        private void Unlink(int e)
        {
            _next[_prev[e]] = _next[e];
            _prev[_next[e]] = _prev[e];
        }

        private void Relink(int e)
        {
            _next[_prev[e]] = e;
            _prev[_next[e]] = e;
        }

        private static ulong Slot(long value, int position) => Mix((ulong)value ^ Mix((ulong)position + 0x632BE59BD9B4E019UL));

        /// <summary>SplitMix64's finaliser: spreads every input bit over the whole word.</summary>
        private static ulong Mix(ulong x)
        {
            x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
            x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
            return x ^ (x >> 31);
        }
    }

    /// <summary>
    /// The queue contents, newest first, as a persistent list: every memo entry shares the nodes of the path that
    /// produced it, so remembering a state costs no copy of the queue.
    /// </summary>
    private sealed class ContentNode(long value, ContentNode? previous)
    {
        public long Value { get; } = value;

        public ContentNode? Previous { get; } = previous;
    }

    /// <summary>
    /// A memo entry. The linearised set is <paramref name="FullWords"/> words of all ones followed by
    /// <paramref name="Words"/>[<paramref name="Start"/>..+<paramref name="Length"/>] and zeros; the contents are the
    /// first <paramref name="Count"/> nodes from <paramref name="Newest"/>.
    /// </summary>
    private readonly record struct StateKey(ulong Hash, int FullWords, ulong[] Words, int Start, int Length, ContentNode? Newest, int Count)
    {
        /// <summary>A copy that no longer aliases the search's working bitset.</summary>
        public StateKey Detached() => this with { Words = Words.AsSpan(Start, Length).ToArray(), Start = 0 };

        public ReadOnlySpan<ulong> Window => Words.AsSpan(Start, Length);
    }

    private sealed class StateKeyComparer : IEqualityComparer<StateKey>
    {
        public static readonly StateKeyComparer Instance = new();

        public int GetHashCode(StateKey key) => (int)(key.Hash ^ (key.Hash >> 32));

        public bool Equals(StateKey a, StateKey b)
        {
            if (a.Hash != b.Hash || a.FullWords != b.FullWords || a.Count != b.Count || !a.Window.SequenceEqual(b.Window))
            {
                return false;
            }
            ContentNode? x = a.Newest;
            ContentNode? y = b.Newest;
            for (int i = 0; i < a.Count && !ReferenceEquals(x, y); i++)
            {
                // Both lists hold at least Count nodes: every queued value was enqueued on the path.
                if (x!.Value != y!.Value)
                {
                    return false;
                }
                x = x.Previous;
                y = y.Previous;
            }
            return true;
        }
    }
}
