using System.Diagnostics;

namespace Ring.Tests;

/// <summary>A segment with one writer and one reader attached, disposed together.</summary>
public sealed class RingUnderTest(RingSegment segment, RingWriter writer, RingReader reader) : IDisposable
{
    public RingSegment Segment { get; } = segment;
    public RingWriter Writer { get; } = writer;
    public RingReader Reader { get; } = reader;

    public void Dispose()
    {
        Writer.Dispose();
        Reader.Dispose();
        Segment.Dispose();
    }
}

/// <summary>
/// What every ring kind promises through <see cref="RingWriter"/> and <see cref="RingReader"/>. Nothing here
/// depends on the record format: a subclass supplies the ring and says how its kind lays out a memory budget
/// and measures room (bytes of records for SPSC, slots for MPMC), and each kind gets the whole suite.
/// </summary>
public abstract partial class RingContractTests : IDisposable
{
    /// <summary>Bounds every wait that should end much sooner, so a bug fails the test instead of hanging it.</summary>
    protected static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    /// <summary>How quickly a cancelled wait must return: a sleeper left to its 1 s futex timeout fails this.</summary>
    protected static readonly TimeSpan Prompt = TimeSpan.FromMilliseconds(500);

    /// <summary>How late a timed-out wait may return: roughly on time, with room for a loaded 2-core machine.</summary>
    protected static readonly TimeSpan Late = TimeSpan.FromSeconds(1);

    protected RingContractTests()
    {
        Segments = new TempSegmentDirectory();
    }

    protected TempSegmentDirectory Segments { get; }

    /// <summary>A new ring of the kind under test, with <paramref name="options"/> (its Kind is the subclass's to set).</summary>
    protected abstract RingUnderTest CreateRing(RingOptions options, WaitStrategy wait = WaitStrategy.SpinThenBlock);

    /// <summary>
    /// Options for a ring of the kind under test whose data region is about <paramref name="bytes"/> bytes and
    /// whose largest message is <paramref name="maxMessage"/> bytes (0: the kind's default). Small budgets make
    /// small rings, so the tests that fill and wrap a ring do it often.
    /// </summary>
    protected abstract RingOptions OptionsFor(long bytes, int maxMessage = 0);

    /// <summary>The ring's room, in the unit its kind measures fullness in: bytes of record space (SPSC) or slots (MPMC).</summary>
    protected abstract long Room(RingSegment segment);

    /// <summary>
    /// The room one message of <paramref name="length"/> payload bytes takes: its aligned record (SPSC) or one
    /// slot (MPMC). <c>RoomFor(0)</c> is the step between two places a message can start.
    /// </summary>
    protected abstract long RoomFor(int length);

    /// <summary>
    /// How <see cref="RingReader.ReadBatch"/> gives room back: false when the whole batch's room comes back once,
    /// after the last handler (SPSC: one head store); true when each message's room comes back as soon as its
    /// handler returned (MPMC: every slot is freed on its own). Either way the message a handler is looking at
    /// is never overwritten.
    /// </summary>
    protected abstract bool ReadBatchFreesRoomPerMessage { get; }

    /// <summary>Whether <see cref="RingWriter.BeginBatch"/> is offered (SPSC); the other kinds throw <see cref="NotSupportedException"/>.</summary>
    protected abstract bool SupportsBatches { get; }

    /// <summary>
    /// Whether <see cref="SegmentStatus.MessagesInRing"/> counts the reader's unread messages (SPSC, MPMC). A broadcast
    /// ring reports the history still intact instead (what a late subscriber could read), which reading does not
    /// shrink; its own tests check that count.
    /// </summary>
    protected virtual bool StatusCountsUnreadMessages => true;

    /// <summary>Checks <see cref="SegmentStatus.MessagesInRing"/> where the kind counts unread messages there.</summary>
    private void AssertUnread(long expected, SegmentStatus status)
    {
        if (StatusCountsUnreadMessages) Assert.Equal(expected, status.MessagesInRing);
    }

    public void Dispose()
    {
        Segments.Dispose();
        GC.SuppressFinalize(this);
    }

    private RingUnderTest CreateRing(long bytes, int maxMessage = 0) => CreateRing(OptionsFor(bytes, maxMessage));

    /// <summary>Attaches a writer and a reader to a new segment; on failure detaches what was attached.</summary>
    protected static RingUnderTest Attach(RingSegment segment, WaitStrategy wait)
    {
        RingWriter? writer = null;
        try
        {
            writer = segment.CreateWriter(wait);
            return new RingUnderTest(segment, writer, segment.CreateReader(wait));
        }
        catch
        {
            writer?.Dispose();
            segment.Dispose();
            throw;
        }
    }

    private static byte[] ReadOne(RingReader reader, int maxLength)
    {
        byte[] buffer = new byte[maxLength];
        Assert.True(reader.TryRead(buffer, out int length), "expected a message, the ring is empty");
        return buffer[..length];
    }

    /// <summary>Writes messages of <paramref name="size"/> until the ring refuses one; returns them in order.</summary>
    private static List<byte[]> Fill(RingWriter writer, int size, ref long seed)
    {
        List<byte[]> written = [];
        while (true)
        {
            byte[] message = Payload.Make(seed, size);
            if (!writer.TryWrite(message)) return written;
            written.Add(message);
            seed++;
            Assert.True(written.Count < 1_000_000, "the ring never reports full");
        }
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        Assert.True(SpinWait.SpinUntil(condition, Generous), $"timed out waiting for {what}");
    }

    // ---- Round trips and limits ----

    [Fact]
    public void TryWriteTryRead_EverySizeUpToMax_RoundTrips()
    {
        using RingUnderTest ring = CreateRing(4096, 300);
        Assert.Equal(300, ring.Writer.MaxMessageLength);
        Assert.Equal(300, ring.Reader.MaxMessageLength);
        byte[] buffer = new byte[300];

        for (int size = 0; size <= 300; size++)
        {
            byte[] message = Payload.Make(size, size);
            Assert.True(ring.Writer.TryWrite(message), $"size {size} refused by an empty ring");
            Assert.True(ring.Reader.TryRead(buffer, out int length), $"size {size} not readable");
            Assert.Equal(size, length);
            Assert.Equal(message, buffer[..length]);
        }
        Assert.False(ring.Reader.TryRead(buffer, out _));
    }

    [Fact]
    public void TryWrite_ZeroLengthMessage_IsReadIntoAnEmptyDestination()
    {
        using RingUnderTest ring = CreateRing(1024);

        Assert.True(ring.Writer.TryWrite(ReadOnlySpan<byte>.Empty));
        Assert.True(ring.Reader.TryRead(Span<byte>.Empty, out int length));

        Assert.Equal(0, length);
        Assert.False(ring.Reader.TryRead(Span<byte>.Empty, out _));
    }

    [Fact]
    public void TryWrite_LongerThanMax_ThrowsArgumentExceptionAndWritesNothing()
    {
        using RingUnderTest ring = CreateRing(4096, 100);

        Assert.Throws<ArgumentException>(() => ring.Writer.TryWrite(new byte[101]));
        Assert.Throws<ArgumentException>(() => ring.Writer.TryWrite(new byte[4096]));
        Assert.Throws<ArgumentException>(() => ring.Writer.TryWrite(new byte[5000], TimeSpan.Zero));
        Assert.Throws<ArgumentException>(() => ring.Writer.Write(new byte[101]));

        Assert.False(ring.Reader.TryRead(new byte[4096], out _));
        Assert.True(ring.Writer.TryWrite(new byte[100]));
    }

    [Theory]
    [InlineData(101)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    [InlineData(int.MaxValue)]
    public void TryClaim_InvalidLength_ThrowsArgumentException(int length)
    {
        using RingUnderTest ring = CreateRing(4096, 100);

        Assert.ThrowsAny<ArgumentException>(() => ring.Writer.TryClaim(length, out _));
        Assert.ThrowsAny<ArgumentException>(() => ring.Writer.WaitToWrite(length, TimeSpan.Zero));
        Assert.ThrowsAny<ArgumentException>(() => ring.Writer.WaitToWriteAsync(length)); // at the call, not in the task
        Assert.ThrowsAny<ArgumentException>(() => ring.Writer.WaitToWriteAsync(length, TimeSpan.Zero));

        Assert.Throws<InvalidOperationException>(() => ring.Writer.Commit()); // no claim was opened
        Assert.False(ring.Reader.TryRead(new byte[4096], out _));
    }

    [Fact]
    public void TryRead_DestinationTooShort_ThrowsAndMessageStaysReadable()
    {
        using RingUnderTest ring = CreateRing(4096, 200);
        byte[] first = Payload.Make(1, 100);
        byte[] second = Payload.Make(2, 5);
        Assert.True(ring.Writer.TryWrite(first));
        Assert.True(ring.Writer.TryWrite(second));

        Assert.Throws<ArgumentException>(() => ring.Reader.TryRead(new byte[99], out _));
        Assert.Throws<ArgumentException>(() => ring.Reader.TryRead(Span<byte>.Empty, out _));
        Assert.Throws<ArgumentException>(() => ring.Reader.TryRead(new byte[0], out _, Generous));

        Assert.Equal(first, ReadOne(ring.Reader, 100));
        Assert.Equal(second, ReadOne(ring.Reader, 200));
        Assert.Equal(2, ring.Segment.GetStatus().MessagesRead);
    }

    [Fact]
    public void TryRead_DestinationTooShortAcrossTheWrap_MessageStaysReadable()
    {
        using RingUnderTest ring = CreateRing(256, 32);
        byte[] buffer = new byte[32];
        long seed = 0;
        // Walk the ring so that messages land at every position, including right after a wrap.
        for (int i = 0; i < 100; i++)
        {
            byte[] message = Payload.Make(seed++, 9 + i % 24);
            Assert.True(ring.Writer.TryWrite(message));
            Assert.Throws<ArgumentException>(() => ring.Reader.TryRead(buffer.AsSpan(0, message.Length - 1), out _));
            Assert.True(ring.Reader.TryRead(buffer, out int length));
            Assert.Equal(message, buffer[..length]);
        }
    }

    // ---- Full ring ----

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(128)]
    public void TryWrite_FullRing_ReturnsFalseUntilAReadFreesRoom(int size)
    {
        using RingUnderTest ring = CreateRing(1024, 128);
        long seed = 0;

        List<byte[]> written = Fill(ring.Writer, size, ref seed);

        // An empty ring takes as many messages as their room fits in its room: bytes for SPSC, slots for MPMC.
        Assert.Equal(Room(ring.Segment) / RoomFor(size), written.Count);
        Assert.False(ring.Writer.TryWrite(Payload.Make(seed, size)));
        Assert.False(ring.Writer.TryClaim(size, out Span<byte> claim));
        Assert.True(claim.IsEmpty);
        Assert.False(ring.Writer.TryWrite(Payload.Make(seed, size), TimeSpan.Zero));
        Assert.False(ring.Writer.WaitToWrite(size, TimeSpan.Zero));
        AssertUnread(written.Count, ring.Segment.GetStatus());

        Assert.Equal(written[0], ReadOne(ring.Reader, 128));
        Assert.True(ring.Writer.WaitToWrite(size, TimeSpan.Zero));
        byte[] extra = Payload.Make(seed, size);
        Assert.True(ring.Writer.TryWrite(extra));
        written.Add(extra);

        foreach (byte[] expected in written.Skip(1)) Assert.Equal(expected, ReadOne(ring.Reader, 128));
        Assert.False(ring.Reader.TryRead(new byte[128], out _));
    }

    [Fact]
    public void TryWrite_FullRingWithTimeout_ReturnsFalseAfterTheTimeout()
    {
        using RingUnderTest ring = CreateRing(1024, 128);
        long seed = 0;
        Fill(ring.Writer, 128, ref seed);

        Stopwatch clock = Stopwatch.StartNew();
        bool written = ring.Writer.TryWrite(new byte[128], TimeSpan.FromMilliseconds(150));
        clock.Stop();

        Assert.False(written);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(149), TimeSpan.FromMilliseconds(150) + Late);
    }

    // ---- Claims ----

    [Fact]
    public void TryClaimCommit_Claimed_PublishesOnlyOnCommit()
    {
        using RingUnderTest ring = CreateRing(4096, 200);
        byte[] message = Payload.Make(7, 150);

        Assert.True(ring.Writer.TryClaim(150, out Span<byte> claim));
        Assert.Equal(150, claim.Length);
        message.CopyTo(claim);
        Assert.False(ring.Reader.TryRead(new byte[200], out _));
        Assert.False(ring.Reader.WaitToRead(TimeSpan.Zero));

        ring.Writer.Commit();

        Assert.Equal(message, ReadOne(ring.Reader, 200));
    }

    [Theory]
    [InlineData(100, 0)]
    [InlineData(100, 1)]
    [InlineData(100, 30)]
    [InlineData(100, 99)]
    [InlineData(100, 100)]
    [InlineData(9, 8)]
    public void Commit_ShorterLength_PublishesThePrefix(int claimed, int committed)
    {
        using RingUnderTest ring = CreateRing(4096, 200);
        byte[] message = Payload.Make(claimed, claimed);

        Assert.True(ring.Writer.TryClaim(claimed, out Span<byte> claim));
        message.CopyTo(claim);
        ring.Writer.Commit(committed);
        Assert.True(ring.Writer.TryWrite("next"u8));

        Assert.Equal(message[..committed], ReadOne(ring.Reader, 200));
        Assert.Equal("next"u8.ToArray(), ReadOne(ring.Reader, 200));
        Assert.Equal(committed + 4, ring.Segment.GetStatus().BytesRead);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(-1)]
    public void Commit_LengthOutsideTheClaim_ThrowsAndKeepsTheClaimOpen(int length)
    {
        using RingUnderTest ring = CreateRing(4096, 200);
        Assert.True(ring.Writer.TryClaim(10, out Span<byte> claim));
        Payload.Fill(3, claim);

        Assert.ThrowsAny<ArgumentException>(() => ring.Writer.Commit(length));
        Assert.False(ring.Reader.TryRead(new byte[200], out _));

        ring.Writer.Commit();
        Assert.Equal(Payload.Make(3, 10), ReadOne(ring.Reader, 200));
    }

    [Fact]
    public void Abort_Claim_ReaderNeverSeesIt()
    {
        using RingUnderTest ring = CreateRing(4096, 200);
        Assert.True(ring.Writer.TryWrite("before"u8));
        Assert.True(ring.Writer.TryClaim(100, out Span<byte> claim));
        Payload.Fill(99, claim);

        ring.Writer.Abort();
        Assert.True(ring.Writer.TryWrite("after"u8));

        Assert.Equal("before"u8.ToArray(), ReadOne(ring.Reader, 200));
        Assert.Equal("after"u8.ToArray(), ReadOne(ring.Reader, 200));
        Assert.False(ring.Reader.TryRead(new byte[200], out _));
        SegmentStatus status = ring.Segment.GetStatus();
        Assert.Equal(2, status.MessagesWritten);
        Assert.Equal(11, status.BytesWritten);
    }

    [Fact]
    public void Abort_ClaimsAtEveryPosition_ReaderSeesOnlyCommittedMessages()
    {
        using RingUnderTest ring = CreateRing(128, 16);
        byte[] buffer = new byte[16];
        for (int i = 0; i < 200; i++)
        {
            Assert.True(ring.Writer.TryClaim(16, out Span<byte> aborted));
            aborted.Fill(0xEE);
            ring.Writer.Abort();
            byte[] message = Payload.Make(i, i % 17);
            Assert.True(ring.Writer.TryWrite(message));
            Assert.True(ring.Reader.TryRead(buffer, out int length));
            Assert.Equal(message, buffer[..length]);
            Assert.False(ring.Reader.TryRead(buffer, out _));
        }
    }

    [Fact]
    public void CommitOrAbort_WithoutClaim_ThrowsInvalidOperationException()
    {
        using RingUnderTest ring = CreateRing(4096);

        Assert.Throws<InvalidOperationException>(() => ring.Writer.Commit());
        Assert.Throws<InvalidOperationException>(() => ring.Writer.Commit(0));
        Assert.Throws<InvalidOperationException>(() => ring.Writer.Abort());
    }

    [Fact]
    public void CommitOrAbort_ClaimAlreadyFinished_ThrowsInvalidOperationException()
    {
        using RingUnderTest ring = CreateRing(4096);
        Assert.True(ring.Writer.TryClaim(8, out _));
        ring.Writer.Commit();

        Assert.Throws<InvalidOperationException>(() => ring.Writer.Commit());
        Assert.Throws<InvalidOperationException>(() => ring.Writer.Abort());

        Assert.True(ring.Writer.TryClaim(8, out _));
        ring.Writer.Abort();

        Assert.Throws<InvalidOperationException>(() => ring.Writer.Abort());
        Assert.Throws<InvalidOperationException>(() => ring.Writer.Commit(8));
        Assert.Equal(1, ring.Segment.GetStatus().MessagesWritten);
        Assert.Equal(8, ReadOne(ring.Reader, 64).Length);
        Assert.False(ring.Reader.TryRead(new byte[64], out _));
        AssertUnread(0, ring.Segment.GetStatus());
    }

    [Fact]
    public void Abort_OnlyClaimInTheRing_WaitToReadReportsNoMessage()
    {
        // "Waits until a message is there": an aborted claim is not a message, so there is nothing to wake for.
        using RingUnderTest ring = CreateRing(4096, 200);
        Assert.True(ring.Writer.TryClaim(10, out Span<byte> claim));
        claim.Fill(0xAB);
        ring.Writer.Abort();

        Assert.False(ring.Reader.WaitToRead(TimeSpan.Zero), "WaitToRead reported a message although only an aborted claim was written");
        Assert.False(ring.Reader.TryRead(new byte[200], out _));
        Assert.False(ring.Reader.WaitToRead(TimeSpan.Zero));
        Assert.True(ring.Writer.TryWrite("real"u8));
        Assert.True(ring.Reader.WaitToRead(TimeSpan.Zero));
        Assert.Equal("real"u8.ToArray(), ReadOne(ring.Reader, 200));
    }

    [Fact]
    public void TryWrite_WhileClaimOutstanding_ThrowsInvalidOperationException()
    {
        using RingUnderTest ring = CreateRing(4096);
        Assert.True(ring.Writer.TryClaim(8, out Span<byte> claim));
        "claimed!"u8.CopyTo(claim);

        Assert.Throws<InvalidOperationException>(() => ring.Writer.TryWrite("other"u8));
        Assert.Throws<InvalidOperationException>(() => ring.Writer.TryClaim(4, out _));
        Assert.Throws<InvalidOperationException>(() => ring.Writer.TryWrite("other"u8, TimeSpan.Zero));

        ring.Writer.Commit();
        Assert.True(ring.Writer.TryWrite("other"u8));
        Assert.Equal("claimed!"u8.ToArray(), ReadOne(ring.Reader, 64));
        Assert.Equal("other"u8.ToArray(), ReadOne(ring.Reader, 64));
    }

    // ---- Zero-copy reads ----

    [Fact]
    public void TryReadHandler_Message_IsHandedOverInPlace()
    {
        using RingUnderTest ring = CreateRing(4096, 200);
        byte[] message = Payload.Make(5, 123);
        Assert.True(ring.Writer.TryWrite(message));
        byte[]? seen = null;

        Assert.True(ring.Reader.TryRead(m => seen = m.ToArray()));

        Assert.Equal(message, seen);
        bool called = false;
        Assert.False(ring.Reader.TryRead(_ => called = true));
        Assert.False(called);
    }

    [Fact]
    public void TryReadHandler_NullHandler_ThrowsArgumentNullException()
    {
        using RingUnderTest ring = CreateRing(4096);
        Assert.True(ring.Writer.TryWrite("x"u8));

        Assert.Throws<ArgumentNullException>(() => ring.Reader.TryRead((RingMessageHandler)null!));
        Assert.Throws<ArgumentNullException>(() => ring.Reader.ReadBatch(null!, 1));

        Assert.Equal("x"u8.ToArray(), ReadOne(ring.Reader, 8));
    }

    [Fact]
    public async Task Write_ReaderAsleep_CountsAWake()
    {
        using RingUnderTest ring = CreateRing(OptionsFor(4096), WaitStrategy.Block);
        SegmentStatus before = ring.Segment.GetStatus();
        Task<int> blocked = Task.Factory.StartNew(() => ring.Reader.Read(new byte[64]), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        // A counted sleep is past its re-check: the registration stays until the futex returns, so the write must wake it.
        WaitFor(() => ring.Segment.GetStatus().Sleeps > before.Sleeps, "the reader to go to sleep");

        Assert.True(ring.Writer.TryWrite("x"u8));

        Assert.Equal(1, await blocked.WaitAsync(Generous));
        Assert.True(ring.Segment.GetStatus().Wakes > before.Wakes, "the write that woke the reader was not counted in Wakes");
    }

    [Fact]
    public void ReadBatch_Messages_CountsMessagesAndBytesRead()
    {
        using RingUnderTest ring = CreateRing(4096, 64);
        Assert.True(ring.Writer.TryWrite(new byte[3]));
        Assert.True(ring.Writer.TryWrite(new byte[5]));

        Assert.Equal(2, ring.Reader.ReadBatch(_ => { }, 10));

        SegmentStatus status = ring.Segment.GetStatus();
        Assert.Equal((2L, 8L), (status.MessagesRead, status.BytesRead));
    }

    [Fact]
    public void ReadBatch_EmptyRing_CountsOneEmptyEvent()
    {
        using RingUnderTest ring = CreateRing(4096, 64);
        long before = ring.Segment.GetStatus().EmptyEvents;

        Assert.Equal(0, ring.Reader.ReadBatch(_ => { }, 10));

        Assert.Equal(before + 1, ring.Segment.GetStatus().EmptyEvents);
    }

    [Fact]
    public void ReadBatch_Limit_IsRespectedAndOrderKept()
    {
        using RingUnderTest ring = CreateRing(4096, 64);
        for (int i = 0; i < 10; i++) Assert.True(ring.Writer.TryWrite(Payload.Make(i, i * 5)));
        List<byte[]> seen = [];

        Assert.Equal(3, ring.Reader.ReadBatch(m => seen.Add(m.ToArray()), 3));
        Assert.Equal(3, seen.Count);
        AssertUnread(7, ring.Segment.GetStatus());
        Assert.Equal(1, ring.Reader.ReadBatch(m => seen.Add(m.ToArray()), 1));
        Assert.Equal(6, ring.Reader.ReadBatch(m => seen.Add(m.ToArray()), 100));
        Assert.Equal(0, ring.Reader.ReadBatch(m => seen.Add(m.ToArray()), 100));

        Assert.Equal(Enumerable.Range(0, 10).Select(i => Payload.Make(i, i * 5)), seen);
        AssertUnread(0, ring.Segment.GetStatus());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void ReadBatch_NonPositiveLimit_ThrowsArgumentOutOfRange(int limit)
    {
        using RingUnderTest ring = CreateRing(4096);
        Assert.True(ring.Writer.TryWrite("x"u8));

        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Reader.ReadBatch(_ => { }, limit));

        Assert.Equal("x"u8.ToArray(), ReadOne(ring.Reader, 8));
    }

    [Fact]
    public void ReadBatch_WriterWritesDuringTheBatch_HandledMessageIsNeverOverwritten()
    {
        // Handlers read in place: the room of the message being handled must not be handed back to the writer
        // while its handler runs. SPSC gives the batch's room back only at the end; MPMC frees each message's
        // slot when its handler returns, so from the second message on one slot is free.
        using RingUnderTest ring = CreateRing(256, 32);
        long seed = 0;
        List<byte[]> written = Fill(ring.Writer, 32, ref seed);
        Assert.True(written.Count >= 2, "the test needs a ring of at least two messages");
        List<byte[]> seen = [];
        List<byte[]> writtenDuring = [];

        int handled = ring.Reader.ReadBatch(m =>
        {
            byte[] copy = m.ToArray();
            byte[] extra = Payload.Make(seed, 32);
            bool wrote = ring.Writer.TryWrite(extra);
            bool expected = ReadBatchFreesRoomPerMessage && seen.Count > 0;
            Assert.True(wrote == expected, $"handling message {seen.Count}: TryWrite returned {wrote}, expected {expected}");
            if (wrote)
            {
                writtenDuring.Add(extra);
                seed++;
            }
            Assert.Equal(copy, m.ToArray());
            seen.Add(copy);
        }, written.Count);

        Assert.Equal(written.Count, handled);
        Assert.Equal(written, seen);
        Assert.Equal(ReadBatchFreesRoomPerMessage ? written.Count - 1 : 0, writtenDuring.Count);
        byte[] last = Payload.Make(seed, 32);
        Assert.True(ring.Writer.TryWrite(last)); // the last handled message's room is back too
        foreach (byte[] expected in writtenDuring.Append(last)) Assert.Equal(expected, ReadOne(ring.Reader, 32));
        Assert.False(ring.Reader.TryRead(new byte[32], out _));
    }

    [Fact]
    public void TryReadHandler_HandlerThrows_MessageConsumedAndNextReadGetsTheNext()
    {
        using RingUnderTest ring = CreateRing(4096, 64);
        for (int i = 0; i < 3; i++) Assert.True(ring.Writer.TryWrite(Payload.Make(i, 10)));

        InvalidDataException thrown = Assert.Throws<InvalidDataException>(
            () => ring.Reader.TryRead(_ => throw new InvalidDataException("handler failed")));

        Assert.Equal("handler failed", thrown.Message);
        Assert.Equal(Payload.Make(1, 10), ReadOne(ring.Reader, 64));
        SegmentStatus status = ring.Segment.GetStatus();
        Assert.Equal(2, status.MessagesRead);
        AssertUnread(1, status);
    }

    [Fact]
    public void ReadBatch_HandlerThrowsMidBatch_HandledMessagesConsumedRestKept()
    {
        using RingUnderTest ring = CreateRing(4096, 64);
        for (int i = 0; i < 5; i++) Assert.True(ring.Writer.TryWrite(Payload.Make(i, 10)));
        List<byte[]> seen = [];

        Assert.Throws<InvalidDataException>(() => ring.Reader.ReadBatch(m =>
        {
            seen.Add(m.ToArray());
            if (seen.Count == 2) throw new InvalidDataException();
        }, 5));

        Assert.Equal([Payload.Make(0, 10), Payload.Make(1, 10)], seen);
        AssertUnread(3, ring.Segment.GetStatus());
        Assert.Equal(Payload.Make(2, 10), ReadOne(ring.Reader, 64));
        Assert.Equal(2, ring.Reader.ReadBatch(m => seen.Add(m.ToArray()), 5));
        Assert.Equal(Payload.Make(4, 10), seen[^1]);
    }

    // ---- Waiting ----

    [Fact]
    public void WaitToRead_EmptyRingWithTimeout_ReturnsFalseAfterRoughlyTheTimeout()
    {
        using RingUnderTest ring = CreateRing(4096);
        TimeSpan timeout = TimeSpan.FromMilliseconds(200);

        Stopwatch clock = Stopwatch.StartNew();
        bool ready = ring.Reader.WaitToRead(timeout);
        clock.Stop();

        Assert.False(ready);
        Assert.InRange(clock.Elapsed, timeout - TimeSpan.FromMilliseconds(1), timeout + Late);
    }

    [Fact]
    public void TryReadWithTimeout_EmptyRing_ReturnsFalseAfterRoughlyTheTimeout()
    {
        using RingUnderTest ring = CreateRing(4096);
        TimeSpan timeout = TimeSpan.FromMilliseconds(150);

        Stopwatch clock = Stopwatch.StartNew();
        bool read = ring.Reader.TryRead(new byte[64], out _, timeout);
        clock.Stop();

        Assert.False(read);
        Assert.InRange(clock.Elapsed, timeout - TimeSpan.FromMilliseconds(1), timeout + Late);
    }

    [Fact]
    public void WaitToRead_ZeroTimeout_AnswersAtOnce()
    {
        using RingUnderTest ring = CreateRing(4096);

        Assert.False(ring.Reader.WaitToRead(TimeSpan.Zero));
        Assert.True(ring.Writer.TryWrite("x"u8));
        Assert.True(ring.Reader.WaitToRead(TimeSpan.Zero));
        Assert.True(ring.Reader.WaitToRead(TimeSpan.Zero)); // waiting does not consume
        Assert.Equal("x"u8.ToArray(), ReadOne(ring.Reader, 8));
    }

    [Fact]
    public void Waits_NegativeTimeout_ThrowArgumentOutOfRange()
    {
        using RingUnderTest ring = CreateRing(4096);
        TimeSpan negative = TimeSpan.FromMilliseconds(-2);

        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Reader.WaitToRead(negative));
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Reader.TryRead(new byte[8], out _, negative));
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Writer.WaitToWrite(1, negative));
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Writer.TryWrite("x"u8, negative));
    }

    [Theory]
    [InlineData(WaitStrategy.BusySpin)]
    [InlineData(WaitStrategy.SpinThenYield)]
    [InlineData(WaitStrategy.SpinThenBlock)]
    [InlineData(WaitStrategy.Block)]
    public async Task TryReadWithTimeout_MessageFromAnotherThread_IsReturned(WaitStrategy wait)
    {
        using RingUnderTest ring = CreateRing(OptionsFor(4096), wait);
        long emptyBefore = ring.Segment.GetStatus().EmptyEvents;
        byte[] message = Payload.Make(11, 77);
        Task writer = Task.Run(() =>
        {
            // Write only once the reader has found the ring empty, so the read really has to wait.
            WaitFor(() => ring.Segment.GetStatus().EmptyEvents > emptyBefore, "the reader to find the ring empty");
            Assert.True(ring.Writer.TryWrite(message));
        });

        byte[] buffer = new byte[128];
        bool read = ring.Reader.TryRead(buffer, out int length, Generous);

        Assert.True(read);
        Assert.Equal(message, buffer[..length]);
        await writer.WaitAsync(Generous);
    }

    [Fact]
    public async Task Write_FullRing_CompletesWhenAReaderThreadDrains()
    {
        using RingUnderTest ring = CreateRing(1024, 100);
        long seed = 0;
        List<byte[]> written = Fill(ring.Writer, 100, ref seed);
        long fullBefore = ring.Segment.GetStatus().FullEvents;
        byte[] extra = Payload.Make(seed, 100);

        Task blocked = Task.Factory.StartNew(() => ring.Writer.Write(extra), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        WaitFor(() => ring.Segment.GetStatus().FullEvents > fullBefore, "the writer to find the ring full");
        Assert.False(blocked.IsCompleted, "Write returned although the ring is full");

        Task<List<byte[]>> drain = Task.Run(() =>
        {
            List<byte[]> read = [];
            byte[] buffer = new byte[100];
            while (read.Count < written.Count + 1)
            {
                Assert.True(ring.Reader.TryRead(buffer, out int length, Generous), "the blocked write never arrived");
                read.Add(buffer[..length]);
            }
            return read;
        });

        await blocked.WaitAsync(Generous);
        List<byte[]> all = await drain.WaitAsync(Generous);
        Assert.Equal(written.Append(extra), all);
    }

    [Theory]
    [InlineData(WaitStrategy.BusySpin)]
    [InlineData(WaitStrategy.SpinThenYield)]
    [InlineData(WaitStrategy.SpinThenBlock)]
    [InlineData(WaitStrategy.Block)]
    public async Task Read_CancelledWhileBlocked_ThrowsOperationCanceledPromptly(WaitStrategy wait)
    {
        using RingUnderTest ring = CreateRing(OptionsFor(4096), wait);
        using CancellationTokenSource cancel = new();
        SegmentStatus before = ring.Segment.GetStatus();

        Task<int> blocked = Task.Factory.StartNew(() => ring.Reader.Read(new byte[64], cancel.Token), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (wait is WaitStrategy.SpinThenBlock or WaitStrategy.Block)
            WaitFor(() => ring.Segment.GetStatus().Sleeps > before.Sleeps, "the reader to sleep in the kernel");
        else
            WaitFor(() => ring.Segment.GetStatus().EmptyEvents > before.EmptyEvents, "the reader to find the ring empty");
        Assert.False(blocked.IsCompleted);

        Stopwatch clock = Stopwatch.StartNew();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked.WaitAsync(Generous));
        clock.Stop();

        Assert.True(clock.Elapsed < Prompt, $"cancellation took {clock.Elapsed.TotalMilliseconds:F0} ms");
        // The reader is still usable afterwards.
        Assert.True(ring.Writer.TryWrite("after"u8));
        Assert.Equal("after"u8.ToArray(), ReadOne(ring.Reader, 64));
    }

    [Theory]
    [InlineData(WaitStrategy.BusySpin)]
    [InlineData(WaitStrategy.SpinThenYield)]
    [InlineData(WaitStrategy.SpinThenBlock)]
    [InlineData(WaitStrategy.Block)]
    public async Task Write_CancelledWhileBlocked_ThrowsOperationCanceledPromptly(WaitStrategy wait)
    {
        using RingUnderTest ring = CreateRing(OptionsFor(1024, 100), wait);
        long seed = 0;
        List<byte[]> written = Fill(ring.Writer, 100, ref seed);
        using CancellationTokenSource cancel = new();
        SegmentStatus before = ring.Segment.GetStatus();

        Task blocked = Task.Factory.StartNew(() => ring.Writer.Write(new byte[100], cancel.Token), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (wait is WaitStrategy.SpinThenBlock or WaitStrategy.Block)
            WaitFor(() => ring.Segment.GetStatus().Sleeps > before.Sleeps, "the writer to sleep in the kernel");
        else
            WaitFor(() => ring.Segment.GetStatus().FullEvents > before.FullEvents, "the writer to find the ring full");
        Assert.False(blocked.IsCompleted);

        Stopwatch clock = Stopwatch.StartNew();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked.WaitAsync(Generous));
        clock.Stop();

        Assert.True(clock.Elapsed < Prompt, $"cancellation took {clock.Elapsed.TotalMilliseconds:F0} ms");
        foreach (byte[] expected in written) Assert.Equal(expected, ReadOne(ring.Reader, 100));
        Assert.False(ring.Reader.TryRead(new byte[100], out _));
    }

    [Fact]
    public void ReadAndWrite_AlreadyCancelledToken_ThrowWithoutWaiting()
    {
        using RingUnderTest ring = CreateRing(1024, 100);
        using CancellationTokenSource cancel = new();
        cancel.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => ring.Reader.Read(new byte[100], cancel.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => ring.Reader.WaitToRead(Generous, cancel.Token));
        long seed = 0;
        Fill(ring.Writer, 100, ref seed);
        Assert.ThrowsAny<OperationCanceledException>(() => ring.Writer.Write(new byte[100], cancel.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => ring.Writer.WaitToWrite(100, Generous, cancel.Token));
    }

    // ---- Async ----

    [Fact]
    public async Task AsyncCalls_DataOrRoomThere_CompleteSynchronously()
    {
        using RingUnderTest ring = CreateRing(4096, 200);
        byte[] message = Payload.Make(1, 150);

        ValueTask<bool> canWrite = ring.Writer.WaitToWriteAsync(150, Generous);
        Assert.True(canWrite.IsCompletedSuccessfully);
        Assert.True(await canWrite);

        ValueTask write = ring.Writer.WriteAsync(message);
        Assert.True(write.IsCompletedSuccessfully);
        await write;

        ValueTask<bool> canRead = ring.Reader.WaitToReadAsync(Generous);
        Assert.True(canRead.IsCompletedSuccessfully);
        Assert.True(await canRead);

        byte[] buffer = new byte[200];
        ValueTask<int> read = ring.Reader.ReadAsync(buffer);
        Assert.True(read.IsCompletedSuccessfully);
        Assert.Equal(150, await read);
        Assert.Equal(message, buffer[..150]);
    }

    [Fact]
    public async Task ReadAsync_EmptyRing_CompletesWhenAMessageArrives()
    {
        using RingUnderTest ring = CreateRing(4096, 200);
        byte[] buffer = new byte[200];

        ValueTask<int> pending = ring.Reader.ReadAsync(buffer);
        Assert.False(pending.IsCompleted);
        byte[] message = Payload.Make(2, 99);
        Assert.True(ring.Writer.TryWrite(message));

        int length = await pending.AsTask().WaitAsync(Generous);
        Assert.Equal(message, buffer[..length]);
    }

    [Fact]
    public async Task WriteAsync_FullRing_CompletesWhenRoomIsFreed()
    {
        using RingUnderTest ring = CreateRing(1024, 100);
        long seed = 0;
        List<byte[]> written = Fill(ring.Writer, 100, ref seed);
        byte[] extra = Payload.Make(seed, 100);

        ValueTask pending = ring.Writer.WriteAsync(extra);
        Assert.False(pending.IsCompleted);
        Assert.Equal(written[0], ReadOne(ring.Reader, 100));

        await pending.AsTask().WaitAsync(Generous);
        foreach (byte[] expected in written.Skip(1).Append(extra)) Assert.Equal(expected, ReadOne(ring.Reader, 100));
    }

    [Fact]
    public async Task WaitToReadAsync_EmptyRingWithTimeout_ReturnsFalse()
    {
        using RingUnderTest ring = CreateRing(4096);

        Stopwatch clock = Stopwatch.StartNew();
        bool ready = await ring.Reader.WaitToReadAsync(TimeSpan.FromMilliseconds(100)).AsTask().WaitAsync(Generous);

        Assert.False(ready);
        // The wait runs on the thread pool, which a busy test run may be slow to give a thread.
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(99), Generous);
    }

    [Fact]
    public async Task WaitToWriteAsync_FullRingWithTimeout_ReturnsFalse()
    {
        using RingUnderTest ring = CreateRing(1024, 100);
        long seed = 0;
        Fill(ring.Writer, 100, ref seed);

        bool ready = await ring.Writer.WaitToWriteAsync(100, TimeSpan.FromMilliseconds(50)).AsTask().WaitAsync(Generous);

        Assert.False(ready);
    }

    [Fact]
    public async Task ReadAsync_Cancelled_ThrowsOperationCanceled()
    {
        using RingUnderTest ring = CreateRing(4096);
        using CancellationTokenSource cancel = new();

        ValueTask<int> pending = ring.Reader.ReadAsync(new byte[64], cancel.Token);
        Stopwatch clock = Stopwatch.StartNew();
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.AsTask().WaitAsync(Generous));
        Assert.True(clock.Elapsed < Late, $"cancellation took {clock.Elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task AsyncPingPong_ManyMessages_ArriveInOrder()
    {
        using RingUnderTest ring = CreateRing(256, 32);
        const int Count = 5000;
        Task producer = Task.Run(async () =>
        {
            for (int i = 0; i < Count; i++) await ring.Writer.WriteAsync(Payload.Make(i, i % 33));
        });
        byte[] buffer = new byte[32];
        for (int i = 0; i < Count; i++)
        {
            int length = await ring.Reader.ReadAsync(buffer).AsTask().WaitAsync(Generous);
            Assert.Equal(Payload.Make(i, i % 33), buffer[..length]);
        }
        await producer.WaitAsync(Generous);
    }

    // ---- Dispose ----

    [Fact]
    public async Task Writer_Disposed_ThrowsObjectDisposedException()
    {
        using RingUnderTest ring = CreateRing(4096);
        ring.Writer.Dispose();
        ring.Writer.Dispose(); // idempotent

        Assert.Throws<ObjectDisposedException>(() => ring.Writer.TryWrite("x"u8));
        Assert.Throws<ObjectDisposedException>(() => ring.Writer.TryWrite("x"u8, Generous));
        Assert.Throws<ObjectDisposedException>(() => ring.Writer.Write("x"u8));
        Assert.Throws<ObjectDisposedException>(() => ring.Writer.TryClaim(1, out _));
        Assert.Throws<ObjectDisposedException>(() => ring.Writer.Commit());
        Assert.Throws<ObjectDisposedException>(() => ring.Writer.Commit(0));
        Assert.Throws<ObjectDisposedException>(() => ring.Writer.Abort());
        Assert.Throws<ObjectDisposedException>(() => ring.Writer.WaitToWrite(1, Generous));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await ring.Writer.WriteAsync(new byte[1]));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await ring.Writer.WaitToWriteAsync(1, Generous));
    }

    [Fact]
    public async Task Reader_Disposed_ThrowsObjectDisposedException()
    {
        using RingUnderTest ring = CreateRing(4096);
        Assert.True(ring.Writer.TryWrite("x"u8));
        ring.Reader.Dispose();
        ring.Reader.Dispose(); // idempotent

        Assert.Throws<ObjectDisposedException>(() => ring.Reader.TryRead(new byte[8], out _));
        Assert.Throws<ObjectDisposedException>(() => ring.Reader.TryRead(new byte[8], out _, Generous));
        Assert.Throws<ObjectDisposedException>(() => ring.Reader.Read(new byte[8]));
        Assert.Throws<ObjectDisposedException>(() => ring.Reader.TryRead(_ => { }));
        Assert.Throws<ObjectDisposedException>(() => ring.Reader.ReadBatch(_ => { }, 1));
        Assert.Throws<ObjectDisposedException>(() => ring.Reader.WaitToRead(Generous));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await ring.Reader.ReadAsync(new byte[8]));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await ring.Reader.WaitToReadAsync(Generous));
    }

    [Fact]
    public void Writer_DisposedWithOpenClaim_ReaderSeesOnlyCommittedMessages()
    {
        using RingUnderTest ring = CreateRing(4096);
        Assert.True(ring.Writer.TryWrite("one"u8));
        Assert.True(ring.Writer.TryClaim(10, out Span<byte> claim));
        claim.Fill(1);

        ring.Writer.Dispose();

        Assert.Equal("one"u8.ToArray(), ReadOne(ring.Reader, 64));
        Assert.False(ring.Reader.TryRead(new byte[64], out _));
    }

    // ---- Concurrency ----

    [Theory]
    [InlineData(WaitStrategy.BusySpin)]
    [InlineData(WaitStrategy.SpinThenYield)]
    [InlineData(WaitStrategy.SpinThenBlock)]
    [InlineData(WaitStrategy.Block)]
    public async Task WriteRead_ProducerAndConsumerThreads_DeliverEveryMessageInOrder(WaitStrategy wait)
    {
        const int Count = 200_000;
        // 64 KiB: the ring still wraps ~130 times and fills often, and a spinning side starved of its core by a
        // busy machine costs a time slice per fill rather than per few messages.
        using RingUnderTest ring = CreateRing(OptionsFor(64 * 1024, 64), wait);
        using CancellationTokenSource timeout = new(TimeSpan.FromSeconds(30));

        Task producer = Task.Factory.StartNew(() =>
        {
            byte[] message = new byte[64];
            for (long seq = 0; seq < Count; seq++)
            {
                int length = Encode(seq, message);
                ring.Writer.Write(message.AsSpan(0, length), timeout.Token);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        Task consumer = Task.Factory.StartNew(() =>
        {
            byte[] buffer = new byte[64];
            for (long seq = 0; seq < Count; seq++)
            {
                int length = ring.Reader.Read(buffer, timeout.Token);
                Verify(seq, buffer.AsSpan(0, length));
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        await Task.WhenAll(producer, consumer).WaitAsync(TimeSpan.FromSeconds(40));
        SegmentStatus status = ring.Segment.GetStatus();
        Assert.Equal(Count, status.MessagesWritten);
        Assert.Equal(Count, status.MessagesRead);
        AssertUnread(0, status);
    }

    [Fact]
    public async Task ClaimCommitAndReadBatch_ProducerAndConsumerThreads_DeliverEveryMessageInOrder()
    {
        const int Count = 100_000;
        using RingUnderTest ring = CreateRing(OptionsFor(2048, 64));
        using CancellationTokenSource timeout = new(TimeSpan.FromSeconds(30));

        Task producer = Task.Factory.StartNew(() =>
        {
            byte[] scratch = new byte[64];
            for (long seq = 0; seq < Count; seq++)
            {
                int length = Encode(seq, scratch);
                Span<byte> claim;
                while (!ring.Writer.TryClaim(64, out claim))
                    Assert.True(ring.Writer.WaitToWrite(64, Generous, timeout.Token), "no room within the timeout");
                scratch.AsSpan(0, length).CopyTo(claim);
                if (seq % 7 == 0)
                {
                    ring.Writer.Abort(); // dropped, then written again with a plain write
                    Assert.True(ring.Writer.TryWrite(scratch.AsSpan(0, length), Generous, timeout.Token));
                }
                else
                {
                    ring.Writer.Commit(length);
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        Task consumer = Task.Factory.StartNew(() =>
        {
            long next = 0;
            while (next < Count)
            {
                Assert.True(ring.Reader.WaitToRead(Generous, timeout.Token), $"message {next} never arrived");
                ring.Reader.ReadBatch(m => Verify(next++, m), 16);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        await Task.WhenAll(producer, consumer).WaitAsync(TimeSpan.FromSeconds(40));
        AssertUnread(0, ring.Segment.GetStatus());
    }

    /// <summary>An 8-byte sequence number, then 0..56 bytes derived from it.</summary>
    private static int Encode(long seq, Span<byte> destination)
    {
        int length = 8 + (int)(seq % 57);
        BitConverter.TryWriteBytes(destination, seq);
        for (int i = 8; i < length; i++) destination[i] = (byte)(seq * 31 + i);
        return length;
    }

    private static void Verify(long expectedSeq, ReadOnlySpan<byte> message)
    {
        if (message.Length < 8) Assert.Fail($"message {expectedSeq} has {message.Length} bytes");
        long seq = BitConverter.ToInt64(message);
        if (seq != expectedSeq) Assert.Fail($"expected message {expectedSeq}, got {seq}");
        if (message.Length != 8 + (int)(seq % 57)) Assert.Fail($"message {seq} has length {message.Length}");
        for (int i = 8; i < message.Length; i++)
        {
            if (message[i] != (byte)(seq * 31 + i)) Assert.Fail($"message {seq} byte {i} is {message[i]}");
        }
    }

    // ---- Wrap-around ----

    [Theory]
    [InlineData(64)]
    [InlineData(128)]
    [InlineData(256)]
    public void WriteRead_EverySizeFromEveryStartPosition_WrapsWithEveryByteIntact(int bytes)
    {
        int max = bytes / 8;
        byte[] buffer = new byte[max];
        long seed = 0;
        long positions;
        using (RingUnderTest probe = CreateRing(bytes, max)) positions = Room(probe.Segment) / RoomFor(0);
        Assert.True(positions >= 2, $"a {bytes}-byte ring has {positions} start positions");

        for (int size = 0; size <= max; size++)
        {
            for (int shift = 0; shift < positions; shift++)
            {
                // A fresh ring moved along by `shift` empty messages, so every size starts at every position
                // (every 8-byte offset for SPSC, every slot for MPMC).
                using RingUnderTest ring = CreateRing(bytes, max);
                Assert.Equal(max, ring.Writer.MaxMessageLength);
                long room = Room(ring.Segment);
                for (int i = 0; i < shift; i++)
                {
                    Assert.True(ring.Writer.TryWrite(ReadOnlySpan<byte>.Empty));
                    Assert.True(ring.Reader.TryRead(buffer, out int empty));
                    Assert.Equal(0, empty);
                }

                long moved = 0;
                while (moved < 3L * room)
                {
                    List<byte[]> batch = Fill(ring.Writer, size, ref seed);
                    Assert.NotEmpty(batch);
                    foreach (byte[] expected in batch)
                    {
                        Assert.True(ring.Reader.TryRead(buffer, out int length));
                        if (!expected.AsSpan().SequenceEqual(buffer.AsSpan(0, length)))
                            Assert.Fail($"ring of {bytes} bytes, size {size}, shift {shift}: message differs");
                        moved += RoomFor(length);
                    }
                    Assert.False(ring.Reader.TryRead(buffer, out _));
                }
                AssertUnread(0, ring.Segment.GetStatus());
            }
        }
    }

    [Theory]
    [InlineData(64)]
    [InlineData(128)]
    [InlineData(256)]
    public void WriteRead_MixedSizesKeptPartlyFull_EveryByteIntact(int bytes)
    {
        using RingUnderTest ring = CreateRing(bytes, bytes / 8);
        Bounded.Run(() => StepRandomly(ring, new Random(bytes)));
    }

    private static void StepRandomly(RingUnderTest ring, Random random)
    {
        int max = ring.Writer.MaxMessageLength;
        Queue<byte[]> inFlight = new();
        byte[] buffer = new byte[max];
        long seed = 0;

        for (int step = 0; step < 20_000; step++)
        {
            if (random.Next(3) != 0)
            {
                byte[] message = Payload.Make(seed, random.Next(max + 1));
                if (ring.Writer.TryWrite(message))
                {
                    inFlight.Enqueue(message);
                    seed++;
                }
                else
                {
                    Assert.NotEmpty(inFlight); // an empty ring always has room for one message
                }
            }
            else if (inFlight.Count > 0)
            {
                Assert.True(ring.Reader.TryRead(buffer, out int length));
                Assert.Equal(inFlight.Dequeue(), buffer[..length]);
            }
            else
            {
                Assert.False(ring.Reader.TryRead(buffer, out _));
            }
        }
    }

    [Fact]
    public void WaitToRead_ManyTimedWaitsOnOneLongLivedToken_LeaveNoRegistrationBehind()
    {
        // A wait that sleeps registers on the token; one that forgot to dispose its registration would leave a node in
        // the token's callback list per wait, and a fresh node costs an allocation where a disposed one is reused.
        using RingUnderTest ring = CreateRing(OptionsFor(4096), WaitStrategy.Block);
        using CancellationTokenSource longLived = new();
        Assert.False(ring.Reader.WaitToRead(TimeSpan.FromMilliseconds(1), longLived.Token)); // JIT, first node

        long before = GC.GetAllocatedBytesForCurrentThread();
        int woken = 0;
        for (int i = 0; i < 200; i++)
        {
            if (ring.Reader.WaitToRead(TimeSpan.FromMilliseconds(1), longLived.Token)) woken++;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, woken);
        Assert.True(allocated < 200 * 16, $"200 timed waits allocated {allocated} bytes: registrations are being left on the token");
    }
}
