using System.Collections.Concurrent;
using System.Text;

namespace Ring.Integrity;

/// <summary>
/// Runs one scenario's threads against a ring and records what each call did as a queue history. The same
/// bodies run under the step scheduler (one run per schedule) and on free threads (many runs on one ring, the
/// ring drained between them). After a run the ring is drained on the calling thread and the history, with the
/// drain, is checked: payloads, nothing lost, duplicated or invented, per-producer order, linearizability.
/// </summary>
internal sealed class ScenarioRunner : IDisposable
{
    private static int s_segmentCounter;

    private readonly Scenario _scenario;
    private readonly RingSegment _segment;
    private readonly RingWriter[] _writers;
    private readonly RingReader[] _readers;
    private readonly Func<long> _clock;
    private readonly List<QueueOperation>[] _logs;
    private readonly int[][] _expectedLengths;
    private readonly RingMessageHandler[] _handlers;
    private readonly long[] _handlerMarks;
    private readonly ConcurrentQueue<string> _payloadErrors = new();
    private readonly int _producers;
    private readonly int _consumers;
    private long _committed;
    private long _dequeued;
    private int _epoch;
    private (long Invoke, long Response)? _completion; // the Complete call of this run, if any
    private readonly ConcurrentQueue<(int Thread, long Invoke, long Response)> _endsSeen = new(); // IsCompleted calls that said true

    /// <param name="clock">The history's clock: scheduler steps, or Stopwatch ticks on free threads.</param>
    public ScenarioRunner(Scenario scenario, IEndpointFactory endpoints, Func<long> clock)
    {
        _scenario = scenario;
        _clock = clock;
        (_producers, _consumers) = (scenario.Producers.Length, scenario.Consumers.Length);
        // A private directory: Ring refuses one others can write, such as /dev/shm itself.
        string directory = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(),
            $"ring-integrity-{Environment.ProcessId}-{Interlocked.Increment(ref s_segmentCounter)}");
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            string path = Path.Combine(directory, "ring");
            _segment = RingSegment.Create(path, scenario.Options);
            RingSegment.Unlink(path); // mapped for as long as the runner lives; nothing to clean up after a crash
        }
        finally
        {
            Directory.Delete(directory);
        }
        _writers = new RingWriter[_producers];
        _readers = new RingReader[_consumers];
        for (int p = 0; p < _producers; p++) _writers[p] = endpoints.CreateWriter(_segment, scenario.Wait);
        for (int c = 0; c < _consumers; c++) _readers[c] = endpoints.CreateReader(_segment, scenario.Wait);
        _logs = new List<QueueOperation>[_producers + _consumers + 1];
        for (int t = 0; t < _logs.Length; t++) _logs[t] = [];
        _expectedLengths = Array.ConvertAll(scenario.Producers, ops => new int[ops.Length]);
        _handlerMarks = new long[_consumers + 1];
        _handlers = new RingMessageHandler[_consumers + 1];
        for (int c = 0; c <= _consumers; c++)
        {
            int consumer = c;
            _handlers[c] = message => RecordInPlace(consumer, message);
        }
    }

    public int ThreadCount => _producers + _consumers;

    /// <summary>The bodies of one run, producers first; call <see cref="BeginRun"/> before and <see cref="Check"/> after.</summary>
    public Action[] Bodies()
    {
        Action[] bodies = new Action[ThreadCount];
        for (int p = 0; p < _producers; p++)
        {
            int producer = p;
            bodies[p] = () => Produce(producer);
        }
        for (int c = 0; c < _consumers; c++)
        {
            int consumer = c;
            bodies[_producers + c] = () => Consume(consumer);
        }
        return bodies;
    }

    public void BeginRun()
    {
        foreach (List<QueueOperation> log in _logs) log.Clear();
        _payloadErrors.Clear();
        _endsSeen.Clear();
        _completion = null;
        _committed = 0;
        _dequeued = 0;
        _epoch = (_epoch + 1) & MessageCodec.EpochMask;
    }

    /// <summary>
    /// Called by the scheduler when no thread can run, so none is inside a call except the sleepers (who hold
    /// no claim): a consumer asleep while committed messages are unread, or a producer asleep on an empty ring
    /// (head = tail, so no unconsumed skip either), is a lost wake-up; anything else is a legitimate wait.
    /// </summary>
    public string? DiagnoseStall(IReadOnlyList<int> parked)
    {
        long unread = Volatile.Read(ref _committed) - Volatile.Read(ref _dequeued);
        SharedBuffer ring = _segment.Buffer;
        long tail = ring.ReadInt64Acquire(SegmentLayout.TailOffset); // no thread is running: a settled snapshot
        bool completed = RingCompletion.IsFinal(tail);
        bool empty = ring.ReadInt64Acquire(SegmentLayout.HeadOffset) == (tail & ~RingCompletion.TailFlag);
        foreach (int thread in parked)
        {
            if (completed)
                return $"t{thread} is asleep in a completed ring and no other thread can run: the completion should have woken it";
            if (thread >= _producers && unread > 0)
                return $"t{thread} (consumer) is asleep while {unread} committed message(s) are unread and no other thread can run";
            if (thread < _producers && empty)
                return $"t{thread} (producer) is asleep waiting for room in an empty ring and no other thread can run";
        }
        return null;
    }

    /// <summary>Drains the ring, then checks the run. <paramref name="runFailure"/> is the scheduler's verdict, if any.</summary>
    public RunVerdict Check(string? runFailure)
    {
        List<string> problems = [];
        if (runFailure is not null) problems.Add(runFailure);
        else Drain(problems);
        problems.AddRange(_payloadErrors);
        List<QueueOperation> history = [];
        foreach (List<QueueOperation> log in _logs) history.AddRange(log);
        history.Sort((a, b) => a.Invoke != b.Invoke ? a.Invoke.CompareTo(b.Invoke) : a.Thread.CompareTo(b.Thread));
        if (runFailure is null)
        {
            CheckCompletion(history, problems);
            AuditResult audit = QueueHistoryAudit.Check(history, drained: true);
            problems.AddRange(audit.Violations);
            if (problems.Count == 0)
            {
                // One producer publishes positions in order, so an empty answer is exact; with two, an MPMC reader can
                // find a later position published while an earlier one is still being written, and say empty by design.
                QueueModelOptions model = new(CheckEmpty: _producers == 1);
                LinearizabilityResult linear = LinearizabilityChecker.Check(history, model);
                if (linear.Verdict == LinearizabilityVerdict.NotLinearizable) problems.Add($"not linearizable: {linear.Explanation}");
                else if (linear.Verdict == LinearizabilityVerdict.Inconclusive) problems.Add($"linearizability check gave up after {linear.StatesExplored} states");
            }
        }
        return new RunVerdict(problems, history);
    }

    public void Dispose()
    {
        foreach (RingWriter writer in _writers) writer.Dispose();
        foreach (RingReader reader in _readers) reader.Dispose();
        _segment.Dispose();
    }

    private void Produce(int producer)
    {
        RingWriter writer = _writers[producer];
        List<QueueOperation> log = _logs[producer];
        ScenarioOp[] ops = _scenario.Producers[producer];
        Span<byte> scratch = stackalloc byte[_scenario.MaxMessageLength];
        OpenBatch batch = new();
        for (int seq = 0; seq < ops.Length; seq++)
        {
            ScenarioOp op = ops[seq];
            uint word = MessageCodec.Word(producer, _epoch, seq);
            int length = op.Kind == ScenarioOpKind.ClaimCommitShorter ? op.Arg : op.Length;
            _expectedLengths[producer][seq] = length; // before the write: a consumer may check it as soon as the message is out
            long invoke = _clock();
            if (op.Kind is ScenarioOpKind.BatchPublish or ScenarioOpKind.BatchDrop)
            {
                if (op.Kind == ScenarioOpKind.BatchPublish) batch.Publish(producer, invoke, this);
                else batch.Drop(producer, invoke, this);
                continue;
            }
            if (op.Kind != ScenarioOpKind.BatchWrite) batch.Drop(producer, invoke, this);
            if (op.Kind == ScenarioOpKind.Complete)
            {
                writer.TryComplete();
                _completion = (invoke, _clock());
                continue;
            }
            bool written;
            try
            {
                switch (op.Kind)
                {
                    case ScenarioOpKind.TryWrite:
                        MessageCodec.Fill(scratch[..length], word);
                        written = writer.TryWrite(scratch[..length]);
                        break;
                    case ScenarioOpKind.Write:
                        MessageCodec.Fill(scratch[..length], word);
                        written = writer.TryWrite(scratch[..length], TimeSpan.FromMicroseconds(op.Arg));
                        break;
                    case ScenarioOpKind.BatchWrite:
                        MessageCodec.Fill(scratch[..length], word);
                        if (batch.TryWrite(writer, scratch[..length], MessageCodec.Id(word))) continue; // logged when the batch is published or dropped
                        written = false;
                        break;
                    default:
                        written = ClaimAndFinish(writer, op, word);
                        break;
                }
            }
            catch (RingCompletedException)
            {
                written = false; // CheckCompletion judges whether the ring was completed by then
            }
            if (written) Interlocked.Increment(ref _committed);
            log.Add(new QueueOperation(producer, QueueOpKind.Enqueue, MessageCodec.Id(word), written, invoke, _clock()));
        }
        batch.Drop(producer, _clock(), this);
    }

    /// <summary>
    /// A producer's open batch and the ids written into it. Its messages take effect at the one tail store of the
    /// publish, so each is logged with the interval of the <see cref="RingBatch.Publish"/> call: a reader that got one
    /// earlier makes the history non-linearizable. A dropped batch's messages are failed enqueues, never to be read.
    /// </summary>
    private struct OpenBatch
    {
        private RingBatch? _batch;
        private List<long>? _ids;

        public bool TryWrite(RingWriter writer, ReadOnlySpan<byte> message, long id)
        {
            _batch ??= writer.BeginBatch();
            if (!_batch.Value.TryWrite(message)) return false;
            (_ids ??= []).Add(id);
            return true;
        }

        public void Publish(int producer, long invoke, ScenarioRunner runner)
        {
            if (_batch is not { } batch) return;
            batch.Publish();
            Close(producer, invoke, runner, published: true);
        }

        public void Drop(int producer, long invoke, ScenarioRunner runner)
        {
            if (_batch is null) return;
            Close(producer, invoke, runner, published: false);
        }

        private void Close(int producer, long invoke, ScenarioRunner runner, bool published)
        {
            _batch!.Value.Dispose();
            _batch = null;
            long response = runner._clock();
            foreach (long id in _ids ?? [])
            {
                if (published) Interlocked.Increment(ref runner._committed);
                runner._logs[producer].Add(new QueueOperation(producer, QueueOpKind.Enqueue, id, published, invoke, response));
            }
            _ids?.Clear();
        }
    }

    private static bool ClaimAndFinish(RingWriter writer, ScenarioOp op, uint word)
    {
        if (!writer.TryClaim(op.Length, out Span<byte> claimed)) return false;
        switch (op.Kind)
        {
            case ScenarioOpKind.ClaimAbort:
                MessageCodec.Fill(claimed, word);
                writer.Abort();
                return false;
            case ScenarioOpKind.ClaimCommitShorter:
                MessageCodec.Fill(claimed[..op.Arg], word);
                claimed[op.Arg..].Fill(0xEE); // bytes past the commit length must never reach a reader
                writer.Commit(op.Arg);
                return true;
            default:
                MessageCodec.Fill(claimed, word);
                writer.Commit();
                return true;
        }
    }

    private void Consume(int consumer)
    {
        RingReader reader = _readers[consumer];
        int thread = _producers + consumer;
        List<QueueOperation> log = _logs[thread];
        Span<byte> destination = stackalloc byte[_scenario.MaxMessageLength];
        foreach (ScenarioOp op in _scenario.Consumers[consumer])
        {
            long invoke = _clock();
            if (op.Kind == ScenarioOpKind.CheckEnd)
            {
                CheckEnd(reader, thread, invoke);
                continue;
            }
            bool readSomething;
            switch (op.Kind)
            {
                case ScenarioOpKind.TryRead:
                case ScenarioOpKind.Read:
                {
                    readSomething = op.Kind == ScenarioOpKind.TryRead
                        ? reader.TryRead(destination, out int length)
                        : reader.TryRead(destination, out length, TimeSpan.FromMicroseconds(op.Arg));
                    long id = readSomething ? Verify(thread, destination[..length]) : 0;
                    log.Add(new QueueOperation(thread, QueueOpKind.Dequeue, id, readSomething, invoke, _clock()));
                    break;
                }
                default:
                {
                    _handlerMarks[consumer] = invoke;
                    int count = op.Kind == ScenarioOpKind.ReadInPlace ? (reader.TryRead(_handlers[consumer]) ? 1 : 0) : reader.ReadBatch(_handlers[consumer], op.Arg);
                    readSomething = count > 0;
                    if (!readSomething) log.Add(new QueueOperation(thread, QueueOpKind.Dequeue, 0, false, invoke, _clock()));
                    break;
                }
            }
            // After an empty read the end is what a reader wants to know. In a ring that gets completed, also after every
            // message: a read may have seen the completion together with messages it has not read yet.
            if (!readSomething || _scenario.Completes) CheckEnd(reader, thread, _clock());
        }
    }

    /// <summary>Asks the reader whether the stream has ended, and remembers when it said so.</summary>
    private void CheckEnd(RingReader reader, int thread, long invoke)
    {
        if (reader.IsCompleted) _endsSeen.Enqueue((thread, invoke, _clock()));
    }

    /// <summary>
    /// The completion property: no reader reports the end while a message committed before the completion is unread
    /// (its dequeue must have begun before the report returned), nobody reports it before Complete was called, no write
    /// succeeds after Complete returned, and a drained completed ring says it has ended.
    /// </summary>
    private void CheckCompletion(List<QueueOperation> history, List<string> problems)
    {
        Dictionary<long, QueueOperation> dequeues = [];
        foreach (QueueOperation op in history)
        {
            if (op.Kind == QueueOpKind.Dequeue && op.Succeeded) dequeues.TryAdd(op.Value, op);
        }
        foreach ((int thread, long invoke, long response) in _endsSeen)
        {
            if (_completion is not { } completion)
            {
                problems.Add($"t{thread} reported the end of the stream at [{invoke}..{response}] but nobody completed the ring");
                continue;
            }
            foreach (QueueOperation write in history)
            {
                if (write.Kind != QueueOpKind.Enqueue || !write.Succeeded || write.Response >= completion.Invoke) continue;
                if (!dequeues.TryGetValue(write.Value, out QueueOperation read) || read.Invoke > response)
                {
                    string when = dequeues.ContainsKey(write.Value) ? $"read only at [{read.Invoke}..{read.Response}]" : "never read";
                    problems.Add($"t{thread} reported the end of the stream at [{invoke}..{response}] while {QueueHistory.FormatValue(write.Value)}, " +
                        $"committed at [{write.Invoke}..{write.Response}] before Complete [{completion.Invoke}..{completion.Response}], was unread ({when})");
                    break;
                }
            }
        }
        if (_completion is { } done)
        {
            foreach (QueueOperation write in history)
            {
                if (write.Kind == QueueOpKind.Enqueue && write.Succeeded && write.Invoke > done.Response)
                    problems.Add($"{write} succeeded after Complete returned at {done.Response}");
            }
        }
        bool ended;
        try
        {
            ended = _readers[0].IsCompleted;
        }
        catch (Exception exception)
        {
            problems.Add($"asking the drained ring whether it has ended threw {exception.GetType().Name}: {exception.Message}");
            return;
        }
        if (ended != _completion.HasValue)
            problems.Add(_completion.HasValue ? "the drained ring was completed, yet its reader does not report the end" : "the drained ring reports the end, yet nobody completed it");
    }

    /// <summary>
    /// One message of a batch or in-place read. Message k was taken between the handler call for message k − 1
    /// and this one, so that is its interval: the history keeps the batch's order.
    /// </summary>
    private void RecordInPlace(int consumer, ReadOnlySpan<byte> message)
    {
        int thread = _producers + consumer;
        long id = Verify(thread, message);
        long now = _clock();
        _logs[thread].Add(new QueueOperation(thread, QueueOpKind.Dequeue, id, true, _handlerMarks[consumer], now));
        _handlerMarks[consumer] = now;
    }

    private long Verify(int thread, ReadOnlySpan<byte> message)
    {
        Interlocked.Increment(ref _dequeued);
        if (message.Length < Scenario.MinMessageLength)
        {
            _payloadErrors.Enqueue($"t{thread} read a {message.Length}-byte message; every message written has at least {Scenario.MinMessageLength}");
            return MessageCodec.Invalid;
        }
        uint word = MessageCodec.ReadWord(message);
        (int producer, int epoch, int seq) = MessageCodec.Decode(word);
        if (producer >= _producers || epoch != _epoch || seq >= _expectedLengths[producer].Length)
        {
            _payloadErrors.Enqueue($"t{thread} read a message with id word 0x{word:x8} that this run never wrote (producer {producer}, epoch {epoch}, seq {seq})");
            return MessageCodec.Invalid;
        }
        int expected = _expectedLengths[producer][seq];
        if (message.Length != expected)
            _payloadErrors.Enqueue($"t{thread} read message {producer}:{seq} with {message.Length} bytes; it was committed with {expected}");
        else if (!MessageCodec.Matches(message, word))
            _payloadErrors.Enqueue($"t{thread} read message {producer}:{seq} with corrupted payload: {Convert.ToHexString(message)}");
        return MessageCodec.Id(word);
    }

    /// <summary>Reads what is left on the calling thread; every thread has finished, so empty means empty.</summary>
    private void Drain(List<string> problems)
    {
        int thread = _producers + _consumers;
        long time = 0;
        foreach (List<QueueOperation> log in _logs)
        {
            foreach (QueueOperation op in log) time = Math.Max(time, op.Response);
        }
        Span<byte> destination = stackalloc byte[_scenario.MaxMessageLength];
        RingReader reader = _readers[0];
        try
        {
            while (true)
            {
                long invoke = ++time;
                bool read = reader.TryRead(destination, out int length);
                if (!read) break;
                long id = Verify(thread, destination[..length]);
                _logs[thread].Add(new QueueOperation(thread, QueueOpKind.Dequeue, id, true, invoke, ++time));
            }
        }
        catch (Exception exception)
        {
            problems.Add($"draining the ring threw {exception.GetType().Name}: {exception.Message}");
        }
    }
}

/// <summary>The outcome of one run: empty problems means it passed.</summary>
internal sealed record RunVerdict(List<string> Problems, List<QueueOperation> History)
{
    public bool Passed => Problems.Count == 0;

    public string FormatHistory(int maxLines = 120)
    {
        StringBuilder text = new();
        foreach (QueueOperation op in History.Take(maxLines)) text.Append("  ").Append(op).Append('\n');
        if (History.Count > maxLines) text.Append($"  … {History.Count - maxLines} more\n");
        return text.ToString();
    }
}

/// <summary>
/// The message format: the first 4 bytes are the id word (producer 4 bits, run epoch 12 bits, sequence 16 bits),
/// the rest a pattern derived from the word and the length, so a torn, stale or misframed payload shows.
/// </summary>
internal static class MessageCodec
{
    public const int EpochMask = 0xFFF;
    public const long Invalid = -1;

    public static uint Word(int producer, int epoch, int seq) => ((uint)producer << 28) | ((uint)(epoch & EpochMask) << 16) | (uint)(ushort)seq;

    public static (int Producer, int Epoch, int Seq) Decode(uint word) => ((int)(word >> 28), (int)(word >> 16) & EpochMask, (int)(word & 0xFFFF));

    /// <summary>The history's value: producer in the high half, epoch and sequence (increasing within a run) in the low half.</summary>
    public static long Id(uint word) => ((long)(word >> 28) << 32) | (word & 0x0FFF_FFFF);

    public static uint ReadWord(ReadOnlySpan<byte> message) => BitConverter.ToUInt32(message);

    public static void Fill(Span<byte> message, uint word)
    {
        BitConverter.TryWriteBytes(message, word);
        for (int i = sizeof(uint); i < message.Length; i++) message[i] = PatternByte(word, message.Length, i);
    }

    public static bool Matches(ReadOnlySpan<byte> message, uint word)
    {
        for (int i = sizeof(uint); i < message.Length; i++)
        {
            if (message[i] != PatternByte(word, message.Length, i)) return false;
        }
        return true;
    }

    private static byte PatternByte(uint word, int length, int index) => (byte)((word * 0x9E3779B1u >> 24) + (uint)(index * 29) + (uint)(length * 13));
}
