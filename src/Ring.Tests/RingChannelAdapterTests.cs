using System.Threading.Channels;

namespace Ring.Tests;

/// <summary>
/// What the Ring channel adapters do beyond a channel's contract (<see cref="ChannelContractTests{T}"/>): no
/// allocation on the typed fast paths, peer loss as a failed end, byte items that are copies, and an error's
/// message as the completion reason.
/// </summary>
public sealed class RingChannelAdapterTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    private readonly SmallRings _rings = new();

    public void Dispose() => _rings.Dispose();

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public void AsChannelTyped_ThousandTryWriteTryRead_AllocatesNothing(RingKind kind)
    {
        using RingSegment segment = _rings.Create(kind);
        using RingWriter ringWriter = segment.CreateWriter();
        using RingReader ringReader = segment.CreateReader();
        ChannelWriter<long> writer = ringWriter.AsChannelWriter<long>();
        ChannelReader<long> reader = ringReader.AsChannelReader<long>();
        int failures = RoundTrip(writer, reader, 0); // first calls: JIT and lazily built state

        // No Assert inside the measured loop: xunit's Assert.Equal allocates.
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 1; i <= 1_000; i++) failures += RoundTrip(writer, reader, i);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, failures);
        Assert.Equal(0, allocated);

        static int RoundTrip(ChannelWriter<long> writer, ChannelReader<long> reader, long value)
        {
            ValueTask<bool> room = writer.WaitToWriteAsync();
            if (!room.IsCompletedSuccessfully || !room.Result || !writer.TryWrite(value)) return 1;
            ValueTask<bool> message = reader.WaitToReadAsync();
            if (!message.IsCompletedSuccessfully || !message.Result) return 1;
            return reader.TryRead(out long read) && read == value && !reader.TryRead(out _) ? 0 : 1;
        }
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task Completion_PeerLossCompleteProducerDisposed_FaultsWithRingPeerLostException(RingKind kind)
    {
        using RingSegment segment = _rings.Create(kind);
        RingWriter producer = segment.CreateWriter();
        using RingReader ringReader = segment.CreateReader(WaitStrategy.SpinThenBlock, PeerLoss.Complete);
        ChannelReader<long> reader = ringReader.AsChannelReader<long>();
        Assert.True(producer.TryWrite(42L));

        producer.Dispose();

        Assert.Equal(42, await reader.ReadAsync().AsTask().WaitAsync(Generous));
        RingPeerLostException lost = await Assert.ThrowsAsync<RingPeerLostException>(() => reader.WaitToReadAsync().AsTask().WaitAsync(Generous));
        Assert.Contains("every producer is gone", lost.Reason);
        Assert.Same(lost, await Assert.ThrowsAsync<RingPeerLostException>(() => reader.Completion.WaitAsync(Generous)));
        ChannelClosedException closed = await Assert.ThrowsAsync<ChannelClosedException>(() => reader.ReadAsync().AsTask().WaitAsync(Generous));
        Assert.Same(lost, closed.InnerException);
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task WaitToReadAsync_PeerLossCompleteProducerDisposedWhileItWaits_ThrowsRingPeerLostException(RingKind kind)
    {
        using RingSegment segment = _rings.Create(kind);
        RingWriter producer = segment.CreateWriter();
        using RingReader ringReader = segment.CreateReader(WaitStrategy.SpinThenBlock, PeerLoss.Complete);
        ChannelReader<long> reader = ringReader.AsChannelReader<long>();
        ValueTask<bool> wait = reader.WaitToReadAsync();
        Assert.False(wait.IsCompleted);

        producer.Dispose();

        await Assert.ThrowsAsync<RingPeerLostException>(() => wait.AsTask().WaitAsync(Generous));
        await Assert.ThrowsAsync<RingPeerLostException>(() => reader.Completion.WaitAsync(Generous));
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task TryRead_SuccessorWritesAfterThePeerLossWasObserved_StaysEndedWhileTheRingReaderGoesOn(RingKind kind)
    {
        using RingSegment segment = _rings.Create(kind);
        segment.CreateWriter().Dispose();
        using RingReader ringReader = segment.CreateReader(WaitStrategy.SpinThenBlock, PeerLoss.Complete);
        ChannelReader<long> reader = ringReader.AsChannelReader<long>();
        Assert.False(reader.TryRead(out _));
        await Assert.ThrowsAsync<RingPeerLostException>(() => reader.Completion.WaitAsync(Generous));

        using (RingWriter successor = segment.CreateWriter()) Assert.True(successor.TryWrite(7L));

        Assert.False(reader.TryRead(out _), "a faulted Completion came back: the adapter read past its end");
        await Assert.ThrowsAsync<RingPeerLostException>(() => reader.WaitToReadAsync().AsTask().WaitAsync(Generous));
        Assert.True(ringReader.TryRead(out long value));
        Assert.Equal(7, value);
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task WaitToWriteAsync_PeerLossCompleteFullAndTheConsumerDisposed_ThrowsRingPeerLostException(RingKind kind)
    {
        using RingSegment segment = _rings.Create(kind);
        RingReader consumer = segment.CreateReader();
        using RingWriter ringWriter = segment.CreateWriter(WaitStrategy.SpinThenBlock, PeerLoss.Complete);
        ChannelWriter<long> writer = ringWriter.AsChannelWriter<long>();
        for (long i = 0; writer.TryWrite(i); i++) Assert.True(i < 10_000, "the ring never reports full");

        consumer.Dispose();

        await Assert.ThrowsAsync<RingPeerLostException>(() => writer.WaitToWriteAsync().AsTask().WaitAsync(Generous));
        ChannelClosedException closed = await Assert.ThrowsAsync<ChannelClosedException>(() => writer.WriteAsync(1L).AsTask().WaitAsync(Generous));
        Assert.IsType<RingPeerLostException>(closed.InnerException);
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public void AsChannelReader_ByteItems_EachIsACopyOfItsOwn(RingKind kind)
    {
        using RingSegment segment = _rings.Create(kind);
        using RingWriter writer = segment.CreateWriter();
        using RingReader ringReader = segment.CreateReader();
        ChannelReader<ReadOnlyMemory<byte>> reader = ringReader.AsChannelReader();
        Assert.True(writer.TryWrite("first"u8));
        Assert.True(writer.TryWrite("second"u8));

        Assert.True(reader.TryRead(out ReadOnlyMemory<byte> first));
        Assert.True(reader.TryRead(out ReadOnlyMemory<byte> second));
        Assert.True(writer.TryWrite("overwrites"u8));

        Assert.Equal("first"u8.ToArray(), first.ToArray());
        Assert.Equal("second"u8.ToArray(), second.ToArray());
    }

    [Fact]
    public void TryComplete_ErrorMessageLongerThanAReason_RecordsTheWholeCharactersThatFit()
    {
        using RingSegment segment = _rings.Create(RingKind.Spsc);
        using RingWriter ringWriter = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        string message = new('é', 200); // 400 bytes of UTF-8, two per character

        Assert.True(ringWriter.AsChannelWriter().TryComplete(new InvalidOperationException(message)));

        Assert.Equal(message[..(RingWriter.MaxCompletionReasonBytes / 2)], reader.CompletionReason);
    }
}
