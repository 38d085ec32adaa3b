using System.Diagnostics;

namespace Ring.Tests;

/// <summary>
/// Disposing an endpoint, or the segment it came from, while another thread is blocked in it: the blocked call
/// is woken and ends with <see cref="ObjectDisposedException"/> (an async call's task faults with it), and the
/// mapping stays until that call has left. Without this the sleeper woke up to an unmapped eventcount and
/// the process died of an AccessViolationException.
/// </summary>
public sealed class DisposeWhileBlockedTests : IDisposable
{
    /// <summary>Bounds every wait for something that must happen, so a hang fails the test instead of the run.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    /// <summary>How soon a woken call must end: under the 1 s SPSC sleep slice, so a sleeper nobody woke fails it.</summary>
    private static readonly TimeSpan Prompt = TimeSpan.FromMilliseconds(500);

    private const int MessageLength = 64;

    private readonly TempSegmentDirectory _segments = new();

    /// <summary>What the disposing thread disposes while the other one is blocked.</summary>
    public enum Disposal
    {
        /// <summary>Only the endpoint; the segment stays attached.</summary>
        Endpoint,

        /// <summary>The endpoint, then the segment: the order of nested <c>using</c>s.</summary>
        EndpointThenSegment,

        /// <summary>Only the segment, which disposes the endpoints created from it.</summary>
        Segment,
    }

    public static TheoryData<RingKind, Disposal> Cases { get; } = new()
    {
        { RingKind.Spsc, Disposal.Endpoint },
        { RingKind.Spsc, Disposal.EndpointThenSegment },
        { RingKind.Spsc, Disposal.Segment },
        { RingKind.Mpmc, Disposal.Endpoint },
        { RingKind.Mpmc, Disposal.EndpointThenSegment },
        { RingKind.Mpmc, Disposal.Segment },
    };

    public static TheoryData<RingKind, WaitStrategy> SpinningCases { get; } = new()
    {
        { RingKind.Spsc, WaitStrategy.BusySpin },
        { RingKind.Spsc, WaitStrategy.SpinThenYield },
        { RingKind.Mpmc, WaitStrategy.BusySpin },
        { RingKind.Mpmc, WaitStrategy.SpinThenYield },
    };

    public static TheoryData<RingKind> Kinds { get; } = new() { RingKind.Spsc, RingKind.Mpmc };

    public void Dispose() => _segments.Dispose();

    // ---- Readers blocked on an empty ring ----

    [Theory, MemberData(nameof(Cases))]
    public Task Read_DisposedWhileBlocked_ThrowsObjectDisposedException(RingKind kind, Disposal disposal) =>
        ReaderBlockedAsync(kind, disposal, reader => OnOwnThread(() => reader.Read(new byte[MessageLength])));

    [Theory, MemberData(nameof(Cases))]
    public Task TryReadWithTimeout_DisposedWhileBlocked_ThrowsObjectDisposedException(RingKind kind, Disposal disposal) =>
        ReaderBlockedAsync(kind, disposal, reader => OnOwnThread(() => reader.TryRead(new byte[MessageLength], out _, TimeSpan.FromMinutes(1))));

    [Theory, MemberData(nameof(Cases))]
    public Task WaitToRead_DisposedWhileBlocked_ThrowsObjectDisposedException(RingKind kind, Disposal disposal) =>
        ReaderBlockedAsync(kind, disposal, reader => OnOwnThread(() => reader.WaitToRead(Timeout.InfiniteTimeSpan)));

    [Theory, MemberData(nameof(Cases))]
    public Task ReadAsync_DisposedWhileBlocked_FaultsWithObjectDisposedException(RingKind kind, Disposal disposal) =>
        ReaderBlockedAsync(kind, disposal, reader => reader.ReadAsync(new byte[MessageLength]).AsTask());

    [Theory, MemberData(nameof(Cases))]
    public Task WaitToReadAsync_DisposedWhileBlocked_FaultsWithObjectDisposedException(RingKind kind, Disposal disposal) =>
        ReaderBlockedAsync(kind, disposal, reader => reader.WaitToReadAsync(Timeout.InfiniteTimeSpan).AsTask());

    // ---- Writers blocked on a full ring ----

    [Theory, MemberData(nameof(Cases))]
    public Task Write_DisposedWhileBlocked_ThrowsObjectDisposedException(RingKind kind, Disposal disposal) =>
        WriterBlockedAsync(kind, disposal, writer => OnOwnThread(() => writer.Write(new byte[MessageLength])));

    [Theory, MemberData(nameof(Cases))]
    public Task TryWriteWithTimeout_DisposedWhileBlocked_ThrowsObjectDisposedException(RingKind kind, Disposal disposal) =>
        WriterBlockedAsync(kind, disposal, writer => OnOwnThread(() => writer.TryWrite(new byte[MessageLength], TimeSpan.FromMinutes(1))));

    [Theory, MemberData(nameof(Cases))]
    public Task WaitToWrite_DisposedWhileBlocked_ThrowsObjectDisposedException(RingKind kind, Disposal disposal) =>
        WriterBlockedAsync(kind, disposal, writer => OnOwnThread(() => writer.WaitToWrite(MessageLength, Timeout.InfiniteTimeSpan)));

    [Theory, MemberData(nameof(Cases))]
    public Task WriteAsync_DisposedWhileBlocked_FaultsWithObjectDisposedException(RingKind kind, Disposal disposal) =>
        WriterBlockedAsync(kind, disposal, writer => writer.WriteAsync(new byte[MessageLength]).AsTask());

    [Theory, MemberData(nameof(Cases))]
    public Task WaitToWriteAsync_DisposedWhileBlocked_FaultsWithObjectDisposedException(RingKind kind, Disposal disposal) =>
        WriterBlockedAsync(kind, disposal, writer => writer.WaitToWriteAsync(MessageLength, Timeout.InfiniteTimeSpan).AsTask());

    // ---- Other ways in ----

    [Theory, MemberData(nameof(SpinningCases))]
    public async Task Read_DisposedWhileSpinning_ThrowsObjectDisposedException(RingKind kind, WaitStrategy wait)
    {
        using RingSegment segment = CreateSegment(kind);
        using RingReader reader = segment.CreateReader(wait);
        long emptyBefore = segment.GetStatus().EmptyEvents;
        Task blocked = OnOwnThread(() => reader.Read(new byte[MessageLength]));
        // A spinner never registers as a sleeper: its first empty read says it is on its way into the wait.
        WaitFor(() => segment.GetStatus().EmptyEvents > emptyBefore || blocked.IsCompleted, "the reader to find the ring empty");
        Assert.False(blocked.IsCompleted, $"the read ended before anything was disposed: {blocked.Exception}");

        segment.Dispose();

        // Nothing to wake: how soon it notices is up to the scheduler, so only the bound applies.
        await Assert.ThrowsAsync<ObjectDisposedException>(() => blocked.WaitAsync(Bound));
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task ReadBatch_HandlerDisposesReaderAndSegment_ReturnsAfterThatMessage(RingKind kind)
    {
        using RingSegment segment = CreateSegment(kind);
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        for (int i = 0; i < 3; i++) Assert.True(writer.TryWrite(Payload.Make(i, MessageLength)));
        writer.Dispose();
        byte[]? seen = null;

        int handled = await OnOwnThread(() => reader.ReadBatch(message =>
        {
            reader.Dispose();
            segment.Dispose();
            seen = message.ToArray(); // still mapped: the batch is still inside the reader
        }, maxMessages: 10)).WaitAsync(Bound);

        Assert.Equal(1, handled);
        Assert.Equal(Payload.Make(0, MessageLength), seen);
        Assert.Throws<ObjectDisposedException>(() => reader.TryRead(new byte[MessageLength], out _));
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task ReadBatch_ReaderAndSegmentDisposedByAnotherThreadDuringHandler_MessageStaysReadable(RingKind kind)
    {
        using RingSegment segment = CreateSegment(kind);
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        Assert.True(writer.TryWrite(Payload.Make(7, MessageLength)));
        using ManualResetEventSlim inHandler = new();
        using ManualResetEventSlim disposed = new();
        byte[]? seen = null;

        Task<int> reading = OnOwnThread(() => reader.ReadBatch(message =>
        {
            inHandler.Set();
            Assert.True(disposed.Wait(Bound), "the other thread never disposed");
            seen = message.ToArray(); // the reader and the segment are disposed, but this call is still inside
        }, maxMessages: 10));
        Assert.True(inHandler.Wait(Bound), "the handler never ran");
        writer.Dispose();
        reader.Dispose();
        segment.Dispose();
        disposed.Set();

        Assert.Equal(1, await reading.WaitAsync(Bound));
        Assert.Equal(Payload.Make(7, MessageLength), seen);
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Read_EndpointAndSegmentDisposedOnTwoThreadsAtOnce_ThrowsObjectDisposedException(RingKind kind)
    {
        using RingSegment segment = CreateSegment(kind);
        using RingReader reader = segment.CreateReader();
        Task blocked = OnOwnThread(() => reader.Read(new byte[MessageLength]));
        WaitFor(() => segment.GetStatus().ReadersWaiting > 0 || blocked.IsCompleted, "the reader to sleep");
        Assert.False(blocked.IsCompleted, $"the read ended before anything was disposed: {blocked.Exception}");

        using Barrier start = new(2);
        Task[] disposers =
        [
            OnOwnThread(() =>
            {
                start.SignalAndWait(Bound);
                reader.Dispose();
            }),
            OnOwnThread(() =>
            {
                start.SignalAndWait(Bound);
                segment.Dispose();
            }),
        ];

        await Task.WhenAll(disposers).WaitAsync(Bound);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => blocked.WaitAsync(Bound));
    }

    private async Task ReaderBlockedAsync(RingKind kind, Disposal disposal, Func<RingReader, Task> block)
    {
        using RingSegment segment = CreateSegment(kind);
        using RingReader reader = segment.CreateReader();
        await DisposeWhileBlockedAsync(segment, reader, disposal, () => block(reader), status => status.ReadersWaiting);
        Assert.Throws<ObjectDisposedException>(() => reader.TryRead(new byte[MessageLength], out _));
    }

    private async Task WriterBlockedAsync(RingKind kind, Disposal disposal, Func<RingWriter, Task> block)
    {
        using RingSegment segment = CreateSegment(kind);
        using RingWriter writer = segment.CreateWriter();
        for (int written = 0; writer.TryWrite(new byte[MessageLength]); written++)
        {
            Assert.True(written < 1_000_000, "the ring never reports full");
        }
        await DisposeWhileBlockedAsync(segment, writer, disposal, () => block(writer), status => status.WritersWaiting);
        Assert.Throws<ObjectDisposedException>(() => writer.TryWrite(new byte[MessageLength]));
    }

    /// <summary>
    /// Starts the blocking call, waits until it sleeps in the kernel, disposes as asked and checks that the
    /// call ends with <see cref="ObjectDisposedException"/> promptly.
    /// </summary>
    private static async Task DisposeWhileBlockedAsync(RingSegment segment, IDisposable endpoint, Disposal disposal,
        Func<Task> block, Func<SegmentStatus, int> sleepers)
    {
        Task blocked = block();
        WaitFor(() => sleepers(segment.GetStatus()) > 0 || blocked.IsCompleted, "the call to sleep on the eventcount");
        Assert.False(blocked.IsCompleted, $"the call ended before anything was disposed: {blocked.Exception}");

        Stopwatch clock = Stopwatch.StartNew();
        if (disposal != Disposal.Segment) endpoint.Dispose();
        if (disposal != Disposal.Endpoint) segment.Dispose();
        Exception? error = await Record.ExceptionAsync(() => blocked.WaitAsync(Bound));
        clock.Stop();

        Assert.IsType<ObjectDisposedException>(error);
        Assert.True(clock.Elapsed < Prompt, $"the blocked call took {clock.Elapsed.TotalMilliseconds:F0} ms to end");
        if (disposal == Disposal.Endpoint) Assert.Equal(0, sleepers(segment.GetStatus())); // it left the eventcount on its way out
    }

    private RingSegment CreateSegment(RingKind kind) => RingSegment.Create(_segments.NewName(kind.ToString().ToLowerInvariant()),
        kind == RingKind.Spsc
            ? new RingOptions { Kind = RingKind.Spsc, Capacity = 1024 }
            : new RingOptions { Kind = RingKind.Mpmc, SlotCount = 4, MaxMessageLength = MessageLength });

    /// <summary>Runs a blocking call on a thread of its own, so it never holds up the thread pool.</summary>
    private static Task OnOwnThread(Action call) =>
        Task.Factory.StartNew(call, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static Task<T> OnOwnThread<T>(Func<T> call) =>
        Task.Factory.StartNew(call, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static void WaitFor(Func<bool> condition, string what) =>
        Assert.True(SpinWait.SpinUntil(condition, Bound), $"timed out waiting for {what}");
}
