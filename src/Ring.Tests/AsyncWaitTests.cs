using System.Diagnostics;

namespace Ring.Tests;

/// <summary>
/// The async calls through the async wait service, for both ring kinds and both mechanisms (futex_waitv where the
/// kernel has it, and the thread-per-word fallback), each test on a service of its own (<see cref="AsyncRig"/>). A
/// pending wait must end when its message or room arrives, its token is cancelled, its timeout passes or its
/// endpoint goes, and leave nothing registered, in the service or in the eventcount.
/// </summary>
public sealed class AsyncWaitTests : IDisposable
{
    /// <summary>Bounds every wait for something that must happen, so a hang fails the test instead of the run.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How soon a woken wait must end: well under the 1 s SPSC sleep limit, so an SPSC wait nobody woke (a lost
    /// wake-up, rescued by the limit after 0.75-1 s) fails it. Healthy waits end in microseconds to a few milliseconds.
    /// </summary>
    private static readonly TimeSpan Prompt = TimeSpan.FromMilliseconds(500);

    private const int MessageLength = 64;

    private readonly TempSegmentDirectory _segments = new();

    public enum Disposal
    {
        Endpoint,
        Segment,
    }

    /// <summary>futex_waitv only where the kernel has it; the fallback everywhere.</summary>
    public static IEnumerable<AsyncWaitMechanism> AvailableMechanisms =>
        Platform.Linux.Futex.IsWaitvAvailable ? [AsyncWaitMechanism.FutexWaitv, AsyncWaitMechanism.ThreadPerWord] : [AsyncWaitMechanism.ThreadPerWord];

    public static TheoryData<AsyncWaitMechanism> Mechanisms => [.. AvailableMechanisms];

    public static TheoryData<RingKind, AsyncWaitMechanism> Cases
    {
        get
        {
            TheoryData<RingKind, AsyncWaitMechanism> data = [];
            foreach (RingKind kind in Kinds)
            {
                foreach (AsyncWaitMechanism mechanism in AvailableMechanisms) data.Add(kind, mechanism);
            }
            return data;
        }
    }

    public static TheoryData<RingKind, AsyncWaitMechanism, Disposal> DisposalCases
    {
        get
        {
            TheoryData<RingKind, AsyncWaitMechanism, Disposal> data = [];
            foreach (RingKind kind in Kinds)
            {
                foreach (AsyncWaitMechanism mechanism in AvailableMechanisms)
                {
                    data.Add(kind, mechanism, Disposal.Endpoint);
                    data.Add(kind, mechanism, Disposal.Segment);
                }
            }
            return data;
        }
    }

    private static RingKind[] Kinds => [RingKind.Spsc, RingKind.Mpmc];

    public void Dispose() => _segments.Dispose();

    // ---- Completion by the other side ----

    [Theory, MemberData(nameof(Cases))]
    public async Task WaitToReadAsync_MessageWrittenByAnotherThread_ReturnsTrue(RingKind kind, AsyncWaitMechanism mechanism)
    {
        using AsyncRig ring = Rig(kind, mechanism);

        ValueTask<bool> wait = ring.Reader.WaitToReadAsync();
        Assert.False(wait.IsCompleted, "the ring is empty: the wait should be pending");
        Assert.Equal(1, ring.Service.Registrations);
        await OnOwnThread(() => Assert.True(ring.Writer.TryWrite(Payload.Make(1, MessageLength))));

        Assert.True(await wait.AsTask().WaitAsync(Bound));
        ring.AssertNothingRegistered();
        Assert.True(ring.Reader.TryRead(new byte[MessageLength], out int length));
        Assert.Equal(MessageLength, length);
    }

    [Theory, MemberData(nameof(Cases))]
    public async Task WaitToWriteAsync_RoomFreedByAnotherThread_ReturnsTrue(RingKind kind, AsyncWaitMechanism mechanism)
    {
        using AsyncRig ring = Rig(kind, mechanism);
        ring.Fill(MessageLength);

        ValueTask<bool> wait = ring.Writer.WaitToWriteAsync(MessageLength);
        Assert.False(wait.IsCompleted, "the ring is full: the wait should be pending");
        await OnOwnThread(() => Assert.True(ring.Reader.TryRead(new byte[MessageLength], out _)));

        Assert.True(await wait.AsTask().WaitAsync(Bound));
        ring.AssertNothingRegistered();
        Assert.True(ring.Writer.TryWrite(new byte[MessageLength]));
    }

    [Theory, MemberData(nameof(Cases))]
    public async Task ReadAsyncAndWriteAsync_PingPongBetweenTwoEndpoints_EveryMessageArrivesInOrder(RingKind kind, AsyncWaitMechanism mechanism)
    {
        const int RoundTrips = 2_000;
        using AsyncRig ping = Rig(kind, mechanism);
        using AsyncRig pong = new(_segments.NewName("pong"), Options(kind), ping.Service);
        // One budget for the whole exchange: a lost wake-up costs a sleep limit per message, far past it.
        using CancellationTokenSource budget = new(Bound);

        Task echo = Task.Run(async () =>
        {
            byte[] buffer = new byte[MessageLength];
            for (int i = 0; i < RoundTrips; i++)
            {
                int length = await ping.Reader.ReadAsync(buffer, budget.Token);
                await pong.Writer.WriteAsync(buffer.AsMemory(0, length), budget.Token);
            }
        });
        byte[] reply = new byte[MessageLength];
        for (int i = 0; i < RoundTrips; i++)
        {
            byte[] message = Payload.Make(i, 1 + i % MessageLength);
            await ping.Writer.WriteAsync(message, budget.Token);
            int length = await pong.Reader.ReadAsync(reply, budget.Token);
            Assert.Equal(message, reply[..length]);
        }
        await echo;

        ping.AssertNothingRegistered();
        pong.AssertNothingRegistered();
    }

    // ---- Cancellation ----

    [Theory, MemberData(nameof(Cases))]
    public async Task WaitToReadAsync_TokenCancelledBefore_ThrowsWithoutRegistering(RingKind kind, AsyncWaitMechanism mechanism)
    {
        using AsyncRig ring = Rig(kind, mechanism);

        ValueTask<bool> wait = ring.Reader.WaitToReadAsync(new CancellationToken(canceled: true));

        Assert.True(wait.IsCanceled);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.AsTask());
        ring.AssertNothingRegistered();
        Assert.Equal(0, ring.Service.Threads);
    }

    [Theory, MemberData(nameof(Cases))]
    public async Task WaitToReadAsync_TokenCancelledWhilePending_ThrowsAndLeavesNoRegistration(RingKind kind, AsyncWaitMechanism mechanism)
    {
        using AsyncRig ring = Rig(kind, mechanism);
        using CancellationTokenSource cancel = new();

        ValueTask<bool> wait = ring.Reader.WaitToReadAsync(cancel.Token);
        Assert.False(wait.IsCompleted);
        Assert.Equal(1, ring.Service.Registrations);
        await cancel.CancelAsync();

        OperationCanceledException error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.AsTask().WaitAsync(Bound));
        Assert.Equal(cancel.Token, error.CancellationToken);
        ring.AssertNothingRegistered();
        // The reader is free for the next wait, which sees the next message.
        Assert.True(ring.Writer.TryWrite(new byte[MessageLength]));
        Assert.True(await ring.Reader.WaitToReadAsync().AsTask().WaitAsync(Bound));
    }

    [Theory, MemberData(nameof(Cases))]
    public async Task WriteAsync_TokenCancelledWhilePending_ThrowsAndLeavesNoRegistration(RingKind kind, AsyncWaitMechanism mechanism)
    {
        using AsyncRig ring = Rig(kind, mechanism);
        using CancellationTokenSource cancel = new();
        ring.Fill(MessageLength);

        ValueTask write = ring.Writer.WriteAsync(new byte[MessageLength], cancel.Token);
        Assert.False(write.IsCompleted);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => write.AsTask().WaitAsync(Bound));
        ring.AssertNothingRegistered();
    }

    // ---- Timeouts ----

    [Theory, MemberData(nameof(Cases))]
    public async Task WaitToReadAsync_TimeoutPasses_ReturnsFalseOnTime(RingKind kind, AsyncWaitMechanism mechanism)
    {
        using AsyncRig ring = Rig(kind, mechanism);

        await AssertTimesOutOnTimeAsync(ring, timeout => ring.Reader.WaitToReadAsync(timeout));
    }

    [Theory, MemberData(nameof(Cases))]
    public async Task WaitToWriteAsync_TimeoutPasses_ReturnsFalseOnTime(RingKind kind, AsyncWaitMechanism mechanism)
    {
        using AsyncRig ring = Rig(kind, mechanism);
        ring.Fill(MessageLength);

        await AssertTimesOutOnTimeAsync(ring, timeout => ring.Writer.WaitToWriteAsync(MessageLength, timeout));
    }

    [Theory, MemberData(nameof(Cases))]
    public async Task WaitToReadAsync_ZeroTimeoutOnEmptyRing_ReturnsFalseSynchronously(RingKind kind, AsyncWaitMechanism mechanism)
    {
        using AsyncRig ring = Rig(kind, mechanism);

        ValueTask<bool> wait = ring.Reader.WaitToReadAsync(TimeSpan.Zero);

        Assert.True(wait.IsCompletedSuccessfully);
        Assert.False(await wait);
        Assert.Equal(0, ring.Service.Threads);
    }

    // ---- Dispose while pending ----

    [Theory, MemberData(nameof(DisposalCases))]
    public async Task WaitToReadAsync_DisposedWhilePending_FaultsWithObjectDisposedAndLeavesNoRegistration(RingKind kind, AsyncWaitMechanism mechanism, Disposal disposal)
    {
        using AsyncRig ring = Rig(kind, mechanism);

        await AssertDisposalEndsPendingWaitAsync(ring, disposal, ring.Reader, () => ring.Reader.WaitToReadAsync().AsTask());
        Assert.Throws<ObjectDisposedException>(() => ring.Reader.WaitToReadAsync());
    }

    [Theory, MemberData(nameof(DisposalCases))]
    public async Task WriteAsync_DisposedWhilePending_FaultsWithObjectDisposedAndLeavesNoRegistration(RingKind kind, AsyncWaitMechanism mechanism, Disposal disposal)
    {
        using AsyncRig ring = Rig(kind, mechanism);
        ring.Fill(MessageLength);

        await AssertDisposalEndsPendingWaitAsync(ring, disposal, ring.Writer, () => ring.Writer.WriteAsync(new byte[MessageLength]).AsTask());
    }

    // ---- One wait at a time, and the ready case ----

    [Theory, MemberData(nameof(Cases))]
    public async Task WaitToReadAsync_SecondWhileOnePending_ThrowsInvalidOperation(RingKind kind, AsyncWaitMechanism mechanism)
    {
        using AsyncRig ring = Rig(kind, mechanism);
        ValueTask<bool> first = ring.Reader.WaitToReadAsync();

        Assert.Throws<InvalidOperationException>(() => ring.Reader.WaitToReadAsync());

        Assert.True(ring.Writer.TryWrite(new byte[MessageLength]));
        Assert.True(await first.AsTask().WaitAsync(Bound));
        ring.AssertNothingRegistered();
    }

    [Theory, MemberData(nameof(Cases))]
    public void AsyncCalls_RingReady_CompleteSynchronouslyWithoutAllocatingOrSleeping(RingKind kind, AsyncWaitMechanism mechanism)
    {
        const int Iterations = 10_000;
        using AsyncRig ring = Rig(kind, mechanism);
        ReadOnlyMemory<byte> message = new byte[MessageLength];
        Memory<byte> buffer = new byte[MessageLength];
        int notSynchronous = RoundTripsWithReadyRing(ring, message, buffer, Iterations); // warm-up: the JIT, the tiers
        long sleepsBefore = ring.Segment.GetStatus().Sleeps;

        long before = GC.GetAllocatedBytesForCurrentThread();
        notSynchronous += RoundTripsWithReadyRing(ring, message, buffer, Iterations);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, notSynchronous);
        Assert.Equal(0, allocated);
        Assert.Equal(sleepsBefore, ring.Segment.GetStatus().Sleeps);
        Assert.Equal(0, ring.Service.Threads); // no wait was ever handed to the service, so it never started a thread
    }

    // ---- Many waits at once ----

    /// <summary>
    /// Rounds of one pending wait per reader across SPSC and MPMC segments (several readers on one MPMC segment
    /// share its word), with the round's messages published in random order from another thread while the waits are
    /// still being started: every wait must complete exactly once, with true, and promptly after its segment's first
    /// message (an SPSC wait that missed its wake-up would be rescued only by the 1 s sleep limit).
    /// </summary>
    [Theory, MemberData(nameof(Mechanisms))]
    public async Task ManyWaits_MessagesInRandomOrderAcrossSegments_EachCompletesOncePromptly(AsyncWaitMechanism mechanism)
    {
        const int SpscSegments = 8;
        const int MpmcSegments = 6;
        const int ReadersPerMpmc = 4;
        const int Rounds = 60;
        using AsyncRig first = Rig(RingKind.Spsc, mechanism);
        List<AsyncRig> rigs = [first];
        List<(RingReader Reader, int Segment)> readers = [];
        try
        {
            for (int s = 1; s < SpscSegments + MpmcSegments; s++)
            {
                RingKind kind = s < SpscSegments ? RingKind.Spsc : RingKind.Mpmc;
                rigs.Add(new AsyncRig(_segments.NewName("many"), Options(kind, slots: ReadersPerMpmc * 2), first.Service));
            }
            for (int s = 0; s < rigs.Count; s++)
            {
                readers.Add((rigs[s].Reader, s));
                for (int r = 1; r < (s < SpscSegments ? 1 : ReadersPerMpmc); r++) readers.Add((rigs[s].Segment.CreateReader(), s));
            }
            int[] completions = new int[readers.Count];
            long[] publishedAt = new long[rigs.Count];
            long[] completedAt = new long[readers.Count];
            Random random = new(1234);
            byte[] buffer = new byte[MessageLength];
            for (int round = 0; round < Rounds; round++)
            {
                // One message per reader, in random order; the writer starts while the waits are being started.
                int[] order = [.. readers.Select(r => r.Segment)];
                random.Shuffle(order);
                Array.Fill(publishedAt, 0);
                using ManualResetEventSlim go = new();
                Task publisher = Task.Factory.StartNew(() =>
                {
                    go.Wait(Bound);
                    foreach (int s in order)
                    {
                        if (publishedAt[s] == 0) publishedAt[s] = Stopwatch.GetTimestamp();
                        if (!rigs[s].Writer.TryWrite(new byte[MessageLength])) throw new InvalidOperationException("a ring with room for the round was full");
                        Thread.SpinWait(random.Next(50));
                    }
                }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                Task[] waits = new Task[readers.Count];
                for (int i = 0; i < readers.Count; i++)
                {
                    if (i == readers.Count / 2) go.Set();
                    int index = i;
                    waits[i] = readers[i].Reader.WaitToReadAsync().AsTask().ContinueWith(wait =>
                    {
                        completedAt[index] = Stopwatch.GetTimestamp();
                        Interlocked.Increment(ref completions[index]);
                        Assert.True(wait.Result, $"wait {index} completed without a message");
                    }, TaskScheduler.Default);
                }
                await publisher.WaitAsync(Bound);
                await Task.WhenAll(waits).WaitAsync(Bound);
                for (int i = 0; i < readers.Count; i++)
                {
                    TimeSpan latency = Stopwatch.GetElapsedTime(publishedAt[readers[i].Segment], completedAt[i]);
                    Assert.True(latency < Prompt, $"round {round}: wait {i} on segment {readers[i].Segment} completed {latency.TotalMilliseconds:F0} ms after its segment's first message");
                    Assert.True(readers[i].Reader.TryRead(buffer, out _), $"round {round}: reader {i} found no message after its wait");
                }
            }
            Assert.All(completions, count => Assert.Equal(Rounds, count));
            Assert.Equal(0, first.Service.Registrations);
            int allowed = mechanism == AsyncWaitMechanism.FutexWaitv ? 1 : rigs.Count;
            Assert.True(first.Service.Threads <= allowed, $"{first.Service.Threads} service threads for {rigs.Count} words");
        }
        finally
        {
            foreach (AsyncRig rig in rigs.Skip(1)) rig.Dispose();
        }
    }

    /// <summary>The message and room an <see cref="AsyncRig"/> over these test's rings carries.</summary>
    private static RingOptions Options(RingKind kind, int slots = 4) => kind == RingKind.Spsc
        ? new RingOptions { Kind = RingKind.Spsc, Capacity = 1024 }
        : new RingOptions { Kind = RingKind.Mpmc, SlotCount = slots, MaxMessageLength = MessageLength };

    /// <summary>Writes, then waits, reads and waits again on a ring that is always ready; returns how many calls did not complete synchronously.</summary>
    private static int RoundTripsWithReadyRing(AsyncRig ring, ReadOnlyMemory<byte> message, Memory<byte> buffer, int iterations)
    {
        int notSynchronous = 0;
        for (int i = 0; i < iterations; i++)
        {
            ValueTask<bool> room = ring.Writer.WaitToWriteAsync(MessageLength);
            if (!room.IsCompletedSuccessfully || !room.Result) notSynchronous++;
            ValueTask write = ring.Writer.WriteAsync(message);
            if (!write.IsCompletedSuccessfully) notSynchronous++;
            ValueTask<bool> data = ring.Reader.WaitToReadAsync();
            if (!data.IsCompletedSuccessfully || !data.Result) notSynchronous++;
            ValueTask<int> read = ring.Reader.ReadAsync(buffer);
            if (!read.IsCompletedSuccessfully || read.Result != MessageLength) notSynchronous++;
        }
        return notSynchronous;
    }

    /// <summary>A timed wait on a ring that stays empty (or full) returns false, not before the timeout and not much after it.</summary>
    private static async Task AssertTimesOutOnTimeAsync(AsyncRig ring, Func<TimeSpan, ValueTask<bool>> wait)
    {
        TimeSpan timeout = TimeSpan.FromMilliseconds(150);
        Stopwatch clock = Stopwatch.StartNew();
        bool ready = await wait(timeout).AsTask().WaitAsync(Bound);
        clock.Stop();

        Assert.False(ready);
        Assert.True(clock.Elapsed >= timeout && clock.Elapsed < timeout + Prompt, $"a {timeout.TotalMilliseconds:F0} ms timeout ended after {clock.Elapsed.TotalMilliseconds:F0} ms");
        ring.AssertNothingRegistered();
    }

    /// <summary>Disposing the endpoint or its segment ends the pending call promptly with ObjectDisposedException, and unregisters it.</summary>
    private async Task AssertDisposalEndsPendingWaitAsync(AsyncRig ring, Disposal disposal, IDisposable endpoint, Func<Task> pending)
    {
        using RingSegment observer = RingSegment.OpenReadOnly(ring.Segment.Path); // still attached once the segment is disposed
        Task call = pending();
        Assert.False(call.IsCompleted, "the call should be pending");

        Stopwatch clock = Stopwatch.StartNew();
        if (disposal == Disposal.Endpoint) endpoint.Dispose();
        else ring.Segment.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => call.WaitAsync(Bound));
        Assert.True(clock.Elapsed < Prompt, $"the pending call took {clock.Elapsed.TotalMilliseconds:F0} ms to end");
        Assert.Equal(0, ring.Service.Registrations);
        SegmentStatus status = observer.GetStatus();
        Assert.Equal((0, 0), (status.ReadersWaiting, status.WritersWaiting));
    }

    private AsyncRig Rig(RingKind kind, AsyncWaitMechanism mechanism) =>
        new(_segments.NewName(kind.ToString().ToLowerInvariant()), Options(kind), mechanism);

    private static Task OnOwnThread(Action call) =>
        Task.Factory.StartNew(call, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
