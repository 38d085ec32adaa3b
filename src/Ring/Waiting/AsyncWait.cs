using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Threading.Tasks.Sources;

namespace Ring;

/// <summary>What became of a pending async wait when the service looked at it.</summary>
internal enum AsyncWaitOutcome
{
    Pending,
    Ready,
    Completed,
    TimedOut,
    Cancelled,
    Disposed,
    Faulted,
}

/// <summary>
/// An endpoint's async wait, made at its first async wait that has to wait and reused for every later one: the
/// <see cref="IValueTaskSource{TResult}"/> behind the returned <see cref="ValueTask{TResult}"/> (true: ready; false:
/// completed or timed out), and the wait's eventcount registration while the <see cref="AsyncWaitService"/> holds
/// it. The protocol is argued in <see cref="AsyncWaitService"/>.
/// <para>
/// Ownership moves with the wait: the endpoint's thread starts it (registration, re-check) and hands it over; from
/// then on only the service thread touches the endpoint through it, until it completes the source, which is the last
/// thing it does with the wait. Continuations run on the thread pool, never inline on the service thread. The wait
/// is free again once its result has been taken; a second async wait while one is outstanding throws
/// <see cref="InvalidOperationException"/>.
/// </para>
/// </summary>
internal abstract class AsyncWait : IValueTaskSource<bool>
{
    private static readonly Action<object?> CancelCallback = static state => ((AsyncWait)state!).RequestCancel();

    private ManualResetValueTaskSourceCore<bool> _source; // a mutable struct: never readonly
    private int _busy; // 1 from Start until the result is taken
    private int _cancelRequested;
    private CancellationToken _token;
    private CancellationTokenRegistration _cancellation;
    private Exception? _fault;

    protected AsyncWait(AsyncWaitService service)
    {
        Service = service;
        _source.RunContinuationsAsynchronously = true;
    }

    public AsyncWaitService Service { get; }

    /// <summary>The service thread that holds the wait; set before the hand-over.</summary>
    public AsyncWaitShard? Shard { get; set; }

    /// <summary>The wake sequence the current registration read (step 1): the value the service sleeps on.</summary>
    public int Sequence { get; private set; }

    /// <summary>When the service must look at the wait even if its word has not moved: the sleep limit, or the deadline if sooner.</summary>
    public long WakeBy { get; private set; }

    /// <summary>True while a wait is outstanding: from its start until its result is taken.</summary>
    public bool IsBusy => Volatile.Read(ref _busy) != 0; // pairs with the release in GetResult

    public abstract nint WordAddress { get; }

    private long Deadline { get; set; }

    /// <summary>The start of the sleep limit's last quarter: a wait re-checked early here lines its round up with others'.</summary>
    private long RecheckFrom { get; set; }

    protected abstract bool IsDisposed { get; }

    protected abstract int CurrentSequence { get; }

    protected abstract TimeSpan SleepLimit { get; }

    /// <summary>
    /// The service thread's look at the wait. Pending while its word still holds the sequence it registered with
    /// and its sleep limit has not run out: no signaller saw the registration, so the ring has not changed for it.
    /// Otherwise the sync loop's turn after a wake: unregister, check, and if still waiting register and re-check.
    /// </summary>
    public AsyncWaitOutcome Poll(long now)
    {
        try
        {
            if (Volatile.Read(ref _cancelRequested) != 0) return AsyncWaitOutcome.Cancelled; // pairs with RequestCancel's write, made before it rang
            if (IsDisposed) return AsyncWaitOutcome.Disposed;
            if (CurrentSequence == Sequence && now < RecheckFrom && now < Deadline) return AsyncWaitOutcome.Pending;
            Unregister(); // step 5 of the round that ends here
            WaitReadiness readiness = Check();
            if (readiness != WaitReadiness.Waiting) return Settled(readiness);
            return now >= Deadline ? AsyncWaitOutcome.TimedOut : BeginRound(now);
        }
        catch (Exception e)
        {
            // A condition can find the ring corrupted: the wait's task faults with that, the service goes on.
            _fault = e;
            return AsyncWaitOutcome.Faulted;
        }
    }

    /// <summary>
    /// Completes a wait the service has dropped: the cancellation registration goes first (one already running
    /// finishes), then the registration on the eventcount and the call inside the endpoint, so the endpoint may
    /// unmap from here; the source is completed last, since its continuation may start the next wait at once.
    /// </summary>
    public void Finish(AsyncWaitOutcome outcome)
    {
        _cancellation.Dispose();
        _cancellation = default;
        Exception? error = outcome switch
        {
            AsyncWaitOutcome.Cancelled => new OperationCanceledException(_token),
            AsyncWaitOutcome.Disposed => DisposedError(),
            AsyncWaitOutcome.Faulted => _fault,
            _ => null,
        };
        LeaveEndpoint();
        if (error is null) _source.SetResult(outcome == AsyncWaitOutcome.Ready);
        else _source.SetException(error);
    }

    /// <summary>Completes a wait the service has dropped with <paramref name="error"/>.</summary>
    public void Fail(Exception error)
    {
        _fault = error;
        Finish(AsyncWaitOutcome.Faulted);
    }

    /// <summary>Watches the token for a wait being handed over; a token cancelled already calls back at once.</summary>
    public void WatchCancellation(CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled) return;
        _token = cancellationToken;
        _cancellation = cancellationToken.UnsafeRegister(CancelCallback, this);
    }

    /// <summary>Bumps the wait's wake sequence and wakes everyone on it: how the fallback reaches a thread asleep on the word.</summary>
    public abstract void WakeWord();

    [DoesNotReturn]
    public static void ThrowOutstanding() =>
        throw new InvalidOperationException("An async wait is already outstanding on this endpoint: await it before starting another.");

    public bool GetResult(short token)
    {
        if (_source.GetStatus(token) == ValueTaskSourceStatus.Pending) return _source.GetResult(token); // throws, and leaves the wait as it is
        try
        {
            return _source.GetResult(token);
        }
        finally
        {
            _source.Reset();
            _token = default;
            _fault = null;
            _cancelRequested = 0;
            Volatile.Write(ref _busy, 0); // release: the next Start finds the wait reset
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _source.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);

    /// <summary>The pending task for the wait about to be handed over.</summary>
    protected ValueTask<bool> PendingTask => new(this, _source.Version);

    /// <summary>Takes the wait for a new start; throws while one is outstanding.</summary>
    protected void Claim()
    {
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0) ThrowOutstanding();
    }

    /// <summary>Frees a wait that ended before it was handed over.</summary>
    protected void Unclaim() => Volatile.Write(ref _busy, 0);

    /// <summary>The first round, on the endpoint's thread: the deadline, then steps 1 to 3.</summary>
    protected AsyncWaitOutcome Begin(TimeSpan timeout)
    {
        long now = Stopwatch.GetTimestamp();
        Deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : After(now, timeout);
        return BeginRound(now);
    }

    protected abstract int Register();

    /// <summary>Gives the registration back if the wait holds one (a signaller may have taken it already in single-waiter mode).</summary>
    protected abstract void Unregister();

    protected abstract WaitReadiness Check();

    /// <summary>Step 3: <see cref="Check"/>, except in the integrity tests' deliberately broken variant that skips it.</summary>
    protected abstract WaitReadiness Recheck();

    protected abstract void CountSleep();

    /// <summary>Unregisters and ends the wait's call inside the endpoint.</summary>
    protected abstract void LeaveEndpoint();

    protected abstract Exception DisposedError();

    protected static AsyncWaitOutcome Settled(WaitReadiness readiness) =>
        readiness == WaitReadiness.Ready ? AsyncWaitOutcome.Ready : AsyncWaitOutcome.Completed;

    /// <summary>A Stopwatch timestamp <paramref name="span"/> after <paramref name="now"/>; long.MaxValue past the clock's range.</summary>
    private static long After(long now, TimeSpan span)
    {
        double ticks = span.Ticks * ((double)Stopwatch.Frequency / TimeSpan.TicksPerSecond);
        return ticks >= long.MaxValue - now ? long.MaxValue : now + (long)ticks;
    }

    /// <summary>
    /// Steps 1 to 3: read the sequence and register (a full fence), re-check; Disposed if a Dispose came meanwhile
    /// (its bump may predate the sequence read, so the sleep would not see it). Pending: the wait sleeps on the
    /// sequence until its word moves, its sleep limit runs out or its deadline passes.
    /// </summary>
    private AsyncWaitOutcome BeginRound(long now)
    {
        Sequence = Register();
        WaitReadiness readiness = Recheck();
        if (readiness != WaitReadiness.Waiting) return Settled(readiness);
        if (IsDisposed) return AsyncWaitOutcome.Disposed;
        TimeSpan limit = SleepLimit;
        WakeBy = Math.Min(Deadline, After(now, limit));
        RecheckFrom = Math.Min(Deadline, After(now, limit * 0.75));
        CountSleep();
        return AsyncWaitOutcome.Pending;
    }

    private void RequestCancel()
    {
        Volatile.Write(ref _cancelRequested, 1); // read by Poll after the bell: the ring below publishes it
        Shard!.Interrupt(this);
    }
}

/// <summary>An async wait on one endpoint's eventcount, for that endpoint's condition.</summary>
internal sealed class AsyncWait<TCondition, TMemory>(IEndpoint<TMemory> endpoint, AsyncWaitService service) : AsyncWait(service)
    where TCondition : struct, IWaitCondition
    where TMemory : struct, ISharedMemory
{
    private readonly EventCount<TMemory> _events = endpoint.Core.Waker.Events;
    private TCondition _condition;
    private bool _registered;

    public override nint WordAddress => _events.SequenceAddress;

    protected override bool IsDisposed => endpoint.Core.IsDisposed;

    protected override int CurrentSequence => _events.Sequence;

    protected override TimeSpan SleepLimit => _events.LimitSleep(_condition.SleepLimit);

    /// <summary>
    /// Starts a wait whose condition was found waiting, inside the endpoint's call: registers and re-checks, and
    /// either settles at once (<paramref name="handedOver"/> false: the caller's call ends as usual) or hands the wait
    /// to the service, which then owns the call and ends it.
    /// </summary>
    public ValueTask<bool> Start(TCondition condition, TimeSpan timeout, CancellationToken cancellationToken, out bool handedOver)
    {
        handedOver = false;
        Claim();
        try
        {
            _condition = condition;
            AsyncWaitOutcome outcome = Begin(timeout);
            if (outcome == AsyncWaitOutcome.Disposed) throw DisposedError();
            if (outcome != AsyncWaitOutcome.Pending) return new ValueTask<bool>(outcome == AsyncWaitOutcome.Ready);
            ValueTask<bool> pending = PendingTask;
            Service.Add(this, cancellationToken);
            handedOver = true;
            return pending;
        }
        finally
        {
            if (!handedOver)
            {
                Unregister();
                Unclaim();
            }
        }
    }

    public override void WakeWord() => _events.WakeAll();

    protected override int Register()
    {
        int sequence = _events.Register();
        _registered = true;
        return sequence;
    }

    protected override void Unregister()
    {
        if (!_registered) return;
        _registered = false;
        _events.Unregister();
    }

    protected override WaitReadiness Check() => _condition.Check();

    protected override WaitReadiness Recheck() =>
        TMemory.Mutation == ProtocolMutation.SkipRecheckBeforeSleep ? WaitReadiness.Waiting : _condition.Check();

    protected override void CountSleep() => _events.CountSleep();

    protected override void LeaveEndpoint()
    {
        Unregister();
        endpoint.Core.LeaveAsyncWait();
    }

    protected override Exception DisposedError() => endpoint.Core.DisposedError();
}
