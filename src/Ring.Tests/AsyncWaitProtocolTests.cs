using System.Diagnostics;
using Ring.Integrity;
using Ring.Platform.Linux;

namespace Ring.Tests;

/// <summary>
/// The eventcount protocol of a pending async wait, driven into its one race on purpose: a message published after
/// the wait found the ring empty and before its registration shows in the waiter count. The publisher sees no
/// waiter and wakes nobody; only the re-check after registering (step 3) catches the message. A hook in the reader's
/// memory publishes at exactly that moment, on the endpoint's thread (the first round) or on the service thread (a
/// later round, after a move of the word that brought nothing). The ring as built completes at once; the variant that
/// skips the re-check sleeps through the message until the 1 s sleep limit rescues it, and the bounded wait that
/// passes for the real ring fails for it.
/// </summary>
public sealed class AsyncWaitProtocolTests : IDisposable
{
    /// <summary>Well under the SPSC sleep limit (1 s; a round is re-checked from 0.75 s when the service is awake).</summary>
    private static readonly TimeSpan Prompt = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private const int MessageLength = 16;

    private readonly TempSegmentDirectory _segments = new();

    public static TheoryData<AsyncWaitMechanism> Mechanisms => AsyncWaitTests.Mechanisms;

    public void Dispose() => _segments.Dispose();

    [Theory, MemberData(nameof(Mechanisms))]
    public async Task WaitToReadAsync_MessagePublishedJustBeforeFirstRegistration_CompletesAtOnce(AsyncWaitMechanism mechanism)
    {
        using HookedRing ring = new(_segments.NewName("spsc"), mechanism, hookedRegistration: 1, broken: false);

        ValueTask<bool> wait = ring.Reader.WaitToReadAsync();

        Assert.True(wait.IsCompletedSuccessfully, "the re-check after registering should have found the message");
        Assert.True(await wait);
    }

    [Theory, MemberData(nameof(Mechanisms))]
    public async Task WaitToReadAsync_MessagePublishedJustBeforeServiceReregistration_CompletesPromptly(AsyncWaitMechanism mechanism)
    {
        using HookedRing ring = new(_segments.NewName("spsc"), mechanism, hookedRegistration: 2, broken: false);

        (bool ready, TimeSpan sincePublish) = await PendThenMoveWordAsync(ring);

        Assert.True(ready);
        Assert.True(sincePublish < Prompt, $"the wait ended {sincePublish.TotalMilliseconds:F0} ms after the message: its re-check missed it");
    }

    [Theory, MemberData(nameof(Mechanisms))]
    public async Task WaitToReadAsync_SkipRecheckVariantFirstRound_SleepsThroughTheMessageUntilTheLimit(AsyncWaitMechanism mechanism)
    {
        using HookedRing ring = new(_segments.NewName("spsc"), mechanism, hookedRegistration: 1, broken: true);

        Stopwatch clock = Stopwatch.StartNew();
        ValueTask<bool> wait = ring.Reader.WaitToReadAsync();

        Assert.False(wait.IsCompleted, "without the re-check the wait should have gone to sleep on a ring that holds a message");
        Assert.True(await wait.AsTask().WaitAsync(Bound));
        Assert.True(clock.Elapsed >= Prompt, $"the broken variant's wait ended after {clock.Elapsed.TotalMilliseconds:F0} ms: the bound cannot tell it from the real ring");
    }

    [Theory, MemberData(nameof(Mechanisms))]
    public async Task WaitToReadAsync_SkipRecheckVariantServiceRound_SleepsThroughTheMessageUntilTheLimit(AsyncWaitMechanism mechanism)
    {
        using HookedRing ring = new(_segments.NewName("spsc"), mechanism, hookedRegistration: 2, broken: true);

        (bool ready, TimeSpan sincePublish) = await PendThenMoveWordAsync(ring);

        Assert.True(ready);
        Assert.True(sincePublish >= Prompt, $"the broken variant's wait ended {sincePublish.TotalMilliseconds:F0} ms after the message: the bound cannot tell it from the real ring");
    }

    /// <summary>
    /// Starts an async read that goes pending, then moves its word without a message (a bump and a wake, as a
    /// cancelled blocking wait does): the service thread re-checks, finds nothing and registers again, and the hook
    /// publishes just before that registration. Returns the wait's result and how long after the publish it ended.
    /// </summary>
    private static async Task<(bool Ready, TimeSpan SincePublish)> PendThenMoveWordAsync(HookedRing ring)
    {
        Task<bool> wait = ring.Reader.WaitToReadAsync().AsTask();
        Assert.False(wait.IsCompleted, "the ring is empty: the wait should be pending");
        new EventCount<SharedBuffer>(ring.Segment.Buffer, SegmentLayout.ReadersEventOffset).WakeAll();
        Assert.True(await ring.Hook.Fired.WaitAsync(Bound), "the service thread never registered the wait again");
        bool ready = await wait.WaitAsync(Bound);
        return (ready, Stopwatch.GetElapsedTime(ring.Hook.FiredAt));
    }

    /// <summary>
    /// An SPSC segment with a plain writer and a reader on <see cref="HookedMemory{TVariant}"/> (the ring as built, or
    /// the variant without the re-check) whose n-th registration on the readers' eventcount is preceded by a write.
    /// </summary>
    private sealed class HookedRing : IDisposable
    {
        private readonly AsyncWaitService.Scope _scope;

        public HookedRing(string name, AsyncWaitMechanism mechanism, int hookedRegistration, bool broken)
        {
            _scope = AsyncWaitService.Use(new AsyncWaitService(mechanism));
            Segment = RingSegment.Create(name, new RingOptions { Kind = RingKind.Spsc, Capacity = 1024 });
            RingWriter writer = Segment.CreateWriter();
            Hook = new RegistrationHook(SegmentLayout.ReadersEventOffset + SegmentLayout.EventWaitersOffset, hookedRegistration,
                () => Assert.True(writer.TryWrite(new byte[MessageLength])));
            Reader = broken
                ? Segment.CreateReader<BlockPolicy, HookedMemory<SkipRecheckRing>>(new HookedMemory<SkipRecheckRing>(Segment.Buffer, Hook))
                : Segment.CreateReader<BlockPolicy, HookedMemory<CorrectRing>>(new HookedMemory<CorrectRing>(Segment.Buffer, Hook));
        }

        public RingSegment Segment { get; }

        public RegistrationHook Hook { get; }

        public RingReader Reader { get; }

        public void Dispose()
        {
            Segment.Dispose();
            _scope.Dispose();
        }
    }
}

/// <summary>Runs an action just before the n-th fetch-add on one offset (an eventcount's waiter count: a registration).</summary>
internal sealed class RegistrationHook(long offset, int occurrence, Action action)
{
    private readonly TaskCompletionSource<bool> _fired = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _seen;

    public Task<bool> Fired => _fired.Task;

    /// <summary>When the action ran (a Stopwatch timestamp).</summary>
    public long FiredAt { get; private set; }

    public void BeforeFetchAdd(long at, int delta)
    {
        if (at != offset || delta <= 0 || Interlocked.Increment(ref _seen) != occurrence) return;
        action();
        FiredAt = Stopwatch.GetTimestamp();
        _fired.TrySetResult(true);
    }
}

/// <summary>
/// The segment's memory as <see cref="SharedBuffer"/> gives it, with <typeparamref name="TVariant"/>'s protocol
/// mutation and a <see cref="RegistrationHook"/> before each 32-bit fetch-add.
/// </summary>
internal readonly struct HookedMemory<TVariant> : ISharedMemory
    where TVariant : struct, IRingVariant
{
    private readonly SharedBuffer _buffer;
    private readonly RegistrationHook _hook;

    public HookedMemory(SharedBuffer buffer, RegistrationHook hook)
    {
        _buffer = buffer;
        _hook = hook;
    }

    public static ProtocolMutation Mutation => RingVariants.MutationOf(TVariant.Variant);

    public int ReadInt32(long offset) => _buffer.ReadInt32(offset);

    public long ReadInt64(long offset) => _buffer.ReadInt64(offset);

    public int ReadInt32Acquire(long offset) => _buffer.ReadInt32Acquire(offset);

    public long ReadInt64Acquire(long offset) => _buffer.ReadInt64Acquire(offset);

    public void WriteInt32(long offset, int value) => _buffer.WriteInt32(offset, value);

    public void WriteInt64(long offset, long value) => _buffer.WriteInt64(offset, value);

    public void WriteInt32Release(long offset, int value) => _buffer.WriteInt32Release(offset, value);

    public void WriteInt64Release(long offset, long value) => _buffer.WriteInt64Release(offset, value);

    public void WriteInt64Fenced(long offset, long value) => _buffer.WriteInt64Fenced(offset, value);

    public void WriteInt64Publish(long offset, long value) => _buffer.WriteInt64Publish(offset, value);

    public void ProcessWideBarrier() => _buffer.ProcessWideBarrier();

    public int CompareExchangeInt32(long offset, int value, int comparand) => _buffer.CompareExchangeInt32(offset, value, comparand);

    public long CompareExchangeInt64(long offset, long value, long comparand) => _buffer.CompareExchangeInt64(offset, value, comparand);

    public int FetchAddInt32(long offset, int delta)
    {
        _hook.BeforeFetchAdd(offset, delta);
        return _buffer.FetchAddInt32(offset, delta);
    }

    public long FetchAddInt64(long offset, long delta) => _buffer.FetchAddInt64(offset, delta);

    public void LoadFence() => _buffer.LoadFence();

    public void CopyIn(long offset, ReadOnlySpan<byte> source) => _buffer.CopyIn(offset, source);

    public void CopyOut(long offset, Span<byte> destination) => _buffer.CopyOut(offset, destination);

    public Span<byte> Span(long offset, int length) => _buffer.Span(offset, length);

    public Futex.WaitResult FutexWait(long offset, int expected, TimeSpan timeout) => _buffer.FutexWait(offset, expected, timeout);

    public int FutexWake(long offset, int count) => _buffer.FutexWake(offset, count);

    public nint AddressOf(long offset) => _buffer.AddressOf(offset);

    public long GetTimestamp() => _buffer.GetTimestamp();
}
