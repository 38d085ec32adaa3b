namespace Ring.Tests;

/// <summary>An SPSC ring has one producer role and one consumer role, each held by at most one live endpoint.</summary>
public sealed class RoleTests : IDisposable
{
    private static readonly RingOptions Options = new() { Capacity = 4096, MaxMessageLength = 64 };

    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void CreateWriter_SecondOnSameAttachment_ThrowsRoleTakenWithRoleAndHolder()
    {
        using RingSegment segment = RingSegment.Create(_dir.NewName(), Options);
        using RingWriter first = segment.CreateWriter();

        RingRoleTakenException error = Assert.Throws<RingRoleTakenException>(() => segment.CreateWriter());

        Assert.Equal(RingRole.Producer, error.Role);
        Assert.Equal(Environment.ProcessId, error.HolderPid);
    }

    [Fact]
    public void CreateWriter_SecondThroughAnotherOpen_ThrowsRoleTakenWithRoleAndHolder()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, Options);
        using RingSegment other = RingSegment.Open(name);
        using RingWriter first = segment.CreateWriter();

        RingRoleTakenException error = Assert.Throws<RingRoleTakenException>(() => other.CreateWriter(WaitStrategy.BusySpin));

        Assert.Equal(RingRole.Producer, error.Role);
        Assert.Equal(Environment.ProcessId, error.HolderPid);
    }

    [Fact]
    public void CreateReader_SecondOnSameAttachment_ThrowsRoleTakenWithRoleAndHolder()
    {
        using RingSegment segment = RingSegment.Create(_dir.NewName(), Options);
        using RingReader first = segment.CreateReader();

        RingRoleTakenException error = Assert.Throws<RingRoleTakenException>(() => segment.CreateReader());

        Assert.Equal(RingRole.Consumer, error.Role);
        Assert.Equal(Environment.ProcessId, error.HolderPid);
    }

    [Fact]
    public void CreateReader_SecondThroughAnotherOpen_ThrowsRoleTakenWithRoleAndHolder()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, Options);
        using RingSegment other = RingSegment.Open(name);
        using RingReader first = segment.CreateReader();

        RingRoleTakenException error = Assert.Throws<RingRoleTakenException>(() => other.CreateReader(WaitStrategy.SpinThenYield));

        Assert.Equal(RingRole.Consumer, error.Role);
        Assert.Equal(Environment.ProcessId, error.HolderPid);
    }

    [Fact]
    public void CreateWriterAndReader_OnOneAttachment_BothSucceed()
    {
        using RingSegment segment = RingSegment.Create(_dir.NewName(), Options);

        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();

        Assert.True(writer.TryWrite([42]));
        Assert.True(reader.TryRead(new byte[1], out int length));
        Assert.Equal(1, length);
    }

    [Fact]
    public void CreateWriter_RoleTaken_DoesNotDisturbTheHolder()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, Options);
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();

        Assert.Throws<RingRoleTakenException>(() => segment.CreateWriter());
        Assert.Throws<RingRoleTakenException>(() => segment.CreateReader());

        Assert.True(writer.TryWrite([7]));
        byte[] buffer = new byte[1];
        Assert.True(reader.TryRead(buffer, out _));
        Assert.Equal(7, buffer[0]);
        // The attachment and the two holders; the refused attempts left no entry behind.
        Assert.Equal([RingRole.None, RingRole.Producer, RingRole.Consumer], RingSegment.Stat(name).Participants.Select(p => p.Roles).Order());
    }

    [Fact]
    public void CreateWriterAndReader_SpscEndpoints_AlsoHoldTheirRoleEntries()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, Options);

        using (RingWriter writer = segment.CreateWriter())
        using (RingReader reader = segment.CreateReader())
        {
            Assert.Equal(1, SegmentFile.ReadInt32(name, SegmentLayout.ProducerRoleOffset + SegmentLayout.EntryStateOffset));
            Assert.Equal(Environment.ProcessId, SegmentFile.ReadInt32(name, SegmentLayout.ProducerRoleOffset + SegmentLayout.EntryPidOffset));
            Assert.Equal(1, SegmentFile.ReadInt32(name, SegmentLayout.ConsumerRoleOffset + SegmentLayout.EntryStateOffset));
            Assert.Equal(Environment.ProcessId, SegmentFile.ReadInt32(name, SegmentLayout.ConsumerRoleOffset + SegmentLayout.EntryPidOffset));
        }

        Assert.Equal(0, SegmentFile.ReadInt32(name, SegmentLayout.ProducerRoleOffset + SegmentLayout.EntryStateOffset));
        Assert.Equal(0, SegmentFile.ReadInt32(name, SegmentLayout.ConsumerRoleOffset + SegmentLayout.EntryStateOffset));
        Assert.Equal(RingRole.None, Assert.Single(RingSegment.Stat(name).Participants).Roles);
    }

    [Fact]
    public void CreateWriterAndReader_MpmcRing_AllowManyOfEachAndLeaveTheRoleTableAlone()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Kind = RingKind.Mpmc, SlotCount = 16, MaxMessageLength = 8 });
        using RingSegment other = RingSegment.Open(name);

        using RingWriter first = segment.CreateWriter();
        using RingWriter second = segment.CreateWriter(WaitStrategy.BusySpin);
        using RingWriter third = other.CreateWriter(WaitStrategy.SpinThenYield);
        using RingReader reader = segment.CreateReader();
        using RingReader secondReader = other.CreateReader(WaitStrategy.BusySpin);

        Assert.True(first.TryWrite([1]));
        Assert.True(second.TryWrite([2]));
        Assert.True(third.TryWrite([3]));
        byte[] buffer = new byte[8];
        Assert.True(secondReader.TryRead(buffer, out _));
        Assert.Equal(1, buffer[0]);
        Assert.True(reader.TryRead(buffer, out _));
        Assert.Equal(2, buffer[0]);
        Assert.Equal(0, SegmentFile.ReadInt32(name, SegmentLayout.ProducerRoleOffset + SegmentLayout.EntryStateOffset));
        Assert.Equal(0, SegmentFile.ReadInt32(name, SegmentLayout.ConsumerRoleOffset + SegmentLayout.EntryStateOffset));
        SegmentStatus status = RingSegment.Stat(name);
        Assert.Equal(3, status.Participants.Count(p => p.Roles == RingRole.Producer));
        Assert.Equal(2, status.Participants.Count(p => p.Roles == RingRole.Consumer));
    }

    [Fact]
    public void CreateWriterOrReader_UnknownWaitStrategy_ThrowsAndLeavesTheRoleFree()
    {
        using RingSegment segment = RingSegment.Create(_dir.NewName(), Options);

        Assert.Throws<ArgumentOutOfRangeException>(() => segment.CreateWriter((WaitStrategy)42));
        Assert.Throws<ArgumentOutOfRangeException>(() => segment.CreateReader((WaitStrategy)42));

        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
    }

    [Fact]
    public void CreateWriter_AfterFirstDisposed_Succeeds()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, Options);
        using RingSegment other = RingSegment.Open(name);
        RingWriter first = segment.CreateWriter();
        first.Dispose();

        using RingWriter second = other.CreateWriter();

        Assert.Throws<RingRoleTakenException>(() => segment.CreateWriter());
    }

    [Fact]
    public void CreateReader_AfterFirstDisposed_Succeeds()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, Options);
        using RingSegment other = RingSegment.Open(name);
        RingReader first = segment.CreateReader();
        first.Dispose();

        using RingReader second = other.CreateReader();

        Assert.Throws<RingRoleTakenException>(() => segment.CreateReader());
    }

    [Fact]
    public void CreateWriter_AfterHoldingAttachmentDisposed_RoleIsFree()
    {
        // Disposing the attachment disposes the endpoints created from it, and with them their roles.
        string name = _dir.NewName();
        RingSegment holderSegment = RingSegment.Create(name, Options);
        RingWriter holder = holderSegment.CreateWriter();
        using RingSegment other = RingSegment.Open(name);
        Assert.Throws<RingRoleTakenException>(() => other.CreateWriter());

        holderSegment.Dispose();

        using RingWriter successor = other.CreateWriter();
        Assert.Throws<ObjectDisposedException>(() => holder.TryWrite("x"u8));
    }

    [Fact]
    public void CreateWriter_RepeatedCreateAndDispose_NeverLeaksTheRole()
    {
        using RingSegment segment = RingSegment.Create(_dir.NewName(), Options);
        for (int i = 0; i < 200; i++)
        {
            using RingWriter writer = segment.CreateWriter();
            using RingReader reader = segment.CreateReader();
        }
        using RingWriter last = segment.CreateWriter();
    }

    [Fact]
    public void CreateWriter_Successor_ContinuesFromTheCommittedTail()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, Options);
        using RingSegment other = RingSegment.Open(name);
        using RingReader reader = segment.CreateReader();
        using (RingWriter first = segment.CreateWriter())
        {
            for (int i = 0; i < 3; i++) Assert.True(first.TryWrite(Payload.Make(i, 10 + i)));
        }

        using (RingWriter second = other.CreateWriter())
        {
            for (int i = 3; i < 6; i++) Assert.True(second.TryWrite(Payload.Make(i, 10 + i)));
        }

        byte[] buffer = new byte[64];
        for (int i = 0; i < 6; i++)
        {
            Assert.True(reader.TryRead(buffer, out int length), $"message {i} missing");
            Assert.Equal(Payload.Make(i, 10 + i), buffer[..length]);
        }
        Assert.False(reader.TryRead(buffer, out _));
        SegmentStatus status = segment.GetStatus();
        Assert.Equal(6, status.MessagesWritten);
        Assert.Equal(6, status.MessagesRead);
        Assert.Equal(Enumerable.Range(10, 6).Sum(), status.BytesWritten);
    }

    [Fact]
    public void CreateWriter_SuccessorOfWriterWithOpenClaim_DropsTheClaim()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, Options);
        using RingReader reader = segment.CreateReader();
        using (RingWriter first = segment.CreateWriter())
        {
            Assert.True(first.TryWrite("committed"u8));
            Assert.True(first.TryClaim(20, out Span<byte> claim));
            "never committed-----"u8.CopyTo(claim);
        }

        using (RingWriter second = segment.CreateWriter())
        {
            Assert.True(second.TryWrite("after"u8));
        }

        byte[] buffer = new byte[64];
        Assert.True(reader.TryRead(buffer, out int length));
        Assert.Equal("committed"u8.ToArray(), buffer[..length]);
        Assert.True(reader.TryRead(buffer, out length));
        Assert.Equal("after"u8.ToArray(), buffer[..length]);
        Assert.False(reader.TryRead(buffer, out _));
    }

    [Fact]
    public void CreateReader_Successor_ContinuesFromTheCommittedHead()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, Options);
        using RingSegment other = RingSegment.Open(name);
        using RingWriter writer = segment.CreateWriter();
        for (int i = 0; i < 6; i++) Assert.True(writer.TryWrite(Payload.Make(i, i * 3)));
        byte[] buffer = new byte[64];
        using (RingReader first = segment.CreateReader())
        {
            for (int i = 0; i < 2; i++)
            {
                Assert.True(first.TryRead(buffer, out int length));
                Assert.Equal(Payload.Make(i, i * 3), buffer[..length]);
            }
            Assert.Equal(1, first.ReadBatch(m => Assert.Equal(Payload.Make(2, 6), m.ToArray()), 1));
        }

        using RingReader second = other.CreateReader();

        for (int i = 3; i < 6; i++)
        {
            Assert.True(second.TryRead(buffer, out int length), $"message {i} missing");
            Assert.Equal(Payload.Make(i, i * 3), buffer[..length]);
        }
        Assert.False(second.TryRead(buffer, out _));
        Assert.Equal(6, segment.GetStatus().MessagesRead);
    }

    [Fact]
    public void Successors_ManyGenerationsAcrossWrap_KeepOrderAndCounters()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Capacity = 256 });
        byte[] buffer = new byte[32];
        int written = 0, read = 0;
        for (int generation = 0; generation < 50; generation++)
        {
            using (RingWriter writer = segment.CreateWriter())
            {
                for (int i = 0; i < 5; i++, written++) Assert.True(writer.TryWrite(Payload.Make(written, written % 33)));
            }
            using (RingReader reader = segment.CreateReader())
            {
                for (int i = 0; i < 5; i++, read++)
                {
                    Assert.True(reader.TryRead(buffer, out int length));
                    Assert.Equal(Payload.Make(read, read % 33), buffer[..length]);
                }
            }
        }
        SegmentStatus status = segment.GetStatus();
        Assert.Equal(250, status.MessagesWritten);
        Assert.Equal(250, status.MessagesRead);
        Assert.Equal(0, status.MessagesInRing);
    }
}
