using System.Runtime.InteropServices;
using System.Text.Json;

namespace Ring.Tests;

/// <summary>A market-data tick as a typed message: mixed field sizes, so a torn or shifted copy shows.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct Tick
{
    public long Sequence;
    public double Price;
    public int Quantity;
    public short Side;
}

/// <summary>Same size as <see cref="Tick"/>, another name: the tag, not the size, must tell them apart.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct Quote
{
    public long Sequence;
    public double Bid;
    public int Size;
    public short Venue;
}

/// <summary>A batch reader's state: counted into by reference, no closure.</summary>
public struct BatchTally
{
    public int Count;
    public long Sum;
}

public sealed record Order(string Symbol, int Quantity, decimal Limit, string[] Tags);

/// <summary>Typed messages, handlers with state and serializers writing in place, as every ring kind promises them.</summary>
public abstract partial class RingContractTests
{
    private static Tick TickOf(long i) => new() { Sequence = i, Price = 100.25 + i, Quantity = (int)(i * 7), Side = (short)(i % 2 == 0 ? 1 : -1) };

    [Fact]
    public void TryReadT_AfterTryWriteT_ReturnsEveryFieldInOrder()
    {
        using RingUnderTest ring = CreateRing(4096, 64);
        for (long i = 0; i < 5; i++) Assert.True(ring.Writer.TryWrite(TickOf(i)));

        for (long i = 0; i < 5; i++)
        {
            Assert.True(ring.Reader.TryRead(out Tick tick));
            Assert.Equal(TickOf(i), tick);
        }
        Assert.False(ring.Reader.TryRead(out Tick none));
        Assert.Equal(default, none);
    }

    [Fact]
    public void TryReadT_NextMessageOfAnotherLength_ThrowsAndLeavesItInTheRing()
    {
        using RingUnderTest ring = CreateRing(4096, 64);
        byte[] odd = Payload.Make(3, Marshal.SizeOf<Tick>() - 1);
        Assert.True(ring.Writer.TryWrite(odd));
        Assert.True(ring.Writer.TryWrite(TickOf(1)));

        RingMessageTypeException wrong = Assert.Throws<RingMessageTypeException>(() => ring.Reader.TryRead(out Tick _));

        Assert.Equal(Marshal.SizeOf<Tick>(), wrong.ExpectedLength);
        Assert.Equal(odd.Length, wrong.ActualLength);
        Assert.Throws<RingMessageTypeException>(() => ring.Reader.TryRead(out long _)); // still there for any typed read
        Assert.Equal(odd, ReadOne(ring.Reader, 64));
        Assert.True(ring.Reader.TryRead(out Tick tick));
        Assert.Equal(TickOf(1), tick);
    }

    [Fact]
    public void TryReadT_LongerMessage_ThrowsAndLeavesItInTheRing()
    {
        using RingUnderTest ring = CreateRing(4096, 64);
        Assert.True(ring.Writer.TryWrite(TickOf(1)));

        RingMessageTypeException wrong = Assert.Throws<RingMessageTypeException>(() => ring.Reader.TryRead(out int _));

        Assert.Equal(sizeof(int), wrong.ExpectedLength);
        Assert.True(ring.Reader.TryRead(out Tick tick));
        Assert.Equal(TickOf(1), tick);
    }

    [Fact]
    public void TryWriteT_FullRing_ReturnsFalseAndKeepsWhatWasWritten()
    {
        using RingUnderTest ring = CreateRing(1024, 64);
        long written = 0;
        while (ring.Writer.TryWrite(TickOf(written)))
        {
            written++;
            Assert.True(written < 100_000, "the ring never reports full");
        }

        Assert.True(written > 0);
        for (long i = 0; i < written; i++)
        {
            Assert.True(ring.Reader.TryRead(out Tick tick));
            Assert.Equal(TickOf(i), tick);
        }
    }

    [Fact]
    public async Task ReadT_WriterOnAnotherThread_GetsEachValue()
    {
        using RingUnderTest ring = CreateRing(1024, 64);
        const int Count = 2_000; // several laps of a ring that holds a few dozen
        using Background<bool> writer = new(token =>
        {
            for (long i = 0; i < Count; i++) ring.Writer.Write(TickOf(i), token);
            return true;
        });

        for (long i = 0; i < Count; i++)
        {
            Assert.True(ring.Reader.TryRead(out Tick tick, Generous));
            Assert.Equal(TickOf(i), tick);
        }
        Assert.True(await writer.Task.WaitAsync(Generous));
    }

    [Fact]
    public async Task ReadAsyncT_EmptyRingThenAWrite_CompletesWithTheValue()
    {
        using RingUnderTest ring = CreateRing(1024, 64);

        ValueTask<Tick> pending = ring.Reader.ReadAsync<Tick>();
        Assert.False(pending.IsCompleted);
        Assert.True(ring.Writer.TryWrite(TickOf(42)));

        Assert.Equal(TickOf(42), await pending.AsTask().WaitAsync(Generous));
    }

    [Fact]
    public async Task WriteAsyncT_FullRingThenARead_CompletesAndTheValueArrives()
    {
        using RingUnderTest ring = CreateRing(1024, 64);
        long written = 0;
        while (ring.Writer.TryWrite(TickOf(written))) written++;

        ValueTask pending = ring.Writer.WriteAsync(TickOf(written));
        Assert.False(pending.IsCompleted);
        Assert.True(ring.Reader.TryRead(out Tick first));
        await pending.AsTask().WaitAsync(Generous);

        Assert.Equal(TickOf(0), first);
        for (long i = 1; i <= written; i++)
        {
            Assert.True(ring.Reader.TryRead(out Tick tick));
            Assert.Equal(TickOf(i), tick);
        }
    }

    [Fact]
    public async Task ReadAsyncT_CompletedAndDrained_ThrowsCompleted()
    {
        using RingUnderTest ring = CreateRing(1024, 64);
        Assert.True(ring.Writer.TryWrite(7L));
        ring.Writer.Complete("done");

        Assert.Equal(7L, await ring.Reader.ReadAsync<long>());
        RingCompletedException ended = await Assert.ThrowsAsync<RingCompletedException>(async () => await ring.Reader.ReadAsync<long>());
        Assert.Equal("done", ended.Reason);
        Assert.Throws<RingCompletedException>(() => ring.Reader.Read<long>());
    }

    [Fact]
    public void TypedCalls_SteadyState_AllocateNothing()
    {
        using RingUnderTest ring = CreateRing(4096, 64);
        BatchTally tally = default;
        int failures = RoundTrip(ring, ref tally); // first calls: JIT and lazily built state (the writer's one RingClaim)

        // No Assert inside the measured loop: xunit's Assert.Equal allocates a comparer per call.
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1_000; i++) failures += RoundTrip(ring, ref tally);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, failures);
        Assert.Equal(0, allocated);
        Assert.Equal(2 * 1_001, tally.Count);

        static int RoundTrip(RingUnderTest ring, ref BatchTally tally)
        {
            int failures = 0;
            if (!ring.Writer.TryWrite(TickOf(1)) || !ring.Reader.TryRead(out Tick tick) || tick.Sequence != 1) failures++;
            if (!ring.Writer.TryWrite(TickOf(2)) || !ring.Writer.TryWrite(TickOf(3))) failures++;
            if (ring.Reader.ReadBatch(ref tally, static (message, ref t) => { t.Count++; t.Sum += message.Length; }, 8) != 2) failures++;
            if (!ring.Writer.TryBeginWrite(32, out RingClaim? claim)) return failures + 1;
            claim.GetSpan(8).Fill(1);
            claim.Advance(8);
            claim.Commit();
            if (!ring.Reader.TryRead(out long value) || value != 0x0101010101010101) failures++;
            return failures;
        }
    }

    [Fact]
    public void ReadBatchTState_SeveralMessages_HandlerCountsIntoTheCallersState()
    {
        using RingUnderTest ring = CreateRing(4096, 64);
        for (int i = 1; i <= 5; i++) Assert.True(ring.Writer.TryWrite(Payload.Make(i, i)));

        BatchTally tally = default;
        int handled = ring.Reader.ReadBatch(ref tally, static (message, ref t) => { t.Count++; t.Sum += message.Length; }, maxMessages: 4);

        Assert.Equal(4, handled);
        Assert.Equal(new BatchTally { Count = 4, Sum = 1 + 2 + 3 + 4 }, tally);
        Assert.True(ring.Reader.TryRead(ref tally, static (message, ref t) => t.Sum += message.Length));
        Assert.Equal(15, tally.Sum);
        Assert.False(ring.Reader.TryRead(ref tally, static (_, ref t) => t.Count = -1));
        Assert.Equal(4, tally.Count);
    }

    [Fact]
    public void BeginWrite_Utf8JsonWriterIntoTheClaim_ReaderGetsTheDocument()
    {
        // Utf8JsonWriter asks for 256 bytes at its first write, whatever it is about to write.
        using RingUnderTest ring = CreateRing(8192, 512);
        Order order = new("ACME", 300, 101.5m, ["day", "limit"]);

        using (RingClaim claim = ring.Writer.BeginWrite(ring.Writer.MaxMessageLength))
        {
            using (Utf8JsonWriter json = new(claim))
            {
                JsonSerializer.Serialize(json, order);
            }
            Assert.True(claim.WrittenCount > 0);
            claim.Commit();
        }

        byte[] message = ReadOne(ring.Reader, 512);
        Order? back = JsonSerializer.Deserialize<Order>(message);
        Assert.NotNull(back);
        Assert.Equal(order.Symbol, back.Symbol);
        Assert.Equal(order.Quantity, back.Quantity);
        Assert.Equal(order.Limit, back.Limit);
        Assert.Equal(order.Tags, back.Tags);
    }

    [Fact]
    public void RingClaim_DisposedWithoutCommit_ReaderSeesNothingAndTheWriterGoesOn()
    {
        using RingUnderTest ring = CreateRing(4096, 64);

        using (RingClaim claim = ring.Writer.BeginWrite(64))
        {
            claim.GetSpan().Fill(0xEE);
            claim.Advance(10);
        }

        Assert.False(ring.Reader.TryRead(new byte[64], out _));
        Assert.True(ring.Writer.TryWrite("after"u8));
        Assert.Equal("after"u8.ToArray(), ReadOne(ring.Reader, 64));
    }

    [Fact]
    public void RingClaim_AskedForMoreThanIsLeft_ThrowsAndTheClaimStillCommits()
    {
        using RingUnderTest ring = CreateRing(4096, 64);
        using RingClaim claim = ring.Writer.BeginWrite(16);
        "abcdefghij"u8.CopyTo(claim.GetSpan(10));
        claim.Advance(10);

        Assert.Equal(6, claim.FreeCapacity);
        Assert.Throws<ArgumentOutOfRangeException>(() => claim.GetSpan(7));
        Assert.Throws<ArgumentOutOfRangeException>(() => claim.GetMemory(7));
        Assert.Throws<ArgumentOutOfRangeException>(() => claim.Advance(7));
        Assert.Equal(6, claim.GetMemory().Length);
        claim.Commit();

        Assert.Equal("abcdefghij"u8.ToArray(), ReadOne(ring.Reader, 64));
    }

    [Fact]
    public void RingClaim_UsedAfterCommit_ThrowsInsteadOfWritingIntoTheRing()
    {
        using RingUnderTest ring = CreateRing(4096, 64);
        RingClaim claim = ring.Writer.BeginWrite(16);
        Memory<byte> kept = claim.GetMemory();
        claim.Advance(4);
        claim.Commit();

        Assert.Throws<InvalidOperationException>(() => claim.GetSpan());
        Assert.Throws<InvalidOperationException>(() => claim.Advance(1));
        Assert.Throws<InvalidOperationException>(() => claim.Commit());
        Assert.Throws<InvalidOperationException>(() => kept.Span.Fill(1));
        claim.Dispose(); // after a commit: nothing to drop
        Assert.Equal(4, ReadOne(ring.Reader, 64).Length);
    }

    [Fact]
    public void TryBeginWrite_FullRing_ReturnsFalseWithoutAClaim()
    {
        using RingUnderTest ring = CreateRing(1024, 64);
        long seed = 0;
        Fill(ring.Writer, 64, ref seed);

        Assert.False(ring.Writer.TryBeginWrite(64, out RingClaim? claim));
        Assert.Null(claim);
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Writer.TryBeginWrite(ring.Writer.MaxMessageLength + 1, out _));
        ReadOne(ring.Reader, 64);
        Assert.True(ring.Writer.TryBeginWrite(64, out claim)); // the failed call left no claim behind
        claim.Commit();
    }

    [Fact]
    public void PinnedRing_TypedCallsOfAnotherType_ThrowBeforeAnyMessageMoves()
    {
        using RingUnderTest ring = CreateRing(OptionsFor(4096, 64).WithMessageType<Tick>());
        Assert.Equal(Marshal.SizeOf<Tick>(), ring.Segment.MessageSize);
        Assert.True(ring.Writer.TryWrite(TickOf(1)));

        Assert.Throws<RingMessageTypeException>(() => ring.Writer.TryWrite(new Quote()));
        Assert.Throws<RingMessageTypeException>(() => ring.Writer.TryWrite(1L));
        Assert.Throws<RingMessageTypeException>(() => ring.Reader.TryRead(out Quote _));

        Assert.True(ring.Reader.TryRead(out Tick tick));
        Assert.Equal(TickOf(1), tick);
        Assert.False(ring.Reader.TryRead(out Tick _));
    }

    [Fact]
    public void OpenWithMessageType_PinnedToThatType_Opens()
    {
        using RingUnderTest ring = CreateRing(OptionsFor(4096, 64).WithMessageType<Tick>());

        using RingSegment again = RingSegment.Open(ring.Segment.Name, new RingOpenOptions().WithMessageType<Tick>());

        Assert.Equal(Marshal.SizeOf<Tick>(), again.MessageSize);
    }

    [Fact]
    public void OpenWithMessageType_PinnedToAnotherTypeOfTheSameSize_ThrowsMessageType()
    {
        using RingUnderTest ring = CreateRing(OptionsFor(4096, 64).WithMessageType<Tick>());

        RingMessageTypeException wrong = Assert.Throws<RingMessageTypeException>(
            () => RingSegment.Open(ring.Segment.Name, new RingOpenOptions().WithMessageType<Quote>()));

        Assert.Contains(typeof(Quote).FullName!, wrong.Message, StringComparison.Ordinal);
        Assert.Throws<RingMessageTypeException>(() => RingSegment.Open(ring.Segment.Name, new RingOpenOptions().WithMessageType<long>()));
        Assert.Throws<RingMessageTypeException>(() => RingSegment.OpenOrCreate(ring.Segment.Name, OptionsFor(4096, 64).WithMessageType<Quote>()));
        Assert.Throws<RingMessageTypeException>(() => RingSegment.OpenOrCreate(ring.Segment.Name, OptionsFor(4096, 64)));
        using RingSegment same = RingSegment.OpenOrCreate(ring.Segment.Name, OptionsFor(4096, 64).WithMessageType<Tick>());
        Assert.Equal(ring.Segment.MessageSize, same.MessageSize);
    }

    [Fact]
    public void OpenWithMessageType_UnpinnedSegment_ThrowsMessageType()
    {
        using RingUnderTest ring = CreateRing(4096, 64);

        RingMessageTypeException wrong = Assert.Throws<RingMessageTypeException>(
            () => RingSegment.Open(ring.Segment.Name, new RingOpenOptions().WithMessageType<Tick>()));

        Assert.Equal(0, wrong.ActualLength);
        Assert.Contains("not pinned", wrong.Message, StringComparison.Ordinal);
        // An unpinned ring takes typed messages all the same; only the lengths are checked.
        Assert.True(ring.Writer.TryWrite(TickOf(3)));
        Assert.True(ring.Reader.TryRead(out Tick tick));
        Assert.Equal(TickOf(3), tick);
    }

    [Fact]
    public void WithMessageType_TypeLongerThanTheLargestMessage_ThrowsAtCreate()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CreateRing(OptionsFor(4096, 8).WithMessageType<Tick>()));
    }
}
