using System.Diagnostics;
using System.Text;
using Ring.Platform.Linux;

namespace Ring.Integrity;

/// <summary>What a logical thread was about to do when it yielded; kept per step for the failure report.</summary>
internal enum MemoryOp : byte
{
    Load,
    LoadAcquire,
    Store,
    StoreFenced,
    CompareExchange,
    FetchAdd,
    CopyIn,
    CopyOut,
    Span,
    FutexWait,
    FutexWake,
    Fence,
}

/// <summary>
/// Runs logical threads, each on its own OS thread, one at a time. A thread yields before each shared-memory
/// operation (<see cref="Step"/>); the next thread to run comes from the schedule: explicit choices first, then
/// a seeded random generator. Time is virtual: it advances by one microsecond per step and jumps to the
/// earliest timeout when every thread is parked, so a replay from the same schedule is the same run.
/// <para>
/// A futex wait parks the logical thread until a wake on the same word or its timeout. When every unfinished
/// thread is parked, the caller's stall diagnosis decides whether one of them should have been able to make
/// progress (a lost wake-up); if so the run fails with that diagnosis instead of firing a timeout that would
/// mask it.
/// </para>
/// </summary>
internal sealed class StepScheduler
{
    /// <summary>Virtual time per step: one microsecond.</summary>
    public static readonly long TicksPerStep = Stopwatch.Frequency / 1_000_000;

    private const int TraceLength = 400;

    private static readonly TimeSpan HangLimit = TimeSpan.FromMinutes(1);

    private readonly int[] _choices;
    private readonly Random _random;
    private readonly int _maxSteps;
    private readonly Func<IReadOnlyList<int>, string?> _diagnoseStall;
    private readonly List<LogicalThread> _threads = [];
    private readonly ManualResetEventSlim _finished = new(false);
    private readonly (int Thread, MemoryOp Op, long Offset)[] _trace = new (int, MemoryOp, long)[TraceLength];
    private readonly int[] _runnable = new int[8];
    private int _choiceIndex;
    private long _parkSequence;
    private volatile LogicalThread? _running;
    private volatile bool _aborted;
    private string? _failure;

    /// <param name="choices">The schedule's explicit choices: at step k, runnable thread choices[k] mod (number runnable).</param>
    /// <param name="seed">Seeds the choices after the explicit ones run out.</param>
    /// <param name="diagnoseStall">Given the ids of the parked threads when no thread can run, a description of the lost wake-up, or null if waiting is legitimate.</param>
    public StepScheduler(int[] choices, int seed, int maxSteps, Func<IReadOnlyList<int>, string?> diagnoseStall)
    {
        _choices = choices;
        _random = new Random(seed);
        _maxSteps = maxSteps;
        _diagnoseStall = diagnoseStall;
    }

    /// <summary>Virtual now, in Stopwatch ticks.</summary>
    public long Now { get; private set; }

    public int Steps { get; private set; }

    /// <summary>Why the run was cut short (a thread threw, a lost wake-up, a deadlock, the step budget), or null.</summary>
    public string? Failure => _failure;

    /// <summary>The thread running now, or -1 outside a run; an operation outside a run does not yield.</summary>
    public int CurrentThread => _running is { } running && running.Os == Thread.CurrentThread ? running.Id : -1;

    /// <summary>Runs the bodies to completion (or failure) under the schedule.</summary>
    public void Run(IReadOnlyList<Action> bodies)
    {
        if (_threads.Count != 0) throw new InvalidOperationException("A scheduler runs once.");
        for (int id = 0; id < bodies.Count; id++)
        {
            LogicalThread thread = new(id, bodies[id]);
            thread.Os = new Thread(() => Body(thread)) { IsBackground = true, Name = $"logical-{id}" };
            _threads.Add(thread);
        }
        foreach (LogicalThread thread in _threads) thread.Os!.Start();
        LogicalThread first = Choose();
        _running = first;
        first.Turn.Release();
        if (!_finished.Wait(HangLimit))
        {
            // Only a fault in the scheduler itself gets here (every wait in a run has a virtual timeout).
            _failure ??= $"the scheduled run did not finish within {HangLimit.TotalSeconds:0} s of real time at step {Steps}";
            _aborted = true;
            foreach (LogicalThread thread in _threads) thread.Turn.Release();
        }
        foreach (LogicalThread thread in _threads) thread.Os!.Join(HangLimit);
    }

    /// <summary>Called by the running thread before each shared-memory operation.</summary>
    public void Step(MemoryOp op, long offset)
    {
        if (_aborted)
        {
            if (IsLogicalThread()) throw new ScheduleAbortedException();
            return;
        }
        LogicalThread? current = _running;
        if (current is null || current.Os != Thread.CurrentThread) return;
        _trace[Steps % TraceLength] = (current.Id, op, offset);
        Steps++;
        Now += TicksPerStep;
        if (Steps > _maxSteps) Abort($"step budget of {_maxSteps} exhausted: a livelock, or a wait that never times out");
        LogicalThread next = Choose();
        if (next != current) SwitchTo(current, next);
    }

    /// <summary>Parks the running thread on a futex word until a wake or the (virtual) timeout.</summary>
    public Futex.WaitResult Park(long offset, TimeSpan timeout)
    {
        LogicalThread current = _running!;
        current.State = ThreadState.Parked;
        current.ParkedOn = offset;
        current.ParkOrder = _parkSequence++;
        current.WakeAt = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Now + Math.Max(TicksPerStep, (long)(timeout.TotalSeconds * Stopwatch.Frequency));
        current.Woken = false;
        LogicalThread next = ChooseOrResolveStall();
        if (next != current) SwitchTo(current, next);
        return current.Woken ? Futex.WaitResult.Woken : Futex.WaitResult.TimedOut;
    }

    /// <summary>Wakes up to <paramref name="count"/> threads parked on the word, longest-parked first.</summary>
    public int Wake(long offset, int count)
    {
        int woken = 0;
        while (woken < count)
        {
            LogicalThread? sleeper = null;
            foreach (LogicalThread thread in _threads)
            {
                if (thread.State == ThreadState.Parked && thread.ParkedOn == offset && (sleeper is null || thread.ParkOrder < sleeper.ParkOrder)) sleeper = thread;
            }
            if (sleeper is null) break;
            sleeper.State = ThreadState.Runnable;
            sleeper.Woken = true;
            woken++;
        }
        return woken;
    }

    /// <summary>The last steps, oldest first, one per line: step number, thread, operation, segment offset.</summary>
    public string FormatTrace(int maxLines = 80)
    {
        StringBuilder text = new();
        int first = Math.Max(0, Steps - Math.Min(maxLines, TraceLength));
        for (int step = first; step < Steps; step++)
        {
            (int thread, MemoryOp op, long offset) = _trace[step % TraceLength];
            text.Append($"  step {step,5}  t{thread}  {op,-15} 0x{offset:x}\n");
        }
        return text.ToString();
    }

    /// <summary>The threads in the order they ran, run-length encoded: "t0×12 t1×3 …" (the realised schedule).</summary>
    public string FormatSchedule()
    {
        StringBuilder text = new();
        int first = Math.Max(0, Steps - TraceLength);
        int previous = -1, run = 0;
        for (int step = first; step < Steps; step++)
        {
            int thread = _trace[step % TraceLength].Thread;
            if (thread == previous)
            {
                run++;
                continue;
            }
            if (run > 0) text.Append($"t{previous}×{run} ");
            previous = thread;
            run = 1;
        }
        if (run > 0) text.Append($"t{previous}×{run}");
        return first > 0 ? $"(last {TraceLength} steps) {text}" : text.ToString();
    }

    private bool IsLogicalThread()
    {
        foreach (LogicalThread thread in _threads)
        {
            if (thread.Os == Thread.CurrentThread) return true;
        }
        return false;
    }

    /// <summary>
    /// A logical thread's whole life. Nothing may escape it: an exception leaving a thread's start method ends
    /// the process, and with it every test still to run in the host.
    /// </summary>
    private void Body(LogicalThread thread)
    {
        try
        {
            thread.Turn.Wait();
            if (!_aborted) thread.Action();
            if (_aborted) return;
            thread.State = ThreadState.Done;
            if (_threads.TrueForAll(t => t.State == ThreadState.Done))
            {
                _running = null;
                _finished.Set();
                return;
            }
            LogicalThread next = ChooseOrResolveStall();
            _running = next;
            next.Turn.Release();
        }
        catch (ScheduleAbortedException)
        {
        }
        catch (Exception exception)
        {
            if (!_aborted) Stop($"t{thread.Id} threw {exception.GetType().Name}: {exception.Message}\n{exception.StackTrace}");
        }
    }

    private void SwitchTo(LogicalThread current, LogicalThread next)
    {
        _running = next;
        next.Turn.Release();
        current.Turn.Wait();
        if (_aborted) throw new ScheduleAbortedException();
    }

    private LogicalThread Choose()
    {
        int count = 0;
        foreach (LogicalThread thread in _threads)
        {
            if (thread.State == ThreadState.Runnable) _runnable[count++] = thread.Id;
        }
        if (count == 0) throw new InvalidOperationException("no runnable thread");
        if (count == 1) return _threads[_runnable[0]];
        int choice = _choiceIndex < _choices.Length ? _choices[_choiceIndex] : _random.Next();
        _choiceIndex++;
        return _threads[_runnable[(int)((uint)choice % (uint)count)]];
    }

    private LogicalThread ChooseOrResolveStall()
    {
        if (_threads.Exists(t => t.State == ThreadState.Runnable)) return Choose();
        List<int> parked = _threads.FindAll(t => t.State == ThreadState.Parked).ConvertAll(t => t.Id);
        string? lostWakeUp = _diagnoseStall(parked);
        if (lostWakeUp is not null) Abort($"lost wake-up: {lostWakeUp}");
        LogicalThread? earliest = null;
        foreach (LogicalThread thread in _threads)
        {
            if (thread.State == ThreadState.Parked && (earliest is null || thread.WakeAt < earliest.WakeAt)) earliest = thread;
        }
        if (earliest is null || earliest.WakeAt == long.MaxValue) Abort("deadlock: every unfinished thread is parked without a timeout");
        Now = Math.Max(Now, earliest!.WakeAt);
        earliest.State = ThreadState.Runnable;
        earliest.Woken = false;
        return earliest;
    }

    /// <summary>Ends the run from inside a logical thread's step: records why, releases everyone, unwinds the caller.</summary>
    private void Abort(string failure)
    {
        Stop(failure);
        throw new ScheduleAbortedException();
    }

    /// <summary>Records why the run ends and releases every thread; each unwinds at its next step.</summary>
    private void Stop(string failure)
    {
        _failure ??= failure;
        _aborted = true;
        foreach (LogicalThread thread in _threads) thread.Turn.Release();
        _finished.Set();
    }

    private enum ThreadState { Runnable, Parked, Done }

    private sealed class LogicalThread(int id, Action action)
    {
        public readonly int Id = id;
        public readonly Action Action = action;
        public readonly SemaphoreSlim Turn = new(0);
        public Thread? Os;
        public ThreadState State = ThreadState.Runnable;
        public long ParkedOn;
        public long ParkOrder;
        public long WakeAt;
        public bool Woken;
        public (long Offset, byte[] Bytes)? DeferredCopy;
    }

    /// <summary>Payload bytes a broken variant writes only after its next publishing store; see <see cref="ScheduledMemory{TVariant}"/>.</summary>
    public void Defer(long offset, byte[] bytes) => _running!.DeferredCopy = (offset, bytes);

    public (long Offset, byte[] Bytes)? TakeDeferred()
    {
        if (_running is not { } current || current.Os != Thread.CurrentThread) return null;
        (long, byte[])? deferred = current.DeferredCopy;
        current.DeferredCopy = null;
        return deferred;
    }
}

/// <summary>Unwinds a logical thread when the run has been cut short.</summary>
internal sealed class ScheduleAbortedException : Exception
{
    public ScheduleAbortedException() : base("the scheduled run was aborted") { }
}
