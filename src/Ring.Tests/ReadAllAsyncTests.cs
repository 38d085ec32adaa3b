using System.Runtime.InteropServices;

namespace Ring.Tests;

/// <summary><see cref="RingReader.ReadAllAsync(CancellationToken)"/> and its typed form, on the reader itself.</summary>
public sealed class ReadAllAsyncTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    private readonly SmallRings _rings = new();

    public void Dispose() => _rings.Dispose();

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task ReadAllAsync_MessagesWrittenBeforeAndWhileItWaits_YieldsEachInOrderThenEndsAtCompletion(RingKind kind)
    {
        using RingSegment segment = _rings.Create(kind);
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        byte[][] sent = [.. Enumerable.Range(0, 6).Select(i => Payload.Make(i, 1 + i * 10))];
        foreach (byte[] message in sent[..3]) Assert.True(writer.TryWrite(message));
        using CancellationTokenSource limit = new(Generous);
        Task<List<byte[]>> all = Task.Run(async () =>
        {
            List<byte[]> got = [];
            await foreach (ReadOnlyMemory<byte> message in reader.ReadAllAsync(limit.Token)) got.Add(message.ToArray());
            return got;
        });

        foreach (byte[] message in sent[3..]) await writer.WriteAsync(message).AsTask().WaitAsync(Generous);
        writer.Complete("done");

        Assert.Equal(sent, await all.WaitAsync(Generous));
        Assert.True(reader.IsCompleted);
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task ReadAllAsync_SteadyState_ReusesOneBufferAndAllocatesNothingPerMessage(RingKind kind)
    {
        const int Messages = 12;
        using RingSegment segment = _rings.Create(kind);
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        byte[][] sent = [.. Enumerable.Range(0, Messages).Select(i => Payload.Make(i, 16))];
        foreach (byte[] message in sent) Assert.True(writer.TryWrite(message));
        await using IAsyncEnumerator<ReadOnlyMemory<byte>> all = reader.ReadAllAsync().GetAsyncEnumerator();
        Assert.True(await all.MoveNextAsync()); // the first: the enumeration's buffer and state
        Assert.True(MemoryMarshal.TryGetArray(all.Current, out ArraySegment<byte> first));
        int failures = 0;

        // No Assert inside the measured loop: xunit's Assert.Equal allocates.
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 1; i < Messages; i++)
        {
            bool same = MovedOnAtOnce(all.MoveNextAsync())
                && MemoryMarshal.TryGetArray(all.Current, out ArraySegment<byte> item) && item.Array == first.Array
                && all.Current.Span.SequenceEqual(sent[i]);
            if (!same) failures++;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, failures);
        Assert.Equal(0, allocated);
        Assert.Equal(segment.MaxMessageLength, first.Array!.Length);

        static bool MovedOnAtOnce(ValueTask<bool> next) => next.IsCompletedSuccessfully && next.Result;
    }

    [Fact]
    public async Task ReadAllAsync_EnumeratedTwice_EachEnumerationHasABufferOfItsOwn()
    {
        using RingSegment segment = _rings.Create(RingKind.Spsc);
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        Assert.True(writer.TryWrite("one"u8));
        Assert.True(writer.TryWrite("two"u8));
        IAsyncEnumerable<ReadOnlyMemory<byte>> all = reader.ReadAllAsync();
        ReadOnlyMemory<byte> first;

        await using (IAsyncEnumerator<ReadOnlyMemory<byte>> enumeration = all.GetAsyncEnumerator())
        {
            Assert.True(await enumeration.MoveNextAsync());
            first = enumeration.Current;
        }
        await using (IAsyncEnumerator<ReadOnlyMemory<byte>> enumeration = all.GetAsyncEnumerator())
        {
            Assert.True(await enumeration.MoveNextAsync());
            Assert.Equal("two"u8.ToArray(), enumeration.Current.ToArray());
        }

        Assert.Equal("one"u8.ToArray(), first.ToArray()); // the second enumeration read into another buffer
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task ReadAllAsync_PeerLossCompleteProducerDisposed_YieldsWhatIsLeftThenThrowsRingPeerLostException(RingKind kind)
    {
        using RingSegment segment = _rings.Create(kind);
        RingWriter producer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader(WaitStrategy.SpinThenBlock, PeerLoss.Complete);
        Assert.True(producer.TryWrite("last"u8));
        producer.Dispose();
        using CancellationTokenSource limit = new(Generous);
        List<byte[]> got = [];

        RingPeerLostException lost = await Assert.ThrowsAsync<RingPeerLostException>(async () =>
        {
            await foreach (ReadOnlyMemory<byte> message in reader.ReadAllAsync(limit.Token)) got.Add(message.ToArray());
        });

        Assert.Equal(["last"u8.ToArray()], got);
        Assert.Contains("every producer is gone", lost.Reason);
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task ReadAllAsync_TokenGivenToTheEnumerator_CancelsAPendingWait(RingKind kind)
    {
        using RingSegment segment = _rings.Create(kind);
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        using CancellationTokenSource cancel = new();
        await using IAsyncEnumerator<ReadOnlyMemory<byte>> all = reader.ReadAllAsync().GetAsyncEnumerator(cancel.Token);
        ValueTask<bool> next = all.MoveNextAsync();
        Assert.False(next.IsCompleted, "the enumeration moved on with the ring empty");

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next.AsTask().WaitAsync(Generous));
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task ReadAllAsyncTyped_ValuesWrittenWhileItWaits_YieldsEachThenEndsAtCompletion(RingKind kind)
    {
        using RingSegment segment = _rings.Create(kind);
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        using CancellationTokenSource limit = new(Generous);
        Task<List<long>> all = Task.Run(async () =>
        {
            List<long> got = [];
            await foreach (long value in reader.ReadAllAsync<long>(limit.Token)) got.Add(value);
            return got;
        });

        for (long i = 0; i < 100; i++) await writer.WriteAsync(i * i).AsTask().WaitAsync(Generous);
        writer.Complete();

        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i * i), await all.WaitAsync(Generous));
    }

    [Fact]
    public async Task ReadAllAsyncTyped_MessageOfAnotherLength_ThrowsRingMessageTypeExceptionAndLeavesIt()
    {
        using RingSegment segment = _rings.Create(RingKind.Spsc);
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        Assert.True(writer.TryWrite("odd"u8));

        await Assert.ThrowsAsync<RingMessageTypeException>(async () =>
        {
            await foreach (long value in reader.ReadAllAsync<long>()) Assert.Fail($"read {value} from a 3-byte message");
        });

        Assert.True(reader.TryRead(new byte[64], out int length));
        Assert.Equal(3, length);
    }
}
