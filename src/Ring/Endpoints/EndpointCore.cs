using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Ring;

/// <summary>
/// What every writer and reader has besides its protocol: the participant lease (its entry, its role, its
/// liveness), its reference on the segment's mapping, the eventcount it sleeps on, and the accounting that lets
/// Dispose run while a call is inside. The lease and the mapping reference are given back only once
/// <c>Dispose</c> has finished and the last call inside the endpoint has left, so a call never touches an unmapped
/// segment or a released entry (a thread asleep in a blocking read while another disposes the reader and the
/// segment used to die of an access violation).
/// <para>
/// Counting calls the way <see cref="System.Runtime.InteropServices.SafeHandle"/> does would put a locked
/// instruction on every call; an endpoint is used by one thread at a time, so calls are counted with plain
/// stores and the cost is moved to <c>Dispose</c>. A call stores <c>_calls + 1</c>, then reads
/// <c>_disposed</c>; on its way out it stores <c>_calls - 1</c> (a release store: the call's accesses to
/// the segment come first) and reads <c>_disposed</c> again. <c>Dispose</c> sets <c>_disposed</c>, runs
/// <see cref="Interlocked.MemoryBarrierProcessWide"/>, then reads <c>_calls</c>. The barrier executes a full
/// fence on the calling thread at some instant between <c>Dispose</c>'s store and its load. A store of the
/// caller's made before that instant is visible to <c>Dispose</c>'s load; for one made after it, the load of
/// <c>_disposed</c> that follows it in the caller runs after the instant too and sees <c>_disposed</c> set.
/// So either <c>Dispose</c> finds no call inside, and any call entering from then on sees <c>_disposed</c> and
/// throws before touching the segment, or the call inside sees <c>_disposed</c> on its way out. This relies on
/// the JIT keeping each store before the volatile load that follows it (it does not move memory accesses
/// across a volatile one); the processor's store buffer is what the barrier takes care of.
/// </para>
/// <para>
/// Both sides may see each other. Whoever sees <c>_disposed</c> set with no call inside gives up the calls'
/// share, and <c>Dispose</c> gives up its own once it has finished with the segment (waking sleepers, an
/// abandoned claim): an <see cref="Interlocked.And(ref int, int)"/> clears each share once, and whoever clears
/// the last one releases the lease (the entry, the role, the locks) and then the mapping reference. A call
/// woken by Dispose leaves at once, so that is microseconds after Dispose when a call was inside. That is the only interlocked instruction, and
/// only after <c>Dispose</c>. A call that <c>Dispose</c> finds inside may be asleep on the eventcount:
/// <c>Dispose</c> wakes every sleeper on it, and the wait loop checks <see cref="IsDisposed"/> before it
/// sleeps and after every wake (see <see cref="Waiter"/>). Calls nest (a read handler may call the reader, or
/// dispose it and the segment), which is why <c>_calls</c> is a depth and not a flag.
/// </para>
/// <para>
/// A pending async wait is a call inside too: it enters on the caller's thread and leaves on the async wait
/// service's thread once that has finished with the segment (<see cref="AsyncWaitService"/>). The two never
/// overlap: the caller hands the wait over as the last thing it does in the endpoint, through a queue that orders
/// its stores before the service's, and the service completes the wait's task only after it has left. The stores
/// and loads are the same as above, so is the argument.
/// </para>
/// </summary>
internal struct EndpointCore<TMemory> where TMemory : struct, ISharedMemory
{
    private const int CallsShare = 1;
    private const int DisposeShare = 2;

    private readonly RingSegment _segment;
    private readonly string _endpoint;
    private readonly EventCount<TMemory> _peers;
    private int _calls; // written only by the thread using the endpoint (or the service thread that holds its async wait)
    private int _disposed;
    private int _shares;
    private AsyncWait? _asyncWait; // made at the endpoint's first async wait that has to wait; reused after

    /// <summary>
    /// Takes over the lease and takes the endpoint's reference on the mapping. <paramref name="sleepsOn"/> is the
    /// eventcount this end sleeps on (the readers' for a reader, the writers' for a writer), <paramref name="peers"/>
    /// the other one, whose sleepers are woken when this endpoint has left, so that a peer watching for
    /// <see cref="PeerLoss.Complete"/> learns of a clean detach at once.
    /// </summary>
    public EndpointCore(RingSegment segment, ParticipantLease<TMemory> lease, EventCount<TMemory> sleepsOn, EventCount<TMemory> peers, string endpoint)
    {
        segment.AddMappingReference();
        _segment = segment;
        _endpoint = endpoint;
        _shares = CallsShare | DisposeShare;
        Lease = lease;
        Waker = new EventWaker<TMemory>(sleepsOn);
        _peers = peers;
    }

    public ParticipantLease<TMemory> Lease { get; }

    public EventWaker<TMemory> Waker { get; }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0; // pairs with Dispose's exchange

    /// <summary>Counts a call in until the returned scope is disposed; throws if the endpoint is disposed.</summary>
    [UnscopedRef]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Scope Enter()
    {
        EnterCall();
        return new Scope(ref this);
    }

    /// <summary>For calls that do not touch the segment.</summary>
    public void ThrowIfDisposed()
    {
        if (IsDisposed) RingThrow.Disposed(_endpoint);
    }

    /// <summary>Waits on this end's eventcount until the condition holds (true) or the timeout passes (false).</summary>
    [UnscopedRef]
    public bool WaitUntil<TPolicy, TCondition>(TCondition condition, TimeSpan timeout, CancellationToken cancellationToken)
        where TPolicy : struct, IWaitPolicy
        where TCondition : struct, IWaitCondition =>
        Waiter.WaitUntil<TPolicy, TCondition, TMemory>(condition, ref this, timeout, cancellationToken);

    /// <summary>
    /// Waits asynchronously until the condition is ready (true), or says the ring is completed or the timeout passes
    /// (false). Completes synchronously, with no allocation and no system call, when the condition is not waiting;
    /// otherwise hands a registered wait to the async wait service, which holds no thread for it and keeps it a call
    /// inside the endpoint until it is done. One async wait may be outstanding at a time.
    /// </summary>
    public ValueTask<bool> WaitAsync<TCondition>(IEndpoint<TMemory> endpoint, TCondition condition, TimeSpan timeout, CancellationToken cancellationToken)
        where TCondition : struct, IWaitCondition
    {
        Waiter.ValidateTimeout(timeout);
        // Before anything else: a second wait would run the condition alongside the service thread running the first's.
        if (_asyncWait is { IsBusy: true }) AsyncWait.ThrowOutstanding();
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<bool>(cancellationToken);
        EnterCall();
        bool handedOver = false;
        try
        {
            WaitReadiness readiness = condition.Check();
            if (readiness != WaitReadiness.Waiting) return new ValueTask<bool>(readiness == WaitReadiness.Ready);
            if (timeout == TimeSpan.Zero) return new ValueTask<bool>(false);
            AsyncWait<TCondition, TMemory> wait = _asyncWait as AsyncWait<TCondition, TMemory> ?? NewAsyncWait<TCondition>(endpoint);
            return wait.Start(condition, timeout, cancellationToken, out handedOver);
        }
        finally
        {
            if (!handedOver) Exit();
        }
    }

    /// <summary>The service thread ends a pending async wait's call.</summary>
    public void LeaveAsyncWait() => Exit();

    public readonly ObjectDisposedException DisposedError() => new(_endpoint);

    /// <summary>
    /// The first half of the endpoint's Dispose: false when it was disposed already. Wakes the sleepers on this
    /// end's eventcount if a call is inside; the endpoint may still use the segment until <see cref="EndDispose"/>.
    /// </summary>
    public bool TryBeginDispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return false; // a full fence: set before the barrier
        Interlocked.MemoryBarrierProcessWide();
        if (Volatile.Read(ref _calls) == 0) // after the barrier: sees every call that could miss _disposed
        {
            GiveUp(CallsShare);
        }
        else
        {
            // Other processes' sleepers on this eventcount wake too, re-check and sleep again.
            Waker.Events.WakeAll();
        }
        return true;
    }

    /// <summary>The second half of Dispose: the endpoint has finished with the segment.</summary>
    public void EndDispose(IDisposable endpoint)
    {
        _segment.Untrack(endpoint);
        GiveUp(DisposeShare);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnterCall()
    {
        _calls++;
        if (Volatile.Read(ref _disposed) != 0) EnterDisposed(); // pairs with Dispose's exchange and barrier (see above)
    }

    private AsyncWait<TCondition, TMemory> NewAsyncWait<TCondition>(IEndpoint<TMemory> endpoint)
        where TCondition : struct, IWaitCondition
    {
        AsyncWait<TCondition, TMemory> wait = new(endpoint, AsyncWaitService.Current);
        _asyncWait = wait;
        return wait;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Exit()
    {
        Volatile.Write(ref _calls, _calls - 1); // release: the call's accesses to the segment come before it
        if (Volatile.Read(ref _disposed) != 0) LeftAfterDispose(); // pairs with Dispose's exchange and barrier
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnterDisposed()
    {
        _calls--;
        LeftAfterDispose();
        RingThrow.Disposed(_endpoint);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void LeftAfterDispose()
    {
        if (_calls == 0) GiveUp(CallsShare);
    }

    private void GiveUp(int share)
    {
        if (Interlocked.And(ref _shares, ~share) != share) return;
        // The last share out: nothing of this endpoint's is inside any more. The lease goes first, it writes the segment;
        // then the peers' sleepers wake and find this endpoint's lock released.
        Lease.Dispose();
        _peers.WakeAll();
        _segment.ReleaseMappingReference();
    }

    /// <summary>A call inside the endpoint, from <see cref="Enter"/> to <see cref="Dispose"/>.</summary>
    public readonly ref struct Scope
    {
        private readonly ref EndpointCore<TMemory> _guard;

        public Scope(ref EndpointCore<TMemory> guard) => _guard = ref guard;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Dispose() => _guard.Exit();
    }
}
