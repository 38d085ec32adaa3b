namespace Ring.Tests;

/// <summary>Batched publication: what a reader may see of a batch, and when.</summary>
public abstract partial class RingContractTests
{
    [Fact]
    public void BeginBatch_KindWithoutBatches_ThrowsNotSupportedAndTheWriterGoesOn()
    {
        if (SupportsBatches) return;
        using RingUnderTest ring = CreateRing(4096, 64);

        Assert.Throws<NotSupportedException>(() => ring.Writer.BeginBatch());

        Assert.True(ring.Writer.TryWrite("after"u8));
        Assert.Equal("after"u8.ToArray(), ReadOne(ring.Reader, 64));
    }

    [Fact]
    public void RingBatch_WritesBeforePublish_AreInvisibleThenAllArriveInOrder()
    {
        if (!SupportsBatches) return;
        using RingUnderTest ring = CreateRing(4096, 64);
        byte[][] sent = [.. Enumerable.Range(0, 10).Select(i => Payload.Make(i, 1 + i))];

        using (RingBatch batch = ring.Writer.BeginBatch())
        {
            foreach (byte[] message in sent) Assert.True(batch.TryWrite(message));
            Assert.False(ring.Reader.TryRead(new byte[64], out _), "a message of an unpublished batch was visible");
            Assert.Equal(0, ring.Segment.GetStatus().MessagesWritten);

            batch.Publish();
        }

        foreach (byte[] message in sent) Assert.Equal(message, ReadOne(ring.Reader, 64));
        Assert.Equal(sent.Length, ring.Segment.GetStatus().MessagesWritten);
        Assert.Equal(sent.Sum(m => (long)m.Length), ring.Segment.GetStatus().BytesWritten);
    }

    [Fact]
    public void RingBatch_DisposedWithoutPublish_DropsItsMessagesAndTheWriterGoesOn()
    {
        if (!SupportsBatches) return;
        using RingUnderTest ring = CreateRing(4096, 64);

        using (RingBatch batch = ring.Writer.BeginBatch())
        {
            Assert.True(batch.TryWrite("published"u8));
            batch.Publish();
            Assert.True(batch.TryWrite("dropped 1"u8));
            Assert.True(batch.TryWrite("dropped 2"u8));
        }

        Assert.True(ring.Writer.TryWrite("after"u8));
        Assert.Equal("published"u8.ToArray(), ReadOne(ring.Reader, 64));
        Assert.Equal("after"u8.ToArray(), ReadOne(ring.Reader, 64));
        Assert.False(ring.Reader.TryRead(new byte[64], out _));
        Assert.Equal(2, ring.Segment.GetStatus().MessagesWritten);
    }

    [Fact]
    public void RingBatch_FullRing_TryWriteFalseUntilPublishedAndRead()
    {
        if (!SupportsBatches) return;
        using RingUnderTest ring = CreateRing(1024, 64);
        int written = 0;
        using RingBatch batch = ring.Writer.BeginBatch();
        while (batch.TryWrite(Payload.Make(written, 64)))
        {
            written++;
            Assert.True(written < 10_000, "the batch never found the ring full");
        }

        Assert.False(ring.Reader.TryRead(new byte[64], out _)); // what fills the ring is still unpublished
        batch.Publish();
        Assert.Equal(Payload.Make(0, 64), ReadOne(ring.Reader, 64));
        Assert.True(batch.TryWrite(Payload.Make(written, 64)), "the room a read freed was not reusable by the batch");
        batch.Publish();
        for (int i = 1; i <= written; i++) Assert.Equal(Payload.Make(i, 64), ReadOne(ring.Reader, 64));
    }

    [Fact]
    public void RingBatch_Open_OtherWritesClaimsAndCompletionThrow()
    {
        if (!SupportsBatches) return;
        using RingUnderTest ring = CreateRing(4096, 64);
        using RingBatch batch = ring.Writer.BeginBatch();

        Assert.Throws<InvalidOperationException>(() => ring.Writer.TryWrite("x"u8));
        Assert.Throws<InvalidOperationException>(() => ring.Writer.TryClaim(8, out _));
        Assert.Throws<InvalidOperationException>(() => ring.Writer.TryComplete());
        Assert.Throws<InvalidOperationException>(() => ring.Writer.BeginBatch());
        RingBatch open = batch;
        Assert.Throws<ArgumentException>(() => open.TryWrite(new byte[ring.Writer.MaxMessageLength + 1]));
    }

    [Fact]
    public async Task RingBatch_FullAndPublished_WaitToWriteWaitsForTheReaderAndUnpublishedRefuses()
    {
        if (!SupportsBatches) return;
        using RingUnderTest ring = CreateRing(1024, 64);
        using RingBatch batch = ring.Writer.BeginBatch();
        int written = 0;
        while (batch.TryWrite(Payload.Make(written, 64))) written++;

        Assert.Throws<InvalidOperationException>(() => ring.Writer.WaitToWrite(64, Generous)); // only a reader could free it, and it sees none of it
        batch.Publish();
        ValueTask<bool> room = ring.Writer.WaitToWriteAsync(64);
        Assert.False(room.IsCompleted);
        Assert.Equal(Payload.Make(0, 64), ReadOne(ring.Reader, 64));
        Assert.True(await room.AsTask().WaitAsync(Generous));
        Assert.True(ring.Writer.WaitToWrite(64, Generous));
        Assert.True(batch.TryWrite(Payload.Make(written, 64)));
    }

    [Fact]
    public void RingBatch_TypedMessages_ArriveAfterPublish()
    {
        if (!SupportsBatches) return;
        using RingUnderTest ring = CreateRing(4096, 64);

        using (RingBatch batch = ring.Writer.BeginBatch())
        {
            for (long i = 0; i < 5; i++) Assert.True(batch.TryWrite(TickOf(i)));
            batch.Publish();
        }

        for (long i = 0; i < 5; i++)
        {
            Assert.True(ring.Reader.TryRead(out Tick tick));
            Assert.Equal(TickOf(i), tick);
        }
    }

    [Fact]
    public void RingBatch_Closed_CallsThroughACopyThrow()
    {
        if (!SupportsBatches) return;
        using RingUnderTest ring = CreateRing(4096, 64);
        RingBatch batch = ring.Writer.BeginBatch();
        RingBatch copy = batch;
        batch.Dispose();

        Assert.Throws<InvalidOperationException>(() => copy.TryWrite("x"u8));
        Assert.Throws<InvalidOperationException>(() => copy.Publish());
        Assert.Throws<InvalidOperationException>(() => default(RingBatch).Publish());
        Assert.True(ring.Writer.TryWrite("after"u8));
    }
}
