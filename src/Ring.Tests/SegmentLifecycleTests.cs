using System.Runtime.InteropServices;

namespace Ring.Tests;

public sealed class SegmentLifecycleTests : IDisposable
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly RingOptions Small = new() { Capacity = 4096 };

    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    // ---- Create / Open / OpenOrCreate ----

    [Fact]
    public void Create_NameExists_ThrowsSegmentExistsException()
    {
        string name = _dir.NewName();
        using RingSegment first = RingSegment.Create(name, Small);

        Assert.Throws<SegmentExistsException>(() => RingSegment.Create(name, Small));
    }

    [Fact]
    public void Create_NameExists_LeavesTheExistingSegmentIntact()
    {
        string name = _dir.NewName();
        using RingSegment first = RingSegment.Create(name, Small);
        using (RingWriter writer = first.CreateWriter())
            Assert.True(writer.TryWrite("kept"u8));

        Assert.Throws<SegmentExistsException>(() => RingSegment.Create(name, new RingOptions { Capacity = 8192 }));

        using RingSegment again = RingSegment.Open(name);
        Assert.Equal(4096, again.Capacity);
        using RingReader reader = again.CreateReader();
        byte[] buffer = new byte[16];
        Assert.True(reader.TryRead(buffer, out int length));
        Assert.Equal("kept"u8.ToArray(), buffer[..length]);
    }

    [Fact]
    public void Create_NewSegment_ExposesItsProperties()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Capacity = 1024, MaxMessageLength = 100 });

        Assert.Equal(name, segment.Name);
        Assert.Equal(name, segment.Path);
        Assert.Equal(RingKind.Spsc, segment.Kind);
        Assert.Equal(1024, segment.Capacity);
        Assert.Equal(100, segment.MaxMessageLength);
        Assert.False(segment.IsReadOnly);
        Assert.Equal(SegmentLayout.FileLengthFor(1024), new FileInfo(name).Length);
    }

    [Fact]
    public void Create_ZeroMaxMessageLength_UsesAnEighthOfCapacity()
    {
        using RingSegment segment = RingSegment.Create(_dir.NewName(), new RingOptions { Capacity = 4096, MaxMessageLength = 0 });

        Assert.Equal(512, segment.MaxMessageLength);
    }

    [Fact]
    public void Create_MissingDirectory_CreatesItPrivate()
    {
        string name = Path.Combine(_dir.DirectoryPath, "sub", "seg");
        using RingSegment segment = RingSegment.Create(name, Small);

        Assert.True(File.Exists(name));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            File.GetUnixFileMode(Path.Combine(_dir.DirectoryPath, "sub")));
    }

    [Fact]
    public void Create_Succeeds_LeavesNoStagingFile()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, Small);

        Assert.Equal([Path.GetFileName(name)], _dir.Entries());
    }

    [Fact]
    public void Create_NameExists_LeavesNoStagingFile()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, Small);
        for (int i = 0; i < 5; i++)
            Assert.Throws<SegmentExistsException>(() => RingSegment.Create(name, Small));

        Assert.Equal([Path.GetFileName(name)], _dir.Entries());
    }

    public static TheoryData<RingOptions> InvalidOptions => new()
    {
        new RingOptions { Capacity = 0 },
        new RingOptions { Capacity = 32 },
        new RingOptions { Capacity = 100 },
        new RingOptions { Capacity = 4096 + 8 },
        new RingOptions { Capacity = 1L << 41 },
        new RingOptions { Capacity = -4096 },
        new RingOptions { Capacity = 4096, MaxMessageLength = 513 },
        new RingOptions { Capacity = 4096, MaxMessageLength = -1 },
        new RingOptions { Capacity = 4096, Mode = UnixFileMode.UserRead },
        new RingOptions { Capacity = 4096, Mode = UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite },
        new RingOptions { Capacity = 4096, Mode = Mode0600 | UnixFileMode.SetUser },
        new RingOptions { Capacity = 4096, Mode = Mode0600 | UnixFileMode.StickyBit },
        new RingOptions { Capacity = 4096, Kind = (RingKind)99 },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Create_InvalidOptions_ThrowsArgumentOutOfRangeAndCreatesNothing(RingOptions options)
    {
        string name = _dir.NewName();

        Assert.Throws<ArgumentOutOfRangeException>(() => RingSegment.Create(name, options));
        Assert.Throws<ArgumentOutOfRangeException>(() => RingSegment.OpenOrCreate(name, options));
        Assert.Empty(_dir.Entries());
    }

    [Fact]
    public void Create_NullOptions_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => RingSegment.Create(_dir.NewName(), null!));
        Assert.Throws<ArgumentNullException>(() => RingSegment.OpenOrCreate(_dir.NewName(), null!));
    }

    [Fact]
    public void Open_Missing_ThrowsSegmentNotFoundException()
    {
        string name = _dir.NewName();

        Assert.Throws<SegmentNotFoundException>(() => RingSegment.Open(name));
        Assert.Throws<SegmentNotFoundException>(() => RingSegment.OpenReadOnly(name));
        Assert.Throws<SegmentNotFoundException>(() => RingSegment.Stat(name));
        Assert.Empty(_dir.Entries());
    }

    [Fact]
    public void Open_MissingDirectory_ThrowsSegmentNotFoundException()
    {
        string name = Path.Combine(_dir.DirectoryPath, "nowhere", "seg");

        Assert.Throws<SegmentNotFoundException>(() => RingSegment.Open(name));
    }

    [Fact]
    public void Open_SymbolicLink_IsRefused()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, Small);
        string link = Path.Combine(_dir.DirectoryPath, "link");
        File.CreateSymbolicLink(link, name);

        Assert.Throws<UnauthorizedAccessException>(() => RingSegment.Open(link));
    }

    [Fact]
    public void Open_Existing_AttachesToTheSameRing()
    {
        string name = _dir.NewName();
        using RingSegment created = RingSegment.Create(name, Small);
        using RingSegment opened = RingSegment.Open(name);
        using RingWriter writer = created.CreateWriter();
        using RingReader reader = opened.CreateReader();

        Assert.True(writer.TryWrite("hello"u8));
        byte[] buffer = new byte[16];
        Assert.True(reader.TryRead(buffer, out int length));
        Assert.Equal("hello"u8.ToArray(), buffer[..length]);
        Assert.Equal(created.Capacity, opened.Capacity);
        Assert.Equal(created.MaxMessageLength, opened.MaxMessageLength);
    }

    [Fact]
    public void OpenOrCreate_Missing_CreatesThenOpens()
    {
        string name = _dir.NewName();
        RingOptions options = new() { Capacity = 2048, MaxMessageLength = 64 };

        using RingSegment first = RingSegment.OpenOrCreate(name, options);
        Assert.True(File.Exists(name));
        Assert.Equal(2048, first.Capacity);
        Assert.Equal(64, first.MaxMessageLength);

        using RingSegment second = RingSegment.OpenOrCreate(name, options);
        using RingWriter writer = first.CreateWriter();
        using RingReader reader = second.CreateReader();
        Assert.True(writer.TryWrite([1, 2, 3]));
        byte[] buffer = new byte[64];
        Assert.True(reader.TryRead(buffer, out int length));
        Assert.Equal(new byte[] { 1, 2, 3 }, buffer[..length]);
        Assert.Equal([Path.GetFileName(name)], _dir.Entries());
    }

    [Fact]
    public void OpenOrCreate_ZeroMaxMessageLengthAgainstExplicitDefault_Opens()
    {
        string name = _dir.NewName();
        using RingSegment first = RingSegment.Create(name, new RingOptions { Capacity = 4096, MaxMessageLength = 512 });

        using RingSegment second = RingSegment.OpenOrCreate(name, new RingOptions { Capacity = 4096 });

        Assert.Equal(512, second.MaxMessageLength);
    }

    [Theory]
    [InlineData(8192L, 0, "Capacity")]
    [InlineData(2048L, 0, "Capacity")]
    [InlineData(4096L, 100, "MaxMessageLength")]
    [InlineData(4096L, 512, "MaxMessageLength")]
    public void OpenOrCreate_DifferentOptions_ThrowsSegmentFormatExceptionNamingTheField(long capacity, int maxMessage, string field)
    {
        string name = _dir.NewName();
        using RingSegment existing = RingSegment.Create(name, new RingOptions { Capacity = 4096, MaxMessageLength = 200 });

        SegmentFormatException error = Assert.Throws<SegmentFormatException>(
            () => RingSegment.OpenOrCreate(name, new RingOptions { Capacity = capacity, MaxMessageLength = maxMessage }));

        Assert.Equal(field, error.Field);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenOrCreate_DifferentOptions_DoesNotStayAttached()
    {
        string name = _dir.NewName();
        using (RingSegment.Create(name, Small))
        {
        }

        Assert.Throws<SegmentFormatException>(() => RingSegment.OpenOrCreate(name, new RingOptions { Capacity = 8192 }));

        SegmentStatus status = RingSegment.Stat(name);
        Assert.Empty(status.Participants);
    }

    [Fact]
    public async Task OpenOrCreate_RacingThreads_AllAttachToTheSameSegment()
    {
        const int Threads = 8;
        const int Rounds = 10;
        RingOptions options = new() { Capacity = 4096 };
        for (int round = 0; round < Rounds; round++)
        {
            string name = _dir.NewName("race");
            using Barrier start = new(Threads);
            Task<RingSegment>[] racers = Enumerable.Range(0, Threads)
                .Select(_ => Task.Factory.StartNew(() =>
                {
                    start.SignalAndWait(TimeSpan.FromSeconds(10));
                    return RingSegment.OpenOrCreate(name, options);
                }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))
                .ToArray();
            RingSegment[] segments = await Task.WhenAll(racers).WaitAsync(TimeSpan.FromSeconds(20));
            try
            {
                // Write through the first attachment, then read one message through every attachment in turn:
                // each read sees the next message only if they all share one ring.
                using (RingWriter writer = segments[0].CreateWriter())
                {
                    for (int i = 0; i < Threads; i++) Assert.True(writer.TryWrite(BitConverter.GetBytes(i)));
                }
                byte[] buffer = new byte[8];
                for (int i = 0; i < Threads; i++)
                {
                    using RingReader reader = segments[i].CreateReader();
                    Assert.True(reader.TryRead(buffer, out int length), $"round {round}: attachment {i} sees an empty ring");
                    Assert.Equal(4, length);
                    Assert.Equal(i, BitConverter.ToInt32(buffer));
                }
                Assert.Equal(Threads, RingSegment.Stat(name).AttachedProcesses);
            }
            finally
            {
                foreach (RingSegment segment in segments) segment.Dispose();
            }
        }
        Assert.All(_dir.Entries(), entry => Assert.StartsWith("race-", entry, StringComparison.Ordinal));
        Assert.Equal(Rounds, _dir.Entries().Length);
    }

    // ---- Unlink ----

    [Fact]
    public void Unlink_Existing_ReturnsTrueThenFalse()
    {
        string name = _dir.NewName();
        using (RingSegment.Create(name, Small))
        {
        }

        Assert.True(RingSegment.Unlink(name));
        Assert.False(File.Exists(name));
        Assert.False(RingSegment.Unlink(name));
        Assert.Throws<SegmentNotFoundException>(() => RingSegment.Open(name));
    }

    [Fact]
    public void Unlink_Missing_ReturnsFalse()
    {
        Assert.False(RingSegment.Unlink(_dir.NewName()));
    }

    [Fact]
    public void Unlink_WhileAttached_AttachedHandlesKeepWorking()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, Small);
        using RingSegment other = RingSegment.Open(name);
        using RingWriter writer = segment.CreateWriter();

        Assert.True(RingSegment.Unlink(name));

        using RingReader reader = other.CreateReader();
        byte[] buffer = new byte[64];
        for (int i = 0; i < 1000; i++)
        {
            Assert.True(writer.TryWrite(BitConverter.GetBytes(i)));
            Assert.True(reader.TryRead(buffer, out int length));
            Assert.Equal(i, BitConverter.ToInt32(buffer.AsSpan(0, length)));
        }
        Assert.Equal(1000, segment.GetStatus().MessagesRead);
    }

    [Fact]
    public void Unlink_ThenCreate_MakesADistinctSegment()
    {
        string name = _dir.NewName();
        using RingSegment old = RingSegment.Create(name, Small);
        using RingWriter oldWriter = old.CreateWriter();
        Assert.True(oldWriter.TryWrite("old"u8));

        Assert.True(RingSegment.Unlink(name));
        using RingSegment fresh = RingSegment.Create(name, Small);

        using RingReader reader = fresh.CreateReader();
        Assert.False(reader.TryRead(new byte[64], out _));
        Assert.Equal(1, old.GetStatus().MessagesInRing);
        Assert.Equal(0, fresh.GetStatus().MessagesInRing);
    }

    // ---- Permissions ----

    [Fact]
    public void Create_DefaultMode_Is0600()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, Small);

        Assert.Equal(Mode0600, File.GetUnixFileMode(name));
        Assert.Equal(Mode0600, segment.GetStatus().Mode);
    }

    [Theory]
    [InlineData(0b110_100_000)] // 0640
    [InlineData(0b110_110_000)] // 0660
    [InlineData(0b110_110_110)] // 0666
    [InlineData(0b111_000_000)] // 0700
    [InlineData(0b111_111_111)] // 0777
    [InlineData(0b110_000_010)] // 0602
    public void Create_ExplicitMode_FileHasExactlyThatMode(int mode)
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, Small with { Mode = (UnixFileMode)mode });

        Assert.Equal((UnixFileMode)mode, File.GetUnixFileMode(name));
        Assert.Equal((UnixFileMode)mode, RingSegment.Stat(name).Mode);
    }

    // ---- Read-only attach ----

    [Fact]
    public void OpenReadOnly_CreateWriter_ThrowsInvalidOperationException()
    {
        string name = _dir.NewName();
        using (RingSegment.Create(name, Small))
        {
        }
        using RingSegment monitor = RingSegment.OpenReadOnly(name);

        Assert.True(monitor.IsReadOnly);
        Assert.Throws<InvalidOperationException>(() => monitor.CreateWriter());
    }

    [Fact]
    public void OpenReadOnly_CreateReader_ThrowsInvalidOperationException()
    {
        string name = _dir.NewName();
        using (RingSegment.Create(name, Small))
        {
        }
        using RingSegment monitor = RingSegment.OpenReadOnly(name);

        Assert.Throws<InvalidOperationException>(() => monitor.CreateReader());
    }

    [Fact]
    public void OpenReadOnly_Attach_IsNotAParticipantButSeesTraffic()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, Small);
        using RingWriter writer = segment.CreateWriter();
        using RingSegment monitor = RingSegment.OpenReadOnly(name);

        Assert.True(writer.TryWrite(new byte[10]));
        SegmentStatus status = monitor.GetStatus();

        Assert.Single(status.Participants);
        Assert.Equal(1, status.MessagesInRing);
        Assert.Equal(1, status.MessagesWritten);
    }

    // ---- Stat ----

    [Fact]
    public void Stat_AfterWritesAndReads_ReportsContentsAndCounters()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Capacity = 4096, MaxMessageLength = 256 });
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();

        SegmentStatus empty = RingSegment.Stat(name);
        Assert.Equal(0, empty.MessagesInRing);
        Assert.Equal(0, empty.BytesInRing);

        Assert.True(writer.TryWrite(new byte[10]));
        Assert.True(writer.TryWrite(new byte[20]));
        Assert.True(writer.TryWrite(new byte[30]));
        SegmentStatus written = RingSegment.Stat(name);

        Assert.Equal(name, written.Name);
        Assert.Equal(name, written.Path);
        Assert.Equal(RingKind.Spsc, written.Kind);
        Assert.Equal(4096, written.Capacity);
        Assert.Equal(256, written.MaxMessageLength);
        Assert.Equal(SegmentLayout.FileLengthFor(4096), written.FileLength);
        Assert.Equal(Environment.ProcessId, written.CreatorPid);
        Assert.Equal(3, written.MessagesInRing);
        Assert.Equal(24 + 32 + 40, written.BytesInRing);
        Assert.Equal(3, written.MessagesWritten);
        Assert.Equal(60, written.BytesWritten);
        Assert.Equal(0, written.MessagesRead);

        Assert.True(reader.TryRead(new byte[256], out _));
        SegmentStatus read = RingSegment.Stat(name);

        Assert.Equal(2, read.MessagesInRing);
        Assert.Equal(32 + 40, read.BytesInRing);
        Assert.Equal(1, read.MessagesRead);
        Assert.Equal(10, read.BytesRead);
        Assert.Equal(3, read.MessagesWritten);
    }

    [Fact]
    public void Stat_FullAndEmptyAttempts_AreCounted()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Capacity = 64 });
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();

        Assert.False(reader.TryRead(new byte[8], out _));
        Assert.False(reader.TryRead(new byte[8], out _));
        for (int i = 0; i < 4; i++) Assert.True(writer.TryWrite(new byte[8]));
        Assert.False(writer.TryWrite(new byte[8]));

        SegmentStatus status = RingSegment.Stat(name);
        Assert.Equal(2, status.EmptyEvents);
        Assert.Equal(1, status.FullEvents);
        Assert.Equal(64, status.BytesInRing);
    }

    [Fact]
    public void Stat_CreatedAndAttachTimes_AreWithinTheTest()
    {
        string name = _dir.NewName();
        DateTimeOffset beforeCreate = DateTimeOffset.UtcNow;
        using RingSegment segment = RingSegment.Create(name, Small);
        DateTimeOffset afterCreate = DateTimeOffset.UtcNow;

        SegmentStatus created = RingSegment.Stat(name);
        Assert.InRange(created.CreatedAt, beforeCreate, afterCreate);
        Assert.NotNull(created.LastAttachAt);
        Assert.InRange(created.LastAttachAt!.Value, beforeCreate, afterCreate);
        Assert.Null(created.LastDetachAt);

        DateTimeOffset beforeAttach = DateTimeOffset.UtcNow;
        RingSegment other = RingSegment.Open(name);
        DateTimeOffset afterAttach = DateTimeOffset.UtcNow;
        other.Dispose();
        DateTimeOffset afterDetach = DateTimeOffset.UtcNow;

        SegmentStatus detached = RingSegment.Stat(name);
        Assert.InRange(detached.LastAttachAt!.Value, beforeAttach, afterAttach);
        Assert.NotNull(detached.LastDetachAt);
        Assert.InRange(detached.LastDetachAt!.Value, afterAttach, afterDetach);
        Assert.Equal(created.CreatedAt, detached.CreatedAt);
    }

    [Fact]
    public void Stat_MonitorAttach_DoesNotTouchAttachTimes()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, Small);
        SegmentStatus first = RingSegment.Stat(name);

        SegmentStatus second = RingSegment.Stat(name);

        Assert.Equal(first.LastAttachAt, second.LastAttachAt);
        Assert.Null(second.LastDetachAt);
    }

    [Fact]
    public void Stat_Participants_ReportPidRolesAndLiveness()
    {
        string name = _dir.NewName();
        using RingSegment producerSide = RingSegment.Create(name, Small);
        using RingSegment consumerSide = RingSegment.Open(name);
        using RingSegment bystander = RingSegment.Open(name);
        RingWriter writer = producerSide.CreateWriter();
        RingReader reader = consumerSide.CreateReader();

        SegmentStatus status = RingSegment.Stat(name);

        Assert.Equal(3, status.Participants.Count);
        Assert.Equal(3, status.AttachedProcesses);
        Assert.All(status.Participants, p =>
        {
            Assert.Equal(Environment.ProcessId, p.Pid);
            Assert.True(p.IsAlive);
        });
        Assert.Equal(
            new[] { RingRole.None, RingRole.Producer, RingRole.Consumer }.Order(),
            status.Participants.Select(p => p.Roles).Order());

        writer.Dispose();
        reader.Dispose();
        SegmentStatus released = RingSegment.Stat(name);
        Assert.All(released.Participants, p => Assert.Equal(RingRole.None, p.Roles));

        consumerSide.Dispose();
        Assert.Equal(2, RingSegment.Stat(name).Participants.Count);
    }

    [Fact]
    public void Stat_BothRolesOnOneAttachment_ReportsProducerAndConsumer()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, Small);
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();

        ParticipantStatus participant = Assert.Single(RingSegment.Stat(name).Participants);

        Assert.Equal(RingRole.Producer | RingRole.Consumer, participant.Roles);
    }

    [Fact]
    public void Stat_EntryWithoutItsLock_IsReportedDead()
    {
        string name = _dir.NewName();
        using (RingSegment.Create(name, Small))
        {
        }
        // What a process that died while attached leaves behind: an entry marked in use, nobody holding its lock.
        long entry = SegmentLayout.ParticipantEntryOffset(5);
        SegmentFile.WriteInt32(name, entry + SegmentLayout.EntryPidOffset, 999_999);
        SegmentFile.WriteInt32(name, entry + SegmentLayout.EntryRolesOffset, (int)RingRole.Producer);
        SegmentFile.WriteInt32(name, entry + SegmentLayout.EntryStateOffset, 1);
        using RingSegment live = RingSegment.Open(name);

        SegmentStatus status = RingSegment.Stat(name);

        ParticipantStatus dead = Assert.Single(status.Participants, p => p.Pid == 999_999);
        Assert.False(dead.IsAlive);
        Assert.Equal(RingRole.Producer, dead.Roles);
        Assert.True(Assert.Single(status.Participants, p => p.Pid == Environment.ProcessId).IsAlive);
        Assert.Equal(1, status.AttachedProcesses);
    }

    [Fact]
    public void Open_ParticipantTableFull_ThrowsRingExceptionUntilOneDetaches()
    {
        string name = _dir.NewName();
        List<RingSegment> attached = [RingSegment.Create(name, Small)];
        try
        {
            while (attached.Count < SegmentLayout.ParticipantCapacity) attached.Add(RingSegment.Open(name));
            Assert.Equal(SegmentLayout.ParticipantCapacity, RingSegment.Stat(name).AttachedProcesses);

            RingException error = Assert.Throws<RingException>(() => RingSegment.Open(name));
            Assert.Contains($"{SegmentLayout.ParticipantCapacity}", error.Message, StringComparison.Ordinal);

            using (RingSegment monitor = RingSegment.OpenReadOnly(name)) // a monitor needs no entry
                Assert.Equal(SegmentLayout.ParticipantCapacity, monitor.GetStatus().Participants.Count);

            attached[10].Dispose();
            attached[10] = RingSegment.Open(name);
            Assert.Equal(SegmentLayout.ParticipantCapacity, RingSegment.Stat(name).AttachedProcesses);
        }
        finally
        {
            foreach (RingSegment segment in attached) segment.Dispose();
        }
        Assert.Empty(RingSegment.Stat(name).Participants);
    }

    [Fact]
    public void GetStatus_AfterDispose_ThrowsObjectDisposedException()
    {
        RingSegment segment = RingSegment.Create(_dir.NewName(), Small);
        segment.Dispose();
        segment.Dispose(); // idempotent

        Assert.Throws<ObjectDisposedException>(() => segment.GetStatus());
        Assert.Throws<ObjectDisposedException>(() => segment.CreateWriter());
        Assert.Throws<ObjectDisposedException>(() => segment.CreateReader());
    }

    [Fact]
    public void Dispose_WithEndpointsStillOpen_EndpointsKeepWorking()
    {
        string name = _dir.NewName();
        RingSegment segment = RingSegment.Create(name, Small);
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();

        segment.Dispose();

        Assert.True(writer.TryWrite("still mapped"u8));
        byte[] buffer = new byte[64];
        Assert.True(reader.TryRead(buffer, out int length));
        Assert.Equal("still mapped"u8.ToArray(), buffer[..length]);
    }

    // ---- Names ----

    public static TheoryData<string> InvalidNames => new()
    {
        "",
        "../x",
        "..",
        ".",
        ".hidden",
        "a/b",
        "a\\b",
        "with space",
        "tab\tname",
        "ümlaut",
        "semi;colon",
        new string('a', 201),
        "/tmp/.hidden",
        "/tmp/",
        "/tmp/" + new string('a', 201),
    };

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public void AllEntryPoints_InvalidName_ThrowArgumentException(string name)
    {
        Assert.ThrowsAny<ArgumentException>(() => RingSegment.Create(name, Small));
        Assert.ThrowsAny<ArgumentException>(() => RingSegment.Open(name));
        Assert.ThrowsAny<ArgumentException>(() => RingSegment.OpenReadOnly(name));
        Assert.ThrowsAny<ArgumentException>(() => RingSegment.OpenOrCreate(name, Small));
        Assert.ThrowsAny<ArgumentException>(() => RingSegment.Unlink(name));
        Assert.ThrowsAny<ArgumentException>(() => RingSegment.Stat(name));
    }

    [Fact]
    public void Create_InvalidAbsoluteName_ThrowsArgumentExceptionAndCreatesNothing()
    {
        Assert.ThrowsAny<ArgumentException>(() => RingSegment.Create(Path.Combine(_dir.DirectoryPath, ".hidden"), Small));
        Assert.ThrowsAny<ArgumentException>(() => RingSegment.Create(Path.Combine(_dir.DirectoryPath, new string('x', 201)), Small));

        Assert.Empty(_dir.Entries());
    }

    [Fact]
    public void Create_NullName_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => RingSegment.Create(null!, Small));
        Assert.Throws<ArgumentNullException>(() => RingSegment.Open(null!));
    }

    [Fact]
    public void Create_LongestValidName_Works()
    {
        string name = Path.Combine(_dir.DirectoryPath, new string('n', 200));

        using RingSegment segment = RingSegment.Create(name, Small);

        Assert.True(File.Exists(name));
        Assert.Equal([new string('n', 200)], _dir.Entries());
    }

    [Fact]
    public void Create_NameWithDotsDashesUnderscores_Works()
    {
        string name = Path.Combine(_dir.DirectoryPath, "a.b-c_D.9");

        using RingSegment segment = RingSegment.Create(name, Small);

        Assert.True(File.Exists(name));
    }

    [Fact]
    public void Create_AbsoluteNameWithDotDotSegments_ResolvesToTheNormalisedPath()
    {
        string sub = Path.Combine(_dir.DirectoryPath, "sub");
        Directory.CreateDirectory(sub);
        string name = Path.Combine(sub, "..", "seg");

        using RingSegment segment = RingSegment.Create(name, Small);

        Assert.Equal(Path.Combine(_dir.DirectoryPath, "seg"), segment.Path);
        Assert.True(File.Exists(Path.Combine(_dir.DirectoryPath, "seg")));
    }
}

/// <summary>umask is process-wide: tests that change it run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessUmaskCollection
{
    public const string Name = "Process umask";
}

[Collection(ProcessUmaskCollection.Name)]
public sealed partial class SegmentUmaskTests : IDisposable
{
    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(0b110_100_000, 0b000_111_111)] // 0640 under umask 077
    [InlineData(0b110_110_110, 0b000_010_010)] // 0666 under umask 022
    [InlineData(0b111_111_111, 0b000_111_111)] // 0777 under umask 077
    public void Create_UnderNarrowingUmask_FileHasExactlyTheAskedMode(int mode, int umask)
    {
        Assert.NotEqual(mode, mode & ~umask); // the umask would narrow this mode
        string name = _dir.NewName();
        uint previous = SetUmask((uint)umask);
        RingSegment segment;
        try
        {
            segment = RingSegment.Create(name, new RingOptions { Capacity = 4096, Mode = (UnixFileMode)mode });
        }
        finally
        {
            SetUmask(previous);
        }
        using (segment)
        {
            Assert.Equal((UnixFileMode)mode, File.GetUnixFileMode(name));
        }
    }

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint SetUmask(uint mask);
}
