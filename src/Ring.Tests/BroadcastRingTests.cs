using System.Buffers.Binary;
using System.Diagnostics;

namespace Ring.Tests;

/// <summary>
/// What only a broadcast ring promises: every subscriber gets every message; under Block the publisher waits for the
/// slowest live subscriber and for no one else; under Overwrite it never waits, and a lapped subscriber is told exactly
/// how many messages it lost and never handed an overwritten one.
/// </summary>
public sealed class BroadcastRingTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A ring whose largest message is the default, capacity/8 − 8: 120 bytes in 1 KiB, 24 in 256 bytes.</summary>
    private RingSegment CreateSegment(BroadcastOverflow overflow, long capacity = 1024, int maxMessage = 0) =>
        RingSegment.Create(_dir.NewName("broadcast"), new RingOptions
        {
            Kind = RingKind.Broadcast,
            Capacity = capacity,
            MaxMessageLength = maxMessage,
            Overflow = overflow,
        });

    private static byte[] ReadOne(RingReader reader, int maxLength = 64)
    {
        byte[] buffer = new byte[maxLength];
        Assert.True(reader.TryRead(buffer, out int length), "expected a message, the subscriber has none");
        return buffer[..length];
    }

    private static byte[] Message(long seq) => BitConverter.GetBytes(seq);

    /// <summary>Publishes messages 8 bytes each (a 24-byte record) carrying their index, from <paramref name="first"/> on.</summary>
    private static void Publish(RingWriter writer, long first, long count)
    {
        for (long seq = first; seq < first + count; seq++) Assert.True(writer.TryWrite(Message(seq)), $"message {seq} found the ring full");
    }

    private static long ReadSeq(RingReader reader) => BinaryPrimitives.ReadInt64LittleEndian(ReadOne(reader));

    private static long CursorOf(RingSegment segment, int index) =>
        segment.Buffer.ReadInt64Acquire(SegmentLayout.ParticipantEntryOffset(index) + SegmentLayout.EntryCursorOffset);

    private static int SubscriberEntry(RingSegment segment) =>
        Assert.Single(segment.GetStatus().Participants, p => p.Roles == RingRole.Consumer).Index;

    // ---- Every subscriber gets every message ----

    [Theory]
    [InlineData(BroadcastOverflow.Block, WaitStrategy.SpinThenBlock)]
    [InlineData(BroadcastOverflow.Block, WaitStrategy.Block)]
    [InlineData(BroadcastOverflow.Block, WaitStrategy.SpinThenYield)]
    public async Task WriteRead_ThreeSubscriberThreads_EachGetsEveryMessageInOrder(BroadcastOverflow overflow, WaitStrategy wait)
    {
        const int Count = 50_000;
        using RingSegment segment = CreateSegment(overflow);
        using RingWriter writer = segment.CreateWriter(wait);
        RingReader[] subscribers = [.. Enumerable.Range(0, 3).Select(_ => segment.CreateSubscriber(SubscribeFrom.Tail, wait))];
        using CancellationTokenSource timeout = new(TimeSpan.FromSeconds(30));
        try
        {
            Task[] readers = [.. subscribers.Select(subscriber => Task.Factory.StartNew(() =>
            {
                byte[] buffer = new byte[64];
                for (long seq = 0; seq < Count; seq++)
                {
                    int length = subscriber.Read(buffer, timeout.Token);
                    Assert.Equal(seq, BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(0, length)));
                    Assert.Equal(Payload.Make(seq, length - 8), buffer[8..length]);
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))];
            Task publisher = Task.Factory.StartNew(() =>
            {
                byte[] message = new byte[64];
                for (long seq = 0; seq < Count; seq++)
                {
                    int length = 8 + (int)(seq % 57);
                    BinaryPrimitives.WriteInt64LittleEndian(message, seq);
                    Payload.Fill(seq, message.AsSpan(8, length - 8));
                    writer.Write(message.AsSpan(0, length), timeout.Token);
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

            await Task.WhenAll([publisher, .. readers]).WaitAsync(TimeSpan.FromSeconds(40));
            Assert.Equal(3L * Count, segment.GetStatus().MessagesRead);
        }
        finally
        {
            foreach (RingReader subscriber in subscribers) subscriber.Dispose();
        }
    }

    [Fact]
    public void ReadBatch_TwoSubscribers_EachSeesTheWholeStreamInPlace()
    {
        using RingSegment segment = CreateSegment(BroadcastOverflow.Block);
        using RingWriter writer = segment.CreateWriter();
        using RingReader first = segment.CreateSubscriber();
        using RingReader second = segment.CreateSubscriber();
        Publish(writer, 0, 20);

        List<long> seenFirst = [];
        List<long> seenSecond = [];
        Assert.Equal(20, first.ReadBatch(m => seenFirst.Add(BinaryPrimitives.ReadInt64LittleEndian(m)), 100));
        Assert.Equal(7, second.ReadBatch(m => seenSecond.Add(BinaryPrimitives.ReadInt64LittleEndian(m)), 7));
        Assert.Equal(13, second.ReadBatch(m => seenSecond.Add(BinaryPrimitives.ReadInt64LittleEndian(m)), 100));

        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), seenFirst);
        Assert.Equal(seenFirst, seenSecond);
        Assert.Equal(40, segment.GetStatus().MessagesRead);
    }

    // ---- Block ----

    [Fact]
    public void TryWrite_BlockSlowSubscriber_ReturnsFalseUntilItReads()
    {
        using RingSegment segment = CreateSegment(BroadcastOverflow.Block, capacity: 256);
        using RingWriter writer = segment.CreateWriter();
        using RingReader fast = segment.CreateSubscriber();
        using RingReader slow = segment.CreateSubscriber();
        long seq = 0;
        while (writer.TryWrite(Message(seq)))
        {
            Assert.Equal(seq, ReadSeq(fast));
            seq++;
        }

        Assert.Equal(256 / 24, seq); // the slow subscriber has read nothing: a ring of 24-byte records
        Assert.False(writer.TryWrite(Message(seq), TimeSpan.FromMilliseconds(50)));
        Assert.Equal(0, ReadSeq(slow));
        Assert.True(writer.TryWrite(Message(seq)), "the slow subscriber read one, which frees its record");
        for (long expected = 1; expected <= seq; expected++) Assert.Equal(expected, ReadSeq(slow));
        Assert.Equal(seq, ReadSeq(fast));
    }

    [Fact]
    public void Dispose_GatingSubscriber_StopsGatingAtOnce()
    {
        using RingSegment segment = CreateSegment(BroadcastOverflow.Block, capacity: 256);
        using RingWriter writer = segment.CreateWriter();
        using RingReader reading = segment.CreateSubscriber();
        RingReader idle = segment.CreateSubscriber();
        long seq = 0;
        while (writer.TryWrite(Message(seq))) Assert.Equal(seq++, ReadSeq(reading));

        idle.Dispose();

        Assert.True(writer.TryWrite(Message(seq)), "a disposed subscriber still holds the publisher up");
        Assert.Equal(seq, ReadSeq(reading));
    }

    [Fact]
    public async Task Write_BlockPublisherAsleepOnAFullRing_WakesWhenTheSubscriberReads()
    {
        using RingSegment segment = CreateSegment(BroadcastOverflow.Block, capacity: 256);
        using RingWriter writer = segment.CreateWriter(WaitStrategy.Block);
        using RingReader subscriber = segment.CreateSubscriber();
        long seq = 0;
        while (writer.TryWrite(Message(seq))) seq++;
        long blocked = seq;
        Task write = Task.Factory.StartNew(() => writer.Write(Message(blocked)), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(SpinWait.SpinUntil(() => segment.GetStatus().WritersWaiting > 0, Generous), "the publisher never went to sleep");

        Assert.Equal(0, ReadSeq(subscriber));
        await write.WaitAsync(Generous);

        for (long expected = 1; expected <= blocked; expected++) Assert.Equal(expected, ReadSeq(subscriber));
    }

    [Fact]
    public void TryWrite_BlockDeadSubscriberHoldsThePublisherUp_IsDetachedWithinAQuarterSecond()
    {
        using RingSegment segment = CreateSegment(BroadcastOverflow.Block, capacity: 256);
        using RingWriter writer = segment.CreateWriter();
        // A subscriber whose process died: its entry says consumer at position 0, and no one holds its lock.
        long entry = SegmentLayout.ParticipantEntryOffset(SegmentLayout.ParticipantCapacity - 1);
        segment.Buffer.WriteInt32(entry + SegmentLayout.EntryRolesOffset, (int)RingRole.Consumer);
        segment.Buffer.WriteInt64(entry + SegmentLayout.EntryCursorOffset, 0);
        segment.Buffer.WriteInt32Release(entry + SegmentLayout.EntryStateOffset, 1);
        segment.Buffer.FetchAddInt32(SegmentLayout.SubscriberGenerationOffset, 1);
        Publish(writer, 0, 256 / 24); // the ring is full for it now

        Stopwatch clock = Stopwatch.StartNew();
        Assert.True(writer.TryWrite(Message(256 / 24), Generous));

        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(750), $"the dead subscriber held the publisher up for {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(-1, segment.Buffer.ReadInt64Acquire(entry + SegmentLayout.EntryCursorOffset));
    }

    // ---- Overwrite ----

    [Fact]
    public void TryWrite_OverwriteSubscriberReadsNothing_NeverFull()
    {
        using RingSegment segment = CreateSegment(BroadcastOverflow.Overwrite, capacity: 256);
        using RingWriter writer = segment.CreateWriter();
        using RingReader subscriber = segment.CreateSubscriber();

        Publish(writer, 0, 1000);

        Assert.Equal(0, segment.GetStatus().FullEvents);
    }

    [Fact]
    public void TryRead_OverwriteLapped_ThrowsTheExactLossThenReadsTheOldestInOrder()
    {
        using RingSegment segment = CreateSegment(BroadcastOverflow.Overwrite, capacity: 256);
        using RingWriter writer = segment.CreateWriter();
        using RingReader subscriber = segment.CreateSubscriber();
        Publish(writer, 0, 3);
        Assert.Equal(0, ReadSeq(subscriber));

        Publish(writer, 3, 100); // 10 records of 24 bytes fit in 256: 1..92 are overwritten

        RingLappedException lapped = Assert.Throws<RingLappedException>(() => subscriber.TryRead(new byte[64], out _));
        SegmentStatus status = segment.GetStatus();
        long oldest = 103 - status.MessagesInRing;
        Assert.Equal(oldest - 1, lapped.LostMessages);
        for (long expected = oldest; expected < 103; expected++) Assert.Equal(expected, ReadSeq(subscriber));
        Assert.False(subscriber.TryRead(new byte[64], out _));
    }

    [Fact]
    public void ReadBatch_OverwriteLappedMidBatch_EndsEarlyAndTheNextCallThrowsTheLap()
    {
        using RingSegment segment = CreateSegment(BroadcastOverflow.Overwrite, capacity: 256);
        using RingWriter writer = segment.CreateWriter();
        using RingReader subscriber = segment.CreateSubscriber();
        Publish(writer, 0, 5);
        List<long> seen = [];

        int count = subscriber.ReadBatch(m =>
        {
            seen.Add(BinaryPrimitives.ReadInt64LittleEndian(m));
            if (seen.Count == 2) Publish(writer, 5, 30); // the publisher laps the batch under its feet
        }, 100);

        Assert.Equal(2, count);
        Assert.Equal([0L, 1L], seen);
        long oldest = 35 - segment.GetStatus().MessagesInRing;
        RingLappedException lapped = Assert.Throws<RingLappedException>(() => subscriber.ReadBatch(m => seen.Add(0), 100));
        Assert.Equal(oldest - 2, lapped.LostMessages);
        Assert.Equal(35 - oldest, subscriber.ReadBatch(m => seen.Add(BinaryPrimitives.ReadInt64LittleEndian(m)), 100));
        Assert.Equal(Enumerable.Range((int)oldest, 35 - (int)oldest).Select(i => (long)i), seen.Skip(2));
    }

    // ---- Joining ----

    [Theory]
    [InlineData(BroadcastOverflow.Block)]
    [InlineData(BroadcastOverflow.Overwrite)]
    public void CreateSubscriber_FromOldest_SeesTheHistoryThenTheLiveStream(BroadcastOverflow overflow)
    {
        using RingSegment segment = CreateSegment(overflow, capacity: 1024);
        using RingWriter writer = segment.CreateWriter();
        Publish(writer, 0, 5);

        using RingReader late = segment.CreateSubscriber(SubscribeFrom.Oldest);
        using RingReader live = segment.CreateReader();
        Publish(writer, 5, 2);

        Assert.Equal(Enumerable.Range(0, 7).Select(i => (long)i), Enumerable.Range(0, 7).Select(_ => ReadSeq(late)));
        Assert.Equal([5L, 6L], [ReadSeq(live), ReadSeq(live)]);
        Assert.Equal(7, segment.GetStatus().MessagesInRing);
    }

    [Fact]
    public void CreateSubscriber_FromOldestAfterTheRingWrapped_StartsAtTheOldestIntactMessage()
    {
        using RingSegment segment = CreateSegment(BroadcastOverflow.Overwrite, capacity: 256);
        using RingWriter writer = segment.CreateWriter();
        Publish(writer, 0, 50);

        using RingReader late = segment.CreateSubscriber(SubscribeFrom.Oldest);

        long intact = segment.GetStatus().MessagesInRing;
        Assert.InRange(intact, 1, 256 / 24);
        for (long expected = 50 - intact; expected < 50; expected++) Assert.Equal(expected, ReadSeq(late));
        Assert.False(late.TryRead(new byte[64], out _));
    }

    [Fact]
    public void CreateSubscriber_NotABroadcastRing_ThrowsInvalidOperation()
    {
        using RingSegment segment = RingSegment.Create(_dir.NewName("spsc"), new RingOptions { Capacity = 1024 });

        Assert.Throws<InvalidOperationException>(() => segment.CreateSubscriber());
        Assert.Equal(BroadcastOverflow.Block, segment.Overflow);
    }

    [Fact]
    public void Create_OverflowOnAnotherKind_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            RingSegment.Create(_dir.NewName("spsc"), new RingOptions { Capacity = 1024, Overflow = BroadcastOverflow.Overwrite }));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            RingSegment.Create(_dir.NewName("broadcast"), new RingOptions { Kind = RingKind.Broadcast, Capacity = 1024, Overflow = (BroadcastOverflow)3 }));
    }

    [Fact]
    public void OpenOrCreate_ExistingWithTheOtherOverflow_ThrowsNamingOverflow()
    {
        string name = _dir.NewName("broadcast");
        RingOptions block = new() { Kind = RingKind.Broadcast, Capacity = 1024, Overflow = BroadcastOverflow.Block };
        using RingSegment existing = RingSegment.Create(name, block);

        SegmentFormatException error = Assert.Throws<SegmentFormatException>(() => RingSegment.OpenOrCreate(name, block with { Overflow = BroadcastOverflow.Overwrite }));

        Assert.Equal("Overflow", error.Field);
        using RingSegment same = RingSegment.OpenOrCreate(name, block);
        Assert.Equal(BroadcastOverflow.Block, same.Overflow);
    }

    [Fact]
    public void CreateWriter_SecondPublisher_ThrowsRoleTaken()
    {
        using RingSegment segment = CreateSegment(BroadcastOverflow.Block);
        using RingWriter writer = segment.CreateWriter();

        Assert.Throws<RingRoleTakenException>(() => segment.CreateWriter());
    }

    [Fact]
    public void CreateWriter_Successor_ContinuesTheSequenceSubscribersCheck()
    {
        using RingSegment segment = CreateSegment(BroadcastOverflow.Block);
        using RingReader subscriber = segment.CreateSubscriber();
        using (RingWriter first = segment.CreateWriter()) Publish(first, 0, 3);
        using RingWriter successor = segment.CreateWriter();

        Publish(successor, 3, 3);

        Assert.Equal(Enumerable.Range(0, 6).Select(i => (long)i), Enumerable.Range(0, 6).Select(_ => ReadSeq(subscriber)));
    }

    // ---- Completion ----

    [Fact]
    public void Complete_ThreeSubscribers_EachDrainsThenSeesTheEnd()
    {
        using RingSegment segment = CreateSegment(BroadcastOverflow.Block);
        using RingWriter writer = segment.CreateWriter();
        RingReader[] subscribers = [.. Enumerable.Range(0, 3).Select(_ => segment.CreateSubscriber())];
        try
        {
            Publish(writer, 0, 4);
            writer.Complete("end of day");

            foreach (RingReader subscriber in subscribers)
            {
                Assert.False(subscriber.IsCompleted);
                for (long expected = 0; expected < 4; expected++) Assert.Equal(expected, ReadSeq(subscriber));
                Assert.True(subscriber.IsCompleted);
                RingCompletedException end = Assert.Throws<RingCompletedException>(() => subscriber.Read(new byte[64]));
                Assert.Equal("end of day", end.Reason);
            }
        }
        finally
        {
            foreach (RingReader subscriber in subscribers) subscriber.Dispose();
        }
    }

    // ---- Untrusted values ----

    [Fact]
    public void Stat_CursorOnTheLastEightBytesWithAMessageTypeThere_ReportsNoMessageCountAndReadsNothingPastTheEnd()
    {
        // A cursor 8 bytes before the end of the region where the type says "message": a 16-byte header there would run
        // past the mapping, so Stat must not read its sequence.
        using RingSegment segment = CreateSegment(BroadcastOverflow.Overwrite, capacity: 256);
        using RingWriter writer = segment.CreateWriter();
        using RingReader subscriber = segment.CreateSubscriber();
        Publish(writer, 0, 12); // past one lap: the tail is beyond 248
        long entry = SegmentLayout.ParticipantEntryOffset(SubscriberEntry(segment));
        segment.Buffer.WriteInt64(entry + SegmentLayout.EntryCursorOffset, 248);
        segment.Buffer.WriteInt32(SegmentLayout.DataOffset + 248 + SegmentLayout.RecordTypeOffset, SegmentLayout.RecordTypeMessage);
        segment.Buffer.WriteInt64(SegmentLayout.ReclaimOffset, 0);

        ParticipantStatus status = Assert.Single(segment.GetStatus().Participants, p => p.Roles == RingRole.Consumer);

        Assert.NotNull(status.BytesBehind);
        Assert.Null(status.MessagesBehind);
    }

    [Theory]
    [InlineData(4)] // not 8-aligned
    [InlineData(1 << 20)] // ahead of the tail
    [InlineData(-8)]
    public void TryWrite_BlockSubscriberCursorCorrupted_ThrowsRingCorrupted(long cursor)
    {
        using RingSegment segment = CreateSegment(BroadcastOverflow.Block, capacity: 256);
        using RingWriter writer = segment.CreateWriter();
        using RingReader subscriber = segment.CreateSubscriber();
        long seq = 0;
        while (writer.TryWrite(Message(seq))) seq++;
        long entry = SegmentLayout.ParticipantEntryOffset(SubscriberEntry(segment));
        segment.Buffer.WriteInt64(entry + SegmentLayout.EntryCursorOffset, cursor);

        RingCorruptedException error = Assert.Throws<RingCorruptedException>(() => writer.TryWrite(Message(seq)));

        Assert.Equal(RingCorruptionRule.BroadcastPosition, error.Rule);
    }

    [Fact]
    public void TryRead_SequenceOfAnIntactRecordCorrupted_ThrowsSequenceGap()
    {
        using RingSegment segment = CreateSegment(BroadcastOverflow.Block);
        using RingWriter writer = segment.CreateWriter();
        using RingReader subscriber = segment.CreateSubscriber();
        Publish(writer, 0, 2);
        Assert.Equal(0, ReadSeq(subscriber));
        // The second record starts 24 bytes in; its sequence is 8 bytes into its header.
        segment.Buffer.WriteInt64(SegmentLayout.DataOffset + 24 + SegmentLayout.BroadcastRecordSequenceOffset, 7);

        RingCorruptedException error = Assert.Throws<RingCorruptedException>(() => subscriber.TryRead(new byte[64], out _));

        Assert.Equal(RingCorruptionRule.SequenceGap, error.Rule);
    }

    [Fact]
    public void Stat_BroadcastRing_ReportsTheKindTheSubscribersAndTheIntactHistory()
    {
        using RingSegment segment = CreateSegment(BroadcastOverflow.Overwrite, capacity: 256);
        using RingWriter writer = segment.CreateWriter();
        using RingReader first = segment.CreateSubscriber();
        using RingReader second = segment.CreateSubscriber();
        Publish(writer, 0, 4);
        Assert.Equal(0, ReadSeq(first));

        SegmentStatus status = RingSegment.Stat(segment.Path);

        Assert.Equal(RingKind.Broadcast, status.Kind);
        Assert.Equal((1, 2), (status.ProducersAlive, status.ConsumersAlive));
        Assert.Equal(4, status.MessagesInRing);
        Assert.Equal(4 * 24, status.BytesInRing);
        Assert.Equal(1, status.MessagesRead);
        Assert.Equal(24, CursorOf(segment, Assert.Single(status.Participants, p => p.Roles == RingRole.Consumer && CursorOf(segment, p.Index) != 0).Index));
    }

    [Fact]
    public void Stat_SubscribersAtDifferentPlaces_ReportEachOnesLagAndLaps()
    {
        using RingSegment segment = CreateSegment(BroadcastOverflow.Overwrite, capacity: 256);
        using RingWriter writer = segment.CreateWriter();
        using RingReader ahead = segment.CreateSubscriber();
        using RingReader behind = segment.CreateSubscriber();
        Publish(writer, 0, 6); // 24-byte records
        for (long i = 0; i < 4; i++) Assert.Equal(i, ReadSeq(ahead));

        SegmentStatus status = segment.GetStatus();
        ParticipantStatus aheadStatus = Assert.Single(status.Participants, p => p.Roles == RingRole.Consumer && p.MessagesBehind == 2);
        ParticipantStatus behindStatus = Assert.Single(status.Participants, p => p.Roles == RingRole.Consumer && p.MessagesBehind == 6);
        Assert.Equal((2 * 24L, 6 * 24L), (aheadStatus.BytesBehind, behindStatus.BytesBehind));
        Assert.Null(Assert.Single(status.Participants, p => p.Roles == RingRole.Producer).BytesBehind);

        Publish(writer, 6, 100); // ten records fit: both are lapped
        RingLappedException lapped = Assert.Throws<RingLappedException>(() => behind.TryRead(new byte[64], out _));
        status = segment.GetStatus();

        Assert.Contains(status.Participants, p => p.MessagesLostToLaps == lapped.LostMessages && p.MessagesLostToLaps > 0);
        Assert.Contains(status.Participants, p => p.Roles == RingRole.Consumer && p.BytesBehind > 256 && p.MessagesBehind is null); // lapped, not told yet
    }
}
