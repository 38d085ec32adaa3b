using System.Buffers.Binary;

namespace Ring.Tests;

/// <summary>
/// What only an MPMC ring promises: any number of writers and readers on one ring, each message delivered
/// exactly once, each producer's messages in the order it wrote them, claims of one writer never in the way of
/// the others for longer than the claim is open.
/// </summary>
public sealed class MpmcRingTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private RingSegment CreateSegment(int slots, int maxMessage = 32) =>
        RingSegment.Create(_dir.NewName("mpmc"), new RingOptions { Kind = RingKind.Mpmc, SlotCount = slots, MaxMessageLength = maxMessage });

    private static byte[] ReadOne(RingReader reader, int maxLength = 64)
    {
        byte[] buffer = new byte[maxLength];
        Assert.True(reader.TryRead(buffer, out int length), "expected a message, the ring is empty");
        return buffer[..length];
    }

    // ---- Many writers and readers on threads ----

    public static TheoryData<int, int, int, WaitStrategy> ManyToMany => new()
    {
        // producers, consumers, messages per producer, wait strategy
        { 2, 2, 200_000, WaitStrategy.SpinThenBlock },
        { 4, 4, 200_000, WaitStrategy.SpinThenBlock },
        { 2, 2, 50_000, WaitStrategy.SpinThenYield },
        { 1, 4, 100_000, WaitStrategy.SpinThenBlock },
        { 4, 1, 50_000, WaitStrategy.SpinThenBlock },
    };

    [Theory]
    [MemberData(nameof(ManyToMany))]
    public async Task WriteRead_ProducerAndConsumerThreads_DeliverEveryMessageOnceInPerProducerOrder(int producers, int consumers, int perProducer, WaitStrategy wait)
    {
        // 64 slots: the ring fills and drains all the time, and every slot is reused thousands of times.
        using RingSegment segment = CreateSegment(64);
        using Exchange exchange = new(producers, perProducer);
        RingWriter[] writers = [.. Enumerable.Range(0, producers).Select(_ => segment.CreateWriter(wait))];
        RingReader[] readers = [.. Enumerable.Range(0, consumers).Select(_ => segment.CreateReader(wait))];
        try
        {
            using Barrier start = new(producers + consumers);
            Task[] tasks =
            [
                .. writers.Select((writer, id) => Run(start, () => exchange.Produce(writer, id))),
                .. readers.Select(reader => Run(start, () => exchange.Consume(reader, batch: false))),
            ];
            await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(40));
        }
        finally
        {
            foreach (RingWriter writer in writers) writer.Dispose();
            foreach (RingReader reader in readers) reader.Dispose();
        }

        exchange.AssertEveryMessageOnce();
        SegmentStatus status = segment.GetStatus();
        Assert.Equal((exchange.Total, exchange.Total, 0L), (status.MessagesWritten, status.MessagesRead, status.MessagesInRing));
        Assert.Equal((0L, 0L), (status.Recoveries, status.LostInDelivery)); // nobody died: nothing was recovered
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    public async Task ClaimAbortAndReadBatch_ProducerAndConsumerThreads_AbortedClaimsNeverSeenNothingStalls(int producers, int consumers)
    {
        const int PerProducer = 40_000;
        using RingSegment segment = CreateSegment(32);
        using Exchange exchange = new(producers, PerProducer);
        RingWriter[] writers = [.. Enumerable.Range(0, producers).Select(_ => segment.CreateWriter())];
        RingReader[] readers = [.. Enumerable.Range(0, consumers).Select(_ => segment.CreateReader())];
        long[] aborted = new long[producers];
        try
        {
            using Barrier start = new(producers + consumers);
            Task[] tasks =
            [
                .. writers.Select((writer, id) => Run(start, () => aborted[id] = exchange.ProduceWithClaims(writer, id))),
                .. readers.Select(reader => Run(start, () => exchange.Consume(reader, batch: true))),
            ];
            await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(40));
        }
        finally
        {
            foreach (RingWriter writer in writers) writer.Dispose();
            foreach (RingReader reader in readers) reader.Dispose();
        }

        exchange.AssertEveryMessageOnce();
        Assert.All(aborted, count => Assert.True(count > PerProducer / 10, $"only {count} claims were aborted"));
        SegmentStatus status = segment.GetStatus();
        Assert.Equal((exchange.Total, exchange.Total, 0L), (status.MessagesWritten, status.MessagesRead, status.MessagesInRing));
        Assert.Equal(0L, status.Recoveries);
    }

    private static Task Run(Barrier start, Action body) =>
        Task.Factory.StartNew(() =>
        {
            start.SignalAndWait(Generous);
            body();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>
    /// The producers' messages and the consumers' checks: a message is the producer id, its sequence number, and
    /// bytes derived from both; each consumer requires every producer's sequence numbers to rise, and every
    /// message must be taken exactly once across all consumers.
    /// </summary>
    private sealed class Exchange(int producers, int perProducer) : IDisposable
    {
        private const int Poison = 0x7EADBEEF;
        private readonly int[] _deliveries = new int[producers * perProducer];
        private readonly CancellationTokenSource _done = new();
        private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
        private long _consumed;

        public long Total => (long)producers * perProducer;

        public void Dispose()
        {
            _done.Dispose();
            _timeout.Dispose();
        }

        public void Produce(RingWriter writer, int producer)
        {
            byte[] message = new byte[32];
            for (int seq = 0; seq < perProducer; seq++)
            {
                int length = Encode(producer, seq, message);
                writer.Write(message.AsSpan(0, length), _timeout.Token);
            }
        }

        /// <summary>Claims every message; aborts every third claim after filling it with poison, then writes the message for real.</summary>
        public long ProduceWithClaims(RingWriter writer, int producer)
        {
            long aborted = 0;
            byte[] message = new byte[32];
            for (int seq = 0; seq < perProducer; seq++)
            {
                int length = Encode(producer, seq, message);
                Span<byte> claim;
                while (!writer.TryClaim(32, out claim))
                    Assert.True(writer.WaitToWrite(32, Generous, _timeout.Token), "no room within the timeout");
                if ((seq + producer) % 3 == 0)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(claim, Poison);
                    claim[4..].Fill(0xEE);
                    writer.Abort();
                    aborted++;
                    Assert.True(writer.TryWrite(message.AsSpan(0, length), Generous, _timeout.Token), "no room within the timeout");
                }
                else
                {
                    message.AsSpan(0, length).CopyTo(claim);
                    writer.Commit(length);
                }
            }
            return aborted;
        }

        public void Consume(RingReader reader, bool batch)
        {
            long[] last = new long[producers];
            Array.Fill(last, -1);
            byte[] buffer = new byte[32];
            using CancellationTokenSource stop = CancellationTokenSource.CreateLinkedTokenSource(_done.Token, _timeout.Token);
            try
            {
                while (Volatile.Read(ref _consumed) < Total)
                {
                    if (batch)
                    {
                        if (!reader.WaitToRead(Generous, stop.Token)) Assert.Fail($"no message within {Generous}, {Volatile.Read(ref _consumed)} of {Total} consumed");
                        reader.ReadBatch(m => Accept(m, last), 8);
                    }
                    else
                    {
                        int length = reader.Read(buffer, stop.Token);
                        Accept(buffer.AsSpan(0, length), last);
                    }
                }
            }
            catch (OperationCanceledException) when (_done.IsCancellationRequested)
            {
                // Another consumer took the last message while this one waited.
            }
        }

        public void AssertEveryMessageOnce()
        {
            int missing = 0, duplicated = 0, first = -1;
            for (int i = 0; i < _deliveries.Length; i++)
            {
                if (_deliveries[i] == 1) continue;
                if (first < 0) first = i;
                if (_deliveries[i] == 0) missing++;
                else duplicated++;
            }
            Assert.True(missing == 0 && duplicated == 0,
                $"{missing} messages never delivered, {duplicated} delivered more than once; first: producer {first / perProducer}, sequence {first % perProducer}");
            Assert.Equal(Total, Volatile.Read(ref _consumed));
        }

        private static int Encode(int producer, int seq, Span<byte> destination)
        {
            int length = 8 + seq % 25;
            BinaryPrimitives.WriteInt32LittleEndian(destination, producer);
            BinaryPrimitives.WriteInt32LittleEndian(destination[4..], seq);
            for (int i = 8; i < length; i++) destination[i] = (byte)(seq * 31 + producer * 7 + i);
            return length;
        }

        private void Accept(ReadOnlySpan<byte> message, long[] last)
        {
            if (message.Length < 8) Assert.Fail($"a message of {message.Length} bytes");
            int producer = BinaryPrimitives.ReadInt32LittleEndian(message);
            if (producer == Poison) Assert.Fail("a reader saw an aborted claim");
            int seq = BinaryPrimitives.ReadInt32LittleEndian(message[4..]);
            if ((uint)producer >= (uint)producers || (uint)seq >= (uint)perProducer) Assert.Fail($"a message from producer {producer} with sequence {seq}");
            if (message.Length != 8 + seq % 25) Assert.Fail($"producer {producer} message {seq} has {message.Length} bytes");
            for (int i = 8; i < message.Length; i++)
            {
                if (message[i] != (byte)(seq * 31 + producer * 7 + i)) Assert.Fail($"producer {producer} message {seq}: byte {i} is {message[i]}");
            }
            if (seq <= last[producer]) Assert.Fail($"producer {producer}: message {seq} read after message {last[producer]} by the same reader");
            last[producer] = seq;
            Interlocked.Increment(ref _deliveries[producer * perProducer + seq]);
            if (Interlocked.Increment(ref _consumed) == Total) _done.Cancel(); // wakes the consumers still waiting
        }
    }

    // ---- Claims of several writers ----

    [Fact]
    public void TryWrite_AnotherWritersClaimOpen_LaterMessagesWaitUntilItIsCommitted()
    {
        using RingSegment segment = CreateSegment(8);
        using RingWriter slow = segment.CreateWriter();
        using RingWriter fast = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();

        Assert.True(slow.TryClaim(5, out Span<byte> claim));
        "first"u8.CopyTo(claim);
        Assert.True(fast.TryWrite("second"u8)); // claims never block other writers
        Assert.True(fast.TryWrite("third"u8));

        // The reader must not skip the open claim, nor give up on it as dead past the recovery threshold:
        // its writer is alive.
        Assert.False(reader.TryRead(new byte[32], out _));
        Assert.False(reader.TryRead(new byte[32], out _, TimeSpan.FromMilliseconds(200)));
        SegmentStatus withClaimOpen = segment.GetStatus();
        Assert.Equal((2L, 3L * segment.SlotStride), (withClaimOpen.MessagesInRing, withClaimOpen.BytesInRing)); // the open claim takes room, and is no message yet

        slow.Commit();

        Assert.Equal("first"u8.ToArray(), ReadOne(reader));
        Assert.Equal("second"u8.ToArray(), ReadOne(reader));
        Assert.Equal("third"u8.ToArray(), ReadOne(reader));
        SegmentStatus status = segment.GetStatus();
        Assert.Equal((3L, 0L, 0L), (status.MessagesRead, status.Recoveries, status.LostInDelivery));
    }

    [Fact]
    public void Abort_ClaimBetweenOtherWritersMessages_ReadersSeeOnlyTheCommittedOnesInOrder()
    {
        using RingSegment segment = CreateSegment(4);
        using RingWriter aborting = segment.CreateWriter();
        using RingWriter other = segment.CreateWriter();
        using RingReader first = segment.CreateReader();
        using RingReader second = segment.CreateReader();

        Assert.True(other.TryWrite("a"u8));
        Assert.True(aborting.TryClaim(20, out Span<byte> claim));
        claim.Fill(0xEE);
        Assert.True(other.TryWrite("b"u8));
        Assert.Equal("a"u8.ToArray(), ReadOne(first));
        Assert.False(second.TryRead(new byte[32], out _)); // "b" waits behind the open claim

        aborting.Abort();

        Assert.Equal("b"u8.ToArray(), ReadOne(second, 32));
        Assert.False(first.TryRead(new byte[32], out _));
        Assert.False(second.TryRead(new byte[32], out _));
        SegmentStatus status = segment.GetStatus();
        Assert.Equal((2L, 2L, 0L), (status.MessagesWritten, status.MessagesRead, status.MessagesInRing));
        Assert.Equal(0L, status.Recoveries);
    }

    [Fact]
    public async Task Abort_ClaimAheadOfCommittedMessages_DoesNotStallAWaitingReader()
    {
        using RingSegment segment = CreateSegment(4);
        using RingWriter aborting = segment.CreateWriter();
        using RingWriter other = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        Assert.True(aborting.TryClaim(20, out _));
        Assert.True(other.TryWrite("behind the claim"u8));

        Task<byte[]> waiting = Task.Factory.StartNew(() =>
        {
            byte[] buffer = new byte[32];
            Assert.True(reader.TryRead(buffer, out int length, Generous), "the message behind the aborted claim never came");
            return buffer[..length];
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        aborting.Abort();

        Assert.Equal("behind the claim"u8.ToArray(), await waiting.WaitAsync(Generous));
        Assert.Equal(0L, segment.GetStatus().Recoveries);
    }

    [Fact]
    public void Dispose_WriterWithOpenClaim_ReadersGetTheMessagesBehindItWithoutRecovery()
    {
        using RingSegment segment = CreateSegment(8);
        RingWriter leaving = segment.CreateWriter();
        using RingWriter other = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        Assert.True(other.TryWrite("before"u8));
        Assert.True(leaving.TryClaim(10, out Span<byte> claim));
        claim.Fill(0xEE);
        Assert.True(other.TryWrite("after 1"u8));
        Assert.True(other.TryWrite("after 2"u8));
        Assert.Equal("before"u8.ToArray(), ReadOne(reader));
        Assert.False(reader.TryRead(new byte[32], out _)); // stuck behind the open claim

        leaving.Dispose();

        // At once: the writer published its claim as a skip record when it left, nobody had to find it dead.
        Assert.Equal("after 1"u8.ToArray(), ReadOne(reader));
        Assert.Equal("after 2"u8.ToArray(), ReadOne(reader));
        Assert.False(reader.TryRead(new byte[32], out _));
        SegmentStatus status = segment.GetStatus();
        Assert.Equal((3L, 3L, 0L, 0L), (status.MessagesWritten, status.MessagesRead, status.Recoveries, status.LostInDelivery));
        Assert.Single(status.Participants, p => p.Roles == RingRole.Producer);
    }

    [Fact]
    public async Task Dispose_WriterWithOpenClaim_UnblocksAReaderWaitingBehindIt()
    {
        using RingSegment segment = CreateSegment(8);
        RingWriter leaving = segment.CreateWriter();
        using RingWriter other = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        Assert.True(leaving.TryClaim(10, out _));
        Assert.True(other.TryWrite("behind"u8));
        long sleepsBefore = segment.GetStatus().Sleeps;
        Task<int> blocked = Task.Factory.StartNew(() => reader.Read(new byte[32]), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(SpinWait.SpinUntil(() => segment.GetStatus().Sleeps > sleepsBefore, Generous), "the reader never went to sleep");
        Assert.False(blocked.IsCompleted);

        leaving.Dispose();

        Assert.Equal(6, await blocked.WaitAsync(Generous));
        Assert.Equal(0L, segment.GetStatus().Recoveries);
    }

    // ---- Several readers ----

    [Fact]
    public void ReadBatch_SeveralReaders_EachTakesTheNextMessagesInOrder()
    {
        using RingSegment segment = CreateSegment(16);
        using RingWriter writer = segment.CreateWriter();
        RingReader[] readers = [segment.CreateReader(), segment.CreateReader(), segment.CreateReader()];
        try
        {
            for (int i = 0; i < 10; i++) Assert.True(writer.TryWrite(Payload.Make(i, i + 1)));
            List<byte[]>[] seen = [[], [], []];

            Assert.Equal(3, readers[0].ReadBatch(m => seen[0].Add(m.ToArray()), 3));
            Assert.Equal(4, readers[1].ReadBatch(m => seen[1].Add(m.ToArray()), 4));
            Assert.Equal(3, readers[2].ReadBatch(m => seen[2].Add(m.ToArray()), 100));
            Assert.Equal(0, readers[0].ReadBatch(m => seen[0].Add(m.ToArray()), 100));

            Assert.Equal(Enumerable.Range(0, 3).Select(i => Payload.Make(i, i + 1)), seen[0]);
            Assert.Equal(Enumerable.Range(3, 4).Select(i => Payload.Make(i, i + 1)), seen[1]);
            Assert.Equal(Enumerable.Range(7, 3).Select(i => Payload.Make(i, i + 1)), seen[2]);
            SegmentStatus status = segment.GetStatus();
            Assert.Equal((10L, 55L, 0L, 1L), (status.MessagesRead, status.BytesRead, status.MessagesInRing, status.EmptyEvents));
        }
        finally
        {
            foreach (RingReader reader in readers) reader.Dispose();
        }
    }

    [Fact]
    public void ReadBatch_WhileOneReadersHandlerRuns_AnotherReaderTakesTheNextMessage()
    {
        // A batch claims one message at a time: it holds no lock over the ring that would stop other readers.
        using RingSegment segment = CreateSegment(8);
        using RingWriter writer = segment.CreateWriter();
        using RingReader first = segment.CreateReader();
        using RingReader second = segment.CreateReader();
        for (int i = 0; i < 4; i++) Assert.True(writer.TryWrite([(byte)i]));
        List<byte> firstSaw = [];
        List<byte> secondSaw = [];

        int handled = first.ReadBatch(m =>
        {
            firstSaw.Add(m[0]);
            Assert.True(second.TryRead(m2 => secondSaw.Add(m2[0])));
            Assert.Equal(firstSaw[^1], m[0]); // the handled message stays intact meanwhile
        }, 2);

        Assert.Equal(2, handled);
        Assert.Equal([0, 2], firstSaw);
        Assert.Equal([1, 3], secondSaw);
        Assert.False(first.TryRead(new byte[8], out _));
    }

    [Fact]
    public void TryRead_DestinationTooShort_LeavesTheMessageForTheNextRead()
    {
        using RingSegment segment = CreateSegment(8, 100);
        using RingWriter writer = segment.CreateWriter();
        using RingReader first = segment.CreateReader();
        using RingReader second = segment.CreateReader();
        byte[] big = Payload.Make(1, 80);
        byte[] small = Payload.Make(2, 5);
        Assert.True(writer.TryWrite(big));
        Assert.True(writer.TryWrite(small));
        SegmentStatus before = segment.GetStatus();

        ArgumentException error = Assert.Throws<ArgumentException>(() => first.TryRead(new byte[79], out _));
        Assert.Contains("80", error.Message, StringComparison.Ordinal);

        SegmentStatus after = segment.GetStatus();
        Assert.Equal((0L, before.EmptyEvents, 2L), (after.MessagesRead, after.EmptyEvents, after.MessagesInRing));
        Assert.Equal(big, ReadOne(second, 100)); // another reader gets it
        Assert.Throws<ArgumentException>(() => second.TryRead(new byte[4], out _));
        Assert.Equal(small, ReadOne(first, 100)); // and the refused reader reads on
        Assert.False(first.TryRead(new byte[100], out _));
    }

    [Fact]
    public void TryRead_DestinationTooShortBehindAnAbortedClaim_SkipsTheClaimAndKeepsTheMessage()
    {
        using RingSegment segment = CreateSegment(4, 100);
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        Assert.True(writer.TryClaim(50, out _));
        writer.Abort();
        byte[] message = Payload.Make(3, 60);
        Assert.True(writer.TryWrite(message));

        Assert.Throws<ArgumentException>(() => reader.TryRead(new byte[10], out _));

        Assert.Equal(message, ReadOne(reader, 100));
        Assert.Equal(0, segment.GetStatus().MessagesInRing);
    }

    // ---- Full ring with several writers ----

    [Fact]
    public void TryWrite_SeveralWriters_RingTakesExactlySlotCountMessagesOfAnySize()
    {
        using RingSegment segment = CreateSegment(8, 200);
        RingWriter[] writers = [segment.CreateWriter(), segment.CreateWriter(), segment.CreateWriter()];
        using RingReader reader = segment.CreateReader();
        try
        {
            int written = 0;
            for (int i = 0; written < 100; i++)
            {
                if (!writers[i % 3].TryWrite(new byte[i % 2 == 0 ? 0 : 200])) break;
                written++;
            }
            Assert.Equal(8, written);
            Assert.All(writers, w => Assert.False(w.TryWrite(ReadOnlySpan<byte>.Empty)));
            Assert.All(writers, w => Assert.False(w.TryClaim(0, out _)));
            SegmentStatus full = segment.GetStatus();
            Assert.Equal((8L, 8L * 216, 7L), (full.MessagesInRing, full.BytesInRing, full.FullEvents));

            Assert.Empty(ReadOne(reader, 200));
            Assert.True(writers[2].TryWrite(new byte[1]));
            Assert.False(writers[0].TryWrite(new byte[1]));
        }
        finally
        {
            foreach (RingWriter writer in writers) writer.Dispose();
        }
    }

    [Fact]
    public async Task Write_TwoWritersBlockedOnAFullRing_BothCompleteAsReadsFreeSlots()
    {
        using RingSegment segment = CreateSegment(2);
        using RingWriter first = segment.CreateWriter();
        using RingWriter second = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        Assert.True(first.TryWrite([0]));
        Assert.True(first.TryWrite([1]));
        long sleepsBefore = segment.GetStatus().Sleeps;

        Task a = Task.Factory.StartNew(() => first.Write([2]), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Task b = Task.Factory.StartNew(() => second.Write([3]), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(SpinWait.SpinUntil(() => segment.GetStatus().Sleeps >= sleepsBefore + 2, Generous), "the writers never went to sleep");

        byte[] buffer = new byte[8];
        List<byte> seen = [];
        for (int i = 0; i < 4; i++)
        {
            Assert.True(reader.TryRead(buffer, out _, Generous), $"message {i} never came");
            seen.Add(buffer[0]);
        }
        await Task.WhenAll(a, b).WaitAsync(Generous);

        Assert.Equal([0, 1], seen[..2]);
        Assert.Equal(new byte[] { 2, 3 }, seen[2..].Order());
    }

    // ---- A claim left by a process that vanished ----
    // The segment is edited through the file to leave what a dead claimer leaves: the tail (or head) moved past
    // a position nobody will ever publish (or free). No participant entry claims it.

    [Fact]
    public void TryRead_PositionClaimedByAVanishedProducer_IsSkippedAfterTheThreshold()
    {
        string name = _dir.NewName("mpmc");
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Kind = RingKind.Mpmc, SlotCount = 4, MaxMessageLength = 32 });
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        Assert.True(writer.TryWrite("0"u8));
        SegmentFile.WriteInt64(name, SegmentLayout.TailOffset, 2); // position 1: claimed, never published
        Assert.True(writer.TryWrite("2"u8));

        Assert.Equal("0"u8.ToArray(), ReadOne(reader));
        byte[] buffer = new byte[32];
        Assert.True(reader.TryRead(buffer, out int length, Generous), "the reader stalled behind the vanished claim");

        Assert.Equal("2"u8.ToArray(), buffer[..length]);
        SegmentStatus status = segment.GetStatus();
        Assert.Equal((1L, 0L, 0L), (status.Recoveries, status.LostInDelivery, status.MessagesInRing));
    }

    [Fact]
    public void TryWrite_SlotTakenByAVanishedConsumer_IsFreedAfterTheThresholdAndCountedLost()
    {
        string name = _dir.NewName("mpmc");
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Kind = RingKind.Mpmc, SlotCount = 2, MaxMessageLength = 32 });
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        Assert.True(writer.TryWrite("0"u8));
        Assert.True(writer.TryWrite("1"u8));
        SegmentFile.WriteInt64(name, SegmentLayout.HeadOffset, 1); // position 0: taken by a consumer that vanished before freeing it

        Assert.True(writer.TryWrite("2"u8, Generous), "the writer stalled on the slot the vanished consumer never freed");

        Assert.Equal("1"u8.ToArray(), ReadOne(reader));
        Assert.Equal("2"u8.ToArray(), ReadOne(reader));
        SegmentStatus status = segment.GetStatus();
        Assert.Equal((1L, 1L, 0L), (status.Recoveries, status.LostInDelivery, status.MessagesInRing));
    }

    [Fact]
    public void RecoverAbandonedReads_SlotTakenByAVanishedConsumer_FreesItAtOnceAndCountsItLost()
    {
        string name = _dir.NewName("mpmc");
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Kind = RingKind.Mpmc, SlotCount = 4, MaxMessageLength = 32 });
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        Assert.True(writer.TryWrite("0"u8));
        Assert.True(writer.TryWrite("1"u8));
        SegmentFile.WriteInt64(name, SegmentLayout.HeadOffset, 1); // position 0: taken by a consumer that vanished before freeing it

        Assert.Equal(1, segment.RecoverAbandonedReads());
        Assert.Equal(0, segment.RecoverAbandonedReads()); // once only: the slot is free now

        Assert.Equal("1"u8.ToArray(), ReadOne(reader));
        for (int i = 0; i < 4; i++) Assert.True(writer.TryWrite("x"u8), "the freed slot did not take a message at once");
        SegmentStatus status = segment.GetStatus();
        Assert.Equal((1L, 1L), (status.Recoveries, status.LostInDelivery));
    }

    [Fact]
    public void RecoverAbandonedReads_SlotHeldByALiveConsumer_LeavesIt()
    {
        string name = _dir.NewName("mpmc");
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Kind = RingKind.Mpmc, SlotCount = 4, MaxMessageLength = 32 });
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        Assert.True(writer.TryWrite("0"u8));
        int freedInsideHandler = -1;

        Assert.True(reader.TryRead(_ => freedInsideHandler = segment.RecoverAbandonedReads()));

        Assert.Equal(0, freedInsideHandler);
        Assert.Equal(0L, segment.GetStatus().LostInDelivery);
    }
}
