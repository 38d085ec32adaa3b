using System.Diagnostics;

namespace Ring.Tests;

/// <summary>Completion (end of stream) and peer loss as every ring kind promises them, within one process.</summary>
public abstract partial class RingContractTests
{
    [Fact]
    public void Complete_AfterMessages_ReaderGetsEveryMessageThenTheEnd()
    {
        using RingUnderTest ring = CreateRing(4096, 64);
        byte[][] sent = [.. Enumerable.Range(0, 5).Select(i => Payload.Make(i, 10 + i))];
        foreach (byte[] message in sent) Assert.True(ring.Writer.TryWrite(message));
        Assert.Null(ring.Writer.CompletionReason);

        ring.Writer.Complete("shift over");

        Assert.True(ring.Writer.IsCompleted);
        Assert.Equal("shift over", ring.Writer.CompletionReason);
        foreach (byte[] message in sent)
        {
            Assert.False(ring.Reader.IsCompleted, "the end was reported while committed messages were unread");
            Assert.Equal(message, ReadOne(ring.Reader, 64));
        }
        Assert.False(ring.Reader.TryRead(new byte[64], out _));
        Assert.True(ring.Reader.IsCompleted);
        Assert.Equal("shift over", ring.Reader.CompletionReason);
        Assert.False(ring.Reader.WaitToRead(Generous));
        RingCompletedException ended = Assert.Throws<RingCompletedException>(() => ring.Reader.Read(new byte[64]));
        Assert.Equal("shift over", ended.Reason);
        Assert.Contains("shift over", ended.Message);
    }

    [Fact]
    public void Complete_WithoutReason_ReasonIsNullAndReadThrows()
    {
        using RingUnderTest ring = CreateRing(4096);

        ring.Writer.Complete();

        Assert.True(ring.Reader.IsCompleted);
        Assert.Null(ring.Reader.CompletionReason);
        Assert.Null(Assert.Throws<RingCompletedException>(() => ring.Reader.Read(new byte[64])).Reason);
    }

    [Fact]
    public void Write_AfterComplete_ThrowsRingCompletedExceptionAndWritesNothing()
    {
        using RingUnderTest ring = CreateRing(4096);
        ring.Writer.Complete("closed");

        Assert.Equal("closed", Assert.Throws<RingCompletedException>(() => ring.Writer.TryWrite("x"u8)).Reason);
        Assert.Throws<RingCompletedException>(() => ring.Writer.TryClaim(4, out _));
        Assert.Throws<RingCompletedException>(() => ring.Writer.Write("x"u8));
        Assert.Throws<RingCompletedException>(() => ring.Writer.TryWrite("x"u8, Generous));
        Assert.False(ring.Writer.WaitToWrite(1, Generous));
        Assert.Equal(0, ring.Segment.GetStatus().MessagesWritten);
        Assert.True(ring.Reader.IsCompleted);
    }

    [Fact]
    public void TryComplete_Twice_SecondReturnsFalseAndTheFirstReasonStands()
    {
        using RingUnderTest ring = CreateRing(4096);

        Assert.True(ring.Writer.TryComplete("first"));
        Assert.False(ring.Writer.TryComplete("second"));
        Assert.Equal("first", Assert.Throws<RingCompletedException>(() => ring.Writer.Complete("third")).Reason);
        Assert.Equal("first", ring.Reader.CompletionReason);
    }

    [Fact]
    public void Complete_ReasonLongerThanTheBlock_ThrowsArgumentExceptionAndCompletesNothing()
    {
        using RingUnderTest ring = CreateRing(4096);
        string reason = new('é', 113); // 226 bytes of UTF-8: two more than the block holds

        Assert.Throws<ArgumentException>(() => ring.Writer.Complete(reason));

        Assert.False(ring.Writer.IsCompleted);
        Assert.True(ring.Writer.TryWrite("still open"u8));
        Assert.True(ring.Writer.TryComplete(reason[..112]));
        Assert.Equal(reason[..112], ring.Reader.CompletionReason);
    }

    [Fact]
    public void Complete_WithAClaimOpen_ThrowsAndTheClaimCanStillBeCommitted()
    {
        using RingUnderTest ring = CreateRing(4096);
        Assert.True(ring.Writer.TryClaim(5, out Span<byte> claim));
        "claim"u8.CopyTo(claim);

        Assert.Throws<InvalidOperationException>(() => ring.Writer.Complete());

        ring.Writer.Commit();
        ring.Writer.Complete();
        Assert.Equal("claim"u8.ToArray(), ReadOne(ring.Reader, 64));
        Assert.True(ring.Reader.IsCompleted);
    }

    [Theory]
    [InlineData(WaitStrategy.SpinThenBlock)]
    [InlineData(WaitStrategy.Block)]
    [InlineData(WaitStrategy.BusySpin)]
    public async Task Complete_ReaderBlockedInRead_ThrowsRingCompletedExceptionPromptly(WaitStrategy wait)
    {
        using RingUnderTest ring = CreateRing(OptionsFor(4096), wait);
        SegmentStatus before = ring.Segment.GetStatus();
        Task<int> blocked = Task.Factory.StartNew(() => ring.Reader.Read(new byte[64]), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (wait is WaitStrategy.BusySpin)
            WaitFor(() => ring.Segment.GetStatus().EmptyEvents > before.EmptyEvents, "the reader to find the ring empty");
        else
            WaitFor(() => ring.Segment.GetStatus().ReadersWaiting > 0, "the reader to sleep in the kernel");

        Stopwatch clock = Stopwatch.StartNew();
        ring.Writer.Complete("done");
        RingCompletedException ended = await Assert.ThrowsAsync<RingCompletedException>(() => blocked.WaitAsync(Generous));
        clock.Stop();

        Assert.Equal("done", ended.Reason);
        Assert.True(clock.Elapsed < Prompt, $"the blocked reader saw the end after {clock.Elapsed.TotalMilliseconds:F0} ms: completion must wake it, not its sleep limit");
    }

    [Fact]
    public async Task Complete_ReaderBlockedInAsyncRead_FaultsWithRingCompletedException()
    {
        using RingUnderTest ring = CreateRing(4096);
        ValueTask<int> read = ring.Reader.ReadAsync(new byte[64]);

        ring.Writer.Complete();

        await Assert.ThrowsAsync<RingCompletedException>(async () => await read.AsTask().WaitAsync(Generous));
        Assert.False(await ring.Reader.WaitToReadAsync(Generous).AsTask().WaitAsync(Generous));
    }

    [Fact]
    public virtual void CreateReader_AfterCompletion_ReadsWhatIsLeftThenSeesTheEnd()
    {
        using RingUnderTest ring = CreateRing(4096);
        Assert.True(ring.Writer.TryWrite("left over"u8));
        ring.Writer.Complete("restart");
        ring.Reader.Dispose();

        using RingReader successor = ring.Segment.CreateReader();

        Assert.False(successor.IsCompleted);
        Assert.Equal("left over"u8.ToArray(), ReadOne(successor, 64));
        Assert.True(successor.IsCompleted);
        Assert.Equal("restart", successor.CompletionReason);
    }

    [Fact]
    public void CreateWriter_AfterCompletion_IsCompletedAndWritesThrow()
    {
        using RingUnderTest ring = CreateRing(4096);
        ring.Writer.Complete();
        ring.Writer.Dispose();

        using RingWriter successor = ring.Segment.CreateWriter();

        Assert.True(successor.IsCompleted);
        Assert.Throws<RingCompletedException>(() => successor.TryWrite("x"u8));
        Assert.False(successor.TryComplete());
    }

    [Fact]
    public void Stat_CompletedRing_ReportsItWithTheReason()
    {
        using RingUnderTest ring = CreateRing(4096);
        Assert.False(ring.Segment.GetStatus().IsCompleted);

        ring.Writer.Complete("maintenance");

        SegmentStatus status = RingSegment.Stat(ring.Segment.Path);
        Assert.True(status.IsCompleted);
        Assert.Equal("maintenance", status.CompletionReason);
        Assert.Equal((1, 1), (status.ProducersAlive, status.ConsumersAlive));
    }

    [Fact]
    public void ProducersAliveConsumersAlive_AttachAndDetach_CountTheLiveOnes()
    {
        using RingUnderTest ring = CreateRing(4096);

        Assert.Equal(1, ring.Reader.ProducersAlive);
        Assert.Equal(1, ring.Writer.ConsumersAlive);
        ring.Writer.Dispose();
        Assert.Equal(0, ring.Reader.ProducersAlive);
    }

    // ---- Peer loss within one process: a clean detach (the cross-process tests kill the peer) ----

    [Fact]
    public void Read_PeerLossComplete_ProducerDetachedAndDrained_ThrowsRingPeerLostException()
    {
        using RingUnderTest ring = CreateRing(4096);
        using RingReader watching = ReplaceReader(ring, PeerLoss.Complete);
        Assert.True(ring.Writer.TryWrite("last"u8));
        ring.Writer.Dispose();

        Assert.False(watching.IsCompleted, "the end was reported with a message unread");
        Assert.Equal("last"u8.ToArray(), ReadOne(watching, 64));
        RingPeerLostException lost = Assert.Throws<RingPeerLostException>(() => watching.Read(new byte[64]));
        Assert.Contains("every producer is gone", lost.Reason);
        Assert.True(watching.IsCompleted);
    }

    [Fact]
    public void WaitToRead_PeerLossComplete_SuccessorAttachesAfterTheLoss_GoesOnWithIt()
    {
        using RingUnderTest ring = CreateRing(4096);
        using RingReader watching = ReplaceReader(ring, PeerLoss.Complete);
        ring.Writer.Dispose();
        Assert.Throws<RingPeerLostException>(() => watching.Read(new byte[64]));

        using RingWriter successor = ring.Segment.CreateWriter();
        Assert.True(successor.TryWrite("next shift"u8));

        Assert.True(watching.WaitToRead(Generous), "the reader still reports the loss although a producer is back and wrote");
        Assert.False(watching.IsCompleted);
        Assert.Equal("next shift"u8.ToArray(), ReadOne(watching, 64));
    }

    [Fact]
    public void TryRead_PeerLossWait_ProducerDetached_KeepsWaitingForASuccessor()
    {
        using RingUnderTest ring = CreateRing(4096);
        ring.Writer.Dispose();

        Assert.False(ring.Reader.TryRead(new byte[64], out _, TimeSpan.FromMilliseconds(200)));
        Assert.False(ring.Reader.IsCompleted);
        using RingWriter successor = ring.Segment.CreateWriter();
        Assert.True(successor.TryWrite("back"u8));
        Assert.Equal("back"u8.ToArray(), ReadOne(ring.Reader, 64));
    }

    [Fact]
    public async Task Read_PeerLossComplete_BlockedWhenTheProducerDetaches_EndsPromptly()
    {
        using RingUnderTest ring = CreateRing(4096);
        using RingReader watching = ReplaceReader(ring, PeerLoss.Complete);
        Task<int> blocked = Task.Factory.StartNew(() => watching.Read(new byte[64]), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        WaitFor(() => ring.Segment.GetStatus().ReadersWaiting > 0, "the reader to sleep in the kernel");

        Stopwatch clock = Stopwatch.StartNew();
        ring.Writer.Dispose();
        await Assert.ThrowsAsync<RingPeerLostException>(() => blocked.WaitAsync(Generous));

        Assert.True(clock.Elapsed < Prompt, $"the reader learnt of the detach after {clock.Elapsed.TotalMilliseconds:F0} ms: a clean detach must wake it");
    }

    [Fact]
    public virtual void Write_PeerLossComplete_FullRingAndTheConsumerDetached_ThrowsRingPeerLostException()
    {
        using RingUnderTest ring = CreateRing(4096);
        ring.Writer.Dispose();
        using RingWriter watching = ring.Segment.CreateWriter(WaitStrategy.SpinThenBlock, PeerLoss.Complete);
        long seed = 0;
        Assert.NotEmpty(Fill(watching, 32, ref seed));
        ring.Reader.Dispose();

        Assert.Null(watching.CompletionReason);
        RingPeerLostException lost = Assert.Throws<RingPeerLostException>(() => watching.Write(new byte[32]));
        Assert.Contains("every consumer is gone", lost.Reason);
        Assert.Equal(lost.Reason, watching.CompletionReason);
        Assert.False(watching.WaitToWrite(32, Generous));
    }

    [Fact]
    public void TryRead_PeerLossComplete_NoProducerEverAttached_KeepsWaiting()
    {
        // "Every producer is gone" needs one to have been there: a reader that came first waits, as with PeerLoss.Wait.
        using RingSegment segment = RingSegment.Create(Segments.NewName(), OptionsFor(4096));
        using RingReader first = segment.CreateReader(WaitStrategy.SpinThenBlock, PeerLoss.Complete);

        Assert.False(first.TryRead(new byte[64], out _, TimeSpan.FromMilliseconds(300)));
        Assert.False(first.IsCompleted, "the reader ended for the loss of a producer that never attached");
        Assert.Null(first.CompletionReason);
    }

    [Fact]
    public virtual void TryWrite_PeerLossComplete_FullRingAndNoConsumerEverAttached_KeepsWaiting()
    {
        using RingSegment segment = RingSegment.Create(Segments.NewName(), OptionsFor(4096));
        using RingWriter first = segment.CreateWriter(WaitStrategy.SpinThenBlock, PeerLoss.Complete);
        long seed = 0;
        Assert.NotEmpty(Fill(first, 32, ref seed));

        using CancellationTokenSource giveUp = new(TimeSpan.FromMilliseconds(300));
        Assert.ThrowsAny<OperationCanceledException>(() => first.Write(new byte[32], giveUp.Token)); // not RingPeerLostException
        Assert.False(first.IsCompleted);
    }

    [Fact]
    public void Read_PeerLossComplete_ProducerDetachedAfterAMessageShapedLikeAnEntry_SaysTheLastOneDetached()
    {
        // The data region starts right after the participant table: a scan one entry too far would read this message
        // (a non-zero first word, the producer bit where an entry's roles are) as a dead producer's entry.
        using RingUnderTest ring = CreateRing(4096);
        using RingReader watching = ReplaceReader(ring, PeerLoss.Complete);
        byte[] lookalike = new byte[24];
        lookalike[8] = (byte)RingRole.Producer;
        lookalike[16] = (byte)RingRole.Producer;
        Assert.True(ring.Writer.TryWrite(lookalike));
        ring.Writer.Dispose();

        Assert.Equal(lookalike, ReadOne(watching, 64));
        RingPeerLostException lost = Assert.Throws<RingPeerLostException>(() => watching.Read(new byte[64]));

        Assert.Contains("the last one detached", lost.Reason, StringComparison.Ordinal);
    }

    /// <summary>Swaps the ring's reader for one created with <paramref name="peerLoss"/> (SPSC allows one consumer).</summary>
    private static RingReader ReplaceReader(RingUnderTest ring, PeerLoss peerLoss)
    {
        ring.Reader.Dispose();
        return ring.Segment.CreateReader(WaitStrategy.SpinThenBlock, peerLoss);
    }
}
