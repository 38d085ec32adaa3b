using System.Buffers.Binary;
using System.Threading.Channels;

namespace Ring.Tests;

/// <summary>
/// How a contract suite makes and recognises its items: item <c>i</c> carries <c>i</c>, so order and loss show.
/// </summary>
public sealed record ChannelItems<T>(Func<int, T> Make, Func<T, int> Id);

/// <summary>The item kinds the suite runs with.</summary>
public static class ChannelItems
{
    public static ChannelItems<long> Longs { get; } = new(i => i, item => checked((int)item));

    /// <summary>Eight bytes, the id in the first four.</summary>
    public static ChannelItems<ReadOnlyMemory<byte>> Bytes { get; } = new(
        i =>
        {
            byte[] item = new byte[8];
            BinaryPrimitives.WriteInt32LittleEndian(item, i);
            BinaryPrimitives.WriteInt32LittleEndian(item.AsSpan(4), ~i);
            return item;
        },
        item =>
        {
            int id = BinaryPrimitives.ReadInt32LittleEndian(item.Span);
            Assert.Equal(~id, BinaryPrimitives.ReadInt32LittleEndian(item.Span[4..]));
            return id;
        });
}

/// <summary>
/// The <c>System.Threading.Channels</c> semantics a bounded channel with one reader and one writer has, run against
/// <see cref="Channel.CreateBounded{T}(BoundedChannelOptions)"/> itself and against the Ring adapters
/// (<see cref="RingReader.AsChannelReader{T}"/>, <see cref="RingWriter.AsChannelWriter{T}"/> and their byte forms), so
/// code written for a channel can take a ring. Where a ring cannot behave as a channel, a virtual expectation says
/// what each does and the ring's subclass overrides it with the reason.
/// </summary>
public abstract class ChannelContractTests<T>(ChannelItems<T> items) : IDisposable
{
    /// <summary>Bounds every wait that should end much sooner, so a bug fails the test instead of hanging it.</summary>
    protected static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    /// <summary>More items than any channel under test holds: a fill loop that reaches it never found the channel full.</summary>
    private const int MoreThanAnyCapacity = 10_000;

    /// <summary>A new, empty, bounded channel holding a few items at least, with its one reader and one writer.</summary>
    protected abstract (ChannelReader<T> Reader, ChannelWriter<T> Writer) Create();

    /// <summary>
    /// Whether <c>TryComplete(error)</c> hands the error to the reader: a channel faults <c>Completion</c> with it,
    /// throws it from <c>WaitToReadAsync</c> and puts it inside the <see cref="ChannelClosedException"/> of
    /// <c>ReadAsync</c>.
    /// </summary>
    protected virtual bool CompletionCarriesTheError => true;

    /// <summary>
    /// Whether <c>Completion</c> completes as soon as the channel is completed and holds nothing, before any read has
    /// failed: a channel does, in the call that completes it or reads its last item.
    /// </summary>
    protected virtual bool CompletionObservedWithoutAFailedRead => true;

    /// <summary>Whether <c>ReadAsync</c>'s <see cref="ChannelClosedException"/> after a normal completion carries an inner exception: a channel's has none.</summary>
    protected virtual bool ClosedExceptionCarriesTheEnd => false;

    /// <summary>A bounded channel can peek and count.</summary>
    protected virtual bool CanPeekAndCount => true;

    protected T Item(int id) => items.Make(id);

    protected int Id(T item) => items.Id(item);

    public virtual void Dispose() => GC.SuppressFinalize(this);

    [Fact]
    public void TryWriteTryRead_SeveralItems_ComeOutInOrder()
    {
        (ChannelReader<T> reader, ChannelWriter<T> writer) = Create();

        for (int i = 0; i < 5; i++) Assert.True(writer.TryWrite(Item(i)));

        Assert.Equal([0, 1, 2, 3, 4], Drain(reader));
    }

    [Fact]
    public void TryRead_Empty_ReturnsFalse()
    {
        (ChannelReader<T> reader, _) = Create();

        Assert.False(reader.TryRead(out _));
        Assert.False(reader.Completion.IsCompleted);
    }

    [Fact]
    public async Task WaitToReadAsync_Empty_PendsUntilAWrite()
    {
        (ChannelReader<T> reader, ChannelWriter<T> writer) = Create();
        ValueTask<bool> wait = reader.WaitToReadAsync();
        Assert.False(wait.IsCompleted, "the wait completed on an empty channel");

        Assert.True(writer.TryWrite(Item(7)));

        Assert.True(await wait.AsTask().WaitAsync(Generous));
        Assert.True(reader.TryRead(out T? item));
        Assert.Equal(7, Id(item));
    }

    [Fact]
    public async Task ReadAsync_Empty_CompletesWithTheNextWrite()
    {
        (ChannelReader<T> reader, ChannelWriter<T> writer) = Create();
        ValueTask<T> read = reader.ReadAsync();
        Assert.False(read.IsCompleted, "the read completed on an empty channel");

        Assert.True(writer.TryWrite(Item(3)));

        Assert.Equal(3, Id(await read.AsTask().WaitAsync(Generous)));
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public async Task TryWrite_Full_ReturnsFalseAndWaitToWriteAsyncPendsUntilARead()
    {
        (ChannelReader<T> reader, ChannelWriter<T> writer) = Create();
        int written = Fill(writer);
        ValueTask<bool> wait = writer.WaitToWriteAsync();
        Assert.False(wait.IsCompleted, "the wait for room completed on a full channel");

        Assert.True(reader.TryRead(out T? first));

        Assert.Equal(0, Id(first));
        Assert.True(await wait.AsTask().WaitAsync(Generous));
        Assert.True(writer.TryWrite(Item(written)));
        Assert.Equal(Enumerable.Range(1, written), Drain(reader));
    }

    [Fact]
    public async Task WriteAsync_Full_CompletesAfterARead()
    {
        (ChannelReader<T> reader, ChannelWriter<T> writer) = Create();
        int written = Fill(writer);
        ValueTask write = writer.WriteAsync(Item(written));
        Assert.False(write.IsCompleted, "the write completed on a full channel");

        Assert.True(reader.TryRead(out _));

        await write.AsTask().WaitAsync(Generous);
        Assert.Equal(Enumerable.Range(1, written), Drain(reader));
    }

    [Fact]
    public async Task TryComplete_ItemsLeft_ReaderDrainsThenWaitToReadAsyncReturnsFalse()
    {
        (ChannelReader<T> reader, ChannelWriter<T> writer) = Create();
        for (int i = 0; i < 3; i++) Assert.True(writer.TryWrite(Item(i)));

        Assert.True(writer.TryComplete());

        Assert.True(await reader.WaitToReadAsync().AsTask().WaitAsync(Generous));
        Assert.Equal([0, 1, 2], Drain(reader));
        Assert.False(await reader.WaitToReadAsync().AsTask().WaitAsync(Generous));
        await reader.Completion.WaitAsync(Generous);
    }

    [Fact]
    public async Task WaitToReadAsync_PendingWhenCompleted_ReturnsFalse()
    {
        (ChannelReader<T> reader, ChannelWriter<T> writer) = Create();
        ValueTask<bool> wait = reader.WaitToReadAsync();

        Assert.True(writer.TryComplete());

        Assert.False(await wait.AsTask().WaitAsync(Generous));
    }

    [Fact]
    public async Task ReadAsync_CompletedAndDrained_ThrowsChannelClosedException()
    {
        (ChannelReader<T> reader, ChannelWriter<T> writer) = Create();
        Assert.True(writer.TryWrite(Item(1)));
        Assert.True(writer.TryComplete());

        Assert.Equal(1, Id(await reader.ReadAsync().AsTask().WaitAsync(Generous)));
        ChannelClosedException closed = await Assert.ThrowsAsync<ChannelClosedException>(() => reader.ReadAsync().AsTask().WaitAsync(Generous));

        // A channel completed without an error has nothing to say; a ring's end says which segment and why.
        if (ClosedExceptionCarriesTheEnd) Assert.IsType<RingCompletedException>(closed.InnerException);
        else Assert.Null(closed.InnerException);
    }

    [Fact]
    public async Task ReadAsync_PendingWhenCompleted_ThrowsChannelClosedException()
    {
        (ChannelReader<T> reader, ChannelWriter<T> writer) = Create();
        ValueTask<T> read = reader.ReadAsync();

        Assert.True(writer.TryComplete());

        await Assert.ThrowsAsync<ChannelClosedException>(() => read.AsTask().WaitAsync(Generous));
    }

    [Fact]
    public async Task Completion_CompletedThenDrained_CompletesSuccessfully()
    {
        (ChannelReader<T> reader, ChannelWriter<T> writer) = Create();
        for (int i = 0; i < 2; i++) Assert.True(writer.TryWrite(Item(i)));
        Assert.True(writer.TryComplete());
        Assert.False(reader.Completion.IsCompleted, "Completion completed with items left to read");

        Assert.Equal([0, 1], Drain(reader));

        await reader.Completion.WaitAsync(Generous);
        Assert.True(reader.Completion.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Completion_LastItemRead_CompletesThenOrAtTheNextRead()
    {
        (ChannelReader<T> reader, ChannelWriter<T> writer) = Create();
        Assert.True(writer.TryWrite(Item(1)));
        Assert.True(writer.TryComplete());

        Assert.True(reader.TryRead(out _));

        Assert.Equal(CompletionObservedWithoutAFailedRead, reader.Completion.IsCompleted);
        Assert.False(reader.TryRead(out _));
        await reader.Completion.WaitAsync(Generous);
    }

    [Fact]
    public async Task Completion_CompletedWhileEmpty_CompletesThenOrAtTheNextWait()
    {
        (ChannelReader<T> reader, ChannelWriter<T> writer) = Create();

        Assert.True(writer.TryComplete());

        Assert.Equal(CompletionObservedWithoutAFailedRead, reader.Completion.IsCompleted);
        Assert.False(await reader.WaitToReadAsync().AsTask().WaitAsync(Generous));
        await reader.Completion.WaitAsync(Generous);
    }

    [Fact]
    public void TryComplete_Twice_SecondReturnsFalse()
    {
        (_, ChannelWriter<T> writer) = Create();

        Assert.True(writer.TryComplete());

        Assert.False(writer.TryComplete());
        Assert.False(writer.TryComplete(new InvalidOperationException("again")));
    }

    [Fact]
    public async Task TryWrite_AfterComplete_ReturnsFalseAndWriteAsyncThrowsChannelClosedException()
    {
        (_, ChannelWriter<T> writer) = Create();
        Assert.True(writer.TryComplete());

        Assert.False(writer.TryWrite(Item(1)));
        Assert.False(await writer.WaitToWriteAsync().AsTask().WaitAsync(Generous));
        await Assert.ThrowsAsync<ChannelClosedException>(() => writer.WriteAsync(Item(1)).AsTask().WaitAsync(Generous));
    }

    [Fact]
    public async Task WriteAsync_PendingWhenCompleted_ThrowsChannelClosedException()
    {
        (_, ChannelWriter<T> writer) = Create();
        int written = Fill(writer);
        ValueTask write = writer.WriteAsync(Item(written));

        Assert.True(writer.TryComplete());

        await Assert.ThrowsAsync<ChannelClosedException>(() => write.AsTask().WaitAsync(Generous));
    }

    [Fact]
    public async Task WaitToReadAsync_CancelledWhilePending_ThrowsOperationCanceledExceptionAndReadingGoesOn()
    {
        (ChannelReader<T> reader, ChannelWriter<T> writer) = Create();
        using CancellationTokenSource cancel = new();
        ValueTask<bool> wait = reader.WaitToReadAsync(cancel.Token);
        Assert.False(wait.IsCompleted);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.AsTask().WaitAsync(Generous));
        Assert.True(writer.TryWrite(Item(5)));
        Assert.Equal(5, Id(await reader.ReadAsync().AsTask().WaitAsync(Generous)));
    }

    [Fact]
    public async Task ReadAllAsync_ItemsBeforeAndAfterItStarts_YieldsEveryItemThenEndsAtCompletion()
    {
        (ChannelReader<T> reader, ChannelWriter<T> writer) = Create();
        for (int i = 0; i < 3; i++) Assert.True(writer.TryWrite(Item(i)));
        using CancellationTokenSource limit = new(Generous);
        List<int> got = [];
        Task all = Task.Run(async () =>
        {
            await foreach (T item in reader.ReadAllAsync(limit.Token)) got.Add(Id(item));
        });

        for (int i = 3; i < 6; i++) await writer.WriteAsync(Item(i)).AsTask().WaitAsync(Generous);
        Assert.True(writer.TryComplete());

        await all.WaitAsync(Generous);
        Assert.Equal([0, 1, 2, 3, 4, 5], got);
    }

    [Fact]
    public async Task TryComplete_WithAnError_ReachesTheReaderAsTheErrorOrAsItsMessage()
    {
        (ChannelReader<T> reader, ChannelWriter<T> writer) = Create();
        InvalidOperationException error = new("upstream failed");

        Assert.True(writer.TryComplete(error));

        if (CompletionCarriesTheError)
        {
            Assert.Same(error, await Assert.ThrowsAsync<InvalidOperationException>(() => reader.WaitToReadAsync().AsTask().WaitAsync(Generous)));
            Assert.Same(error, (await Assert.ThrowsAsync<ChannelClosedException>(() => reader.ReadAsync().AsTask().WaitAsync(Generous))).InnerException);
            Assert.Same(error, await Assert.ThrowsAsync<InvalidOperationException>(() => reader.Completion.WaitAsync(Generous)));
        }
        else
        {
            Assert.False(await reader.WaitToReadAsync().AsTask().WaitAsync(Generous));
            ChannelClosedException closed = await Assert.ThrowsAsync<ChannelClosedException>(() => reader.ReadAsync().AsTask().WaitAsync(Generous));
            Assert.Equal(error.Message, Assert.IsType<RingCompletedException>(closed.InnerException).Reason);
            await reader.Completion.WaitAsync(Generous);
            Assert.True(reader.Completion.IsCompletedSuccessfully);
        }
    }

    [Fact]
    public void TryPeekCount_ItemsWaiting_WorkWhereSupported()
    {
        (ChannelReader<T> reader, ChannelWriter<T> writer) = Create();
        for (int i = 0; i < 2; i++) Assert.True(writer.TryWrite(Item(i)));

        Assert.Equal((CanPeekAndCount, CanPeekAndCount), (reader.CanPeek, reader.CanCount));
        if (CanPeekAndCount)
        {
            Assert.True(reader.TryPeek(out T? peeked));
            Assert.Equal(0, Id(peeked));
            Assert.Equal(2, reader.Count);
        }
        else
        {
            Assert.False(reader.TryPeek(out _));
            Assert.Throws<NotSupportedException>(() => reader.Count);
        }
        Assert.Equal([0, 1], Drain(reader)); // a peek consumes nothing
    }

    /// <summary>Writes items 0, 1, … until the channel refuses one; returns how many it took.</summary>
    private int Fill(ChannelWriter<T> writer)
    {
        int written = 0;
        while (writer.TryWrite(Item(written)))
        {
            written++;
            Assert.True(written < MoreThanAnyCapacity, "the channel never reports full");
        }
        Assert.True(written > 1, "the channel under test holds too little to test with");
        return written;
    }

    private List<int> Drain(ChannelReader<T> reader)
    {
        List<int> got = [];
        while (reader.TryRead(out T? item)) got.Add(Id(item));
        return got;
    }
}

/// <summary>The reference: what a bounded channel does.</summary>
public sealed class BoundedChannelContractTests() : ChannelContractTests<long>(ChannelItems.Longs)
{
    protected override (ChannelReader<long> Reader, ChannelWriter<long> Writer) Create()
    {
        Channel<long> channel = Channel.CreateBounded<long>(new BoundedChannelOptions(16)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        });
        return (channel.Reader, channel.Writer);
    }
}

/// <summary>The Ring adapters over a small ring of <paramref name="kind"/>, whose messages are 8 bytes.</summary>
public abstract class RingChannelContractTests<T>(ChannelItems<T> items, RingKind kind,
    Func<RingReader, ChannelReader<T>> adaptReader, Func<RingWriter, ChannelWriter<T>> adaptWriter) : ChannelContractTests<T>(items)
{
    private readonly SmallRings _rings = new();
    private readonly List<IDisposable> _owned = [];

    /// <summary>
    /// A ring records a reason string, not an exception object (the reader may be in another process): the error's
    /// message becomes the completion reason, and the reader ends normally.
    /// </summary>
    protected override bool CompletionCarriesTheError => false;

    /// <summary>
    /// A ring's end is a state of shared memory, not an event: the adapter learns of it only when one of its reads
    /// looks and finds the ring completed and drained.
    /// </summary>
    protected override bool CompletionObservedWithoutAFailedRead => false;

    /// <summary>The adapter's ChannelClosedException carries the ring's RingCompletedException, with the segment and reason.</summary>
    protected override bool ClosedExceptionCarriesTheEnd => true;

    /// <summary>A ring hands out a message only by consuming it, and counts its messages neither cheaply nor exactly.</summary>
    protected override bool CanPeekAndCount => false;

    protected override (ChannelReader<T> Reader, ChannelWriter<T> Writer) Create()
    {
        // The largest message is the item: a ring full of items then has room for one more as soon as one is read.
        RingSegment segment = _rings.Create(kind, maxMessageLength: 8);
        _owned.Add(segment);
        RingWriter writer = segment.CreateWriter();
        _owned.Add(writer);
        RingReader reader = segment.CreateReader();
        _owned.Add(reader);
        return (adaptReader(reader), adaptWriter(writer));
    }

    public override void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _rings.Dispose();
        base.Dispose();
    }
}

public sealed class SpscTypedChannelContractTests() : RingChannelContractTests<long>(
    ChannelItems.Longs, RingKind.Spsc, r => r.AsChannelReader<long>(), w => w.AsChannelWriter<long>());

public sealed class MpmcTypedChannelContractTests() : RingChannelContractTests<long>(
    ChannelItems.Longs, RingKind.Mpmc, r => r.AsChannelReader<long>(), w => w.AsChannelWriter<long>());

public sealed class SpscBytesChannelContractTests() : RingChannelContractTests<ReadOnlyMemory<byte>>(
    ChannelItems.Bytes, RingKind.Spsc, r => r.AsChannelReader(), w => w.AsChannelWriter());

public sealed class MpmcBytesChannelContractTests() : RingChannelContractTests<ReadOnlyMemory<byte>>(
    ChannelItems.Bytes, RingKind.Mpmc, r => r.AsChannelReader(), w => w.AsChannelWriter());
