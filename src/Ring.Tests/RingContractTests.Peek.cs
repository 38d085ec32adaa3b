namespace Ring.Tests;

/// <summary>Peek then release: a message stays in the ring, holding its room, until its position is released.</summary>
public abstract partial class RingContractTests
{
    /// <summary>Whether <see cref="RingReader.PeekBatch"/> is offered (SPSC, broadcast); MPMC throws <see cref="NotSupportedException"/>.</summary>
    protected virtual bool SupportsPeek => true;

    /// <summary>Peeks up to <paramref name="max"/> messages: each copied, with the position it ends at.</summary>
    private static List<(byte[] Message, long Position)> Peek(RingReader reader, int max)
    {
        List<(byte[] Message, long Position)> peeked = [];
        reader.PeekBatch(ref peeked, static (message, position, ref list) => list.Add((message.ToArray(), position)), max);
        return peeked;
    }

    [Fact]
    public void PeekBatch_KindWithoutPeek_ThrowsNotSupportedAndReadsGoOn()
    {
        if (SupportsPeek) return;
        using RingUnderTest ring = CreateRing(4096, 64);
        Assert.True(ring.Writer.TryWrite("kept"u8));

        NotSupportedException refused = Assert.Throws<NotSupportedException>(() => Peek(ring.Reader, 1));
        Assert.Contains("MPMC", refused.Message, StringComparison.Ordinal);
        Assert.Throws<NotSupportedException>(() => ring.Reader.Release(1));

        Assert.Equal("kept"u8.ToArray(), ReadOne(ring.Reader, 64));
    }

    [Fact]
    public void PeekBatch_Unreleased_HoldsTheRoomUntilReleased()
    {
        if (!SupportsPeek) return;
        using RingUnderTest ring = CreateRing(1024, 64);
        long seed = 0;
        List<byte[]> written = Fill(ring.Writer, 40, ref seed);

        List<(byte[] Message, long Position)> peeked = Peek(ring.Reader, int.MaxValue);

        Assert.Equal(written, peeked.Select(p => p.Message));
        Assert.False(ring.Writer.TryWrite(Payload.Make(seed, 40)), "the producer reused the room of a peeked, unreleased message");
        ring.Reader.Release(peeked[0].Position);
        Assert.True(ring.Writer.TryWrite(Payload.Make(seed, 40)), "releasing the first message gave no room back");
        Assert.False(ring.Writer.TryWrite(Payload.Make(seed + 1, 40)), "one release gave back the room of more than its message");
    }

    [Fact]
    public void PeekBatch_SeveralOutstanding_HandsEachMessageOnceInOrderWithIncreasingPositions()
    {
        if (!SupportsPeek) return;
        using RingUnderTest ring = CreateRing(1024, 100);
        Random random = new(17);
        Queue<(byte[] Message, long Position)> outstanding = [];
        List<byte[]> sent = [];
        List<byte[]> got = [];
        long last = long.MinValue;
        for (int round = 0; round < 400; round++)
        {
            byte[] message = Payload.Make(round, random.Next(0, 101));
            if (ring.Writer.TryWrite(message)) sent.Add(message);
            foreach ((byte[] m, long position) in Peek(ring.Reader, random.Next(1, 4)))
            {
                Assert.True(position > last, $"position {position} after {last}");
                last = position;
                got.Add(m);
                outstanding.Enqueue((m, position));
            }
            // Release a few of the oldest, as acknowledgements arrive: sometimes none, sometimes all.
            int release = Math.Min(outstanding.Count, random.Next(0, 4));
            long through = 0;
            for (int i = 0; i < release; i++) through = outstanding.Dequeue().Position;
            if (release > 0) ring.Reader.Release(through);
        }
        got.AddRange(Peek(ring.Reader, int.MaxValue).Select(p => p.Message));

        Assert.True(sent.Count > 100, $"only {sent.Count} messages were written: the ring never freed room");
        Assert.Equal(sent, got);
    }

    [Fact]
    public void Release_PositionNotAPeekedMessageEnd_ThrowsAndReleasesNothing()
    {
        if (!SupportsPeek) return;
        using RingUnderTest ring = CreateRing(1024, 64);
        long seed = 0;
        Fill(ring.Writer, 40, ref seed);
        List<(byte[] Message, long Position)> peeked = Peek(ring.Reader, 2);

        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Reader.Release(peeked[0].Position + 1)); // inside the second message
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Reader.Release(peeked[1].Position + RoomFor(40))); // not peeked yet
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Reader.Release(0));

        Assert.False(ring.Writer.TryWrite(Payload.Make(seed, 40)), "a refused release gave room back");
        ring.Reader.Release(peeked[1].Position);
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Reader.Release(peeked[0].Position)); // released with the second
        Assert.True(ring.Writer.TryWrite(Payload.Make(seed, 40)));
    }

    [Fact]
    public void TryRead_PeekedMessageUnreleased_ThrowsInvalidOperationUntilReleased()
    {
        if (!SupportsPeek) return;
        using RingUnderTest ring = CreateRing(4096, 64);
        Assert.True(ring.Writer.TryWrite("one"u8));
        Assert.True(ring.Writer.TryWrite("two"u8));
        long position = Assert.Single(Peek(ring.Reader, 1)).Position;

        Assert.Throws<InvalidOperationException>(() => ring.Reader.TryRead(new byte[64], out _));
        Assert.Throws<InvalidOperationException>(() => ring.Reader.ReadBatch(static _ => { }, 10));
        Assert.Throws<InvalidOperationException>(() => ring.Reader.TryRead(out long _));

        ring.Reader.Release(position);
        Assert.Equal("two"u8.ToArray(), ReadOne(ring.Reader, 64));
    }

    [Fact]
    public virtual void PeekBatch_ReaderDisposedWithUnreleasedMessages_TheNextReaderGetsThemAgain()
    {
        using RingUnderTest ring = CreateRing(4096, 64);
        string[] sent = ["acked", "in flight 1", "in flight 2"];
        foreach (string m in sent) Assert.True(ring.Writer.TryWrite(System.Text.Encoding.UTF8.GetBytes(m)));
        List<(byte[] Message, long Position)> first = Peek(ring.Reader, 10);
        ring.Reader.Release(first[0].Position);
        ring.Reader.Dispose();

        using RingReader next = ring.Segment.CreateReader();
        List<(byte[] Message, long Position)> again = Peek(next, 10);

        Assert.Equal(sent[1..], again.Select(p => System.Text.Encoding.UTF8.GetString(p.Message)));
        Assert.Equal(first[1..].Select(p => p.Position), again.Select(p => p.Position)); // the same ids for a redelivery
    }
}
