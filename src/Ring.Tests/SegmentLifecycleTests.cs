using Ring.Tooling.Platform;

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
    public void Create_DefaultOptions_IsAnSpscRingOfOneMebibyte()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, new RingOptions());

        Assert.Equal(RingKind.Spsc, segment.Kind);
        Assert.Equal(1L << 20, segment.Capacity);
        Assert.Equal(RingOptions.DefaultSpscCapacity, segment.Capacity);
        Assert.Equal(1 << 17, segment.MaxMessageLength);
        Assert.Equal(0, segment.SlotCount);
        Assert.Equal(SegmentLayout.FileLengthFor(1L << 20), new FileInfo(name).Length);
    }

    [Fact]
    public void Create_MpmcDefaults_Has1024SlotsOf240Bytes()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Kind = RingKind.Mpmc });

        Assert.Equal(RingKind.Mpmc, segment.Kind);
        Assert.Equal(1024, segment.SlotCount);
        Assert.Equal(RingOptions.DefaultSlotCount, segment.SlotCount);
        Assert.Equal(240, segment.MaxMessageLength);
        Assert.Equal(RingOptions.DefaultSlotPayload, segment.MaxMessageLength);
        Assert.Equal(1024L * 256, segment.Capacity);
        Assert.Equal(SegmentLayout.FileLengthFor(1024L * 256), new FileInfo(name).Length);
    }

    [Theory]
    [InlineData(2, 0, 2 * 256)]
    [InlineData(2, 1, 2 * 24)]
    [InlineData(16, 100, 16 * 120)]
    [InlineData(1 << 14, 8, (1 << 14) * 24)]
    [InlineData(2, 1 << 20, 2 * ((1 << 20) + 16))]
    public void Create_MpmcSlotsAndPayload_SizeTheRingAsSlotsTimesStride(int slots, int payload, long capacity)
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Kind = RingKind.Mpmc, SlotCount = slots, MaxMessageLength = payload });

        Assert.Equal(slots, segment.SlotCount);
        Assert.Equal(payload == 0 ? RingOptions.DefaultSlotPayload : payload, segment.MaxMessageLength);
        Assert.Equal(capacity, segment.Capacity);
        Assert.Equal(SegmentLayout.FileLengthFor(segment.Capacity), new FileInfo(name).Length);
        SegmentStatus status = segment.GetStatus();
        Assert.Equal((RingKind.Mpmc, slots, segment.Capacity, segment.MaxMessageLength), (status.Kind, status.SlotCount, status.Capacity, status.MaxMessageLength));
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
        new RingOptions { Kind = (RingKind)0 },
        new RingOptions { Capacity = 4096, SlotCount = 16 }, // an SPSC ring has no slots
        new RingOptions { SlotCount = 2 },
        new RingOptions { Kind = RingKind.Mpmc, Capacity = 4096 }, // an MPMC ring is sized by its slots
        new RingOptions { Kind = RingKind.Mpmc, Capacity = -1 },
        new RingOptions { Kind = RingKind.Mpmc, SlotCount = 1 },
        new RingOptions { Kind = RingKind.Mpmc, SlotCount = 3 },
        new RingOptions { Kind = RingKind.Mpmc, SlotCount = 1000 },
        new RingOptions { Kind = RingKind.Mpmc, SlotCount = 1 << 25 },
        new RingOptions { Kind = RingKind.Mpmc, SlotCount = -2 },
        new RingOptions { Kind = RingKind.Mpmc, SlotCount = int.MinValue },
        new RingOptions { Kind = RingKind.Mpmc, MaxMessageLength = -1 },
        new RingOptions { Kind = RingKind.Mpmc, MaxMessageLength = (1 << 20) + 1 },
        new RingOptions { Kind = RingKind.Mpmc, SlotCount = 1 << 24, MaxMessageLength = 1 << 20 }, // 16 TiB of slots
        new RingOptions { Kind = RingKind.Mpmc, Mode = UnixFileMode.UserRead },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions), DisableDiscoveryEnumeration = true)] // RingOptions is not serializable: one test case, not one per row
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

        SegmentAccessException error = Assert.Throws<SegmentAccessException>(() => RingSegment.Open(link));
        Assert.Equal(link, error.Path);
        Assert.Contains("symbolic link", error.Message, StringComparison.Ordinal);
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
    [InlineData(0L, 0, "Capacity")] // the 1 MiB default
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

    public static TheoryData<RingOptions, RingOptions, string> DifferentKindOrSlots => new()
    {
        // existing, asked for, the field the error must name: the one the caller set differently
        { new RingOptions { Capacity = 4096 }, new RingOptions { Kind = RingKind.Mpmc, SlotCount = 16 }, "Kind" },
        { new RingOptions { Kind = RingKind.Mpmc, SlotCount = 16 }, new RingOptions { Capacity = 4096 }, "Kind" },
        { new RingOptions { Kind = RingKind.Mpmc, SlotCount = 16 }, new RingOptions { Kind = RingKind.Mpmc, SlotCount = 32 }, "SlotCount" },
        { new RingOptions { Kind = RingKind.Mpmc, SlotCount = 16 }, new RingOptions { Kind = RingKind.Mpmc }, "SlotCount" }, // the default 1024
        { new RingOptions { Kind = RingKind.Mpmc, SlotCount = 16 }, new RingOptions { Kind = RingKind.Mpmc, SlotCount = 16, MaxMessageLength = 100 }, "MaxMessageLength" },
        // Same stride (256 bytes), so the same capacity: only the payload size differs.
        { new RingOptions { Kind = RingKind.Mpmc, SlotCount = 16 }, new RingOptions { Kind = RingKind.Mpmc, SlotCount = 16, MaxMessageLength = 233 }, "MaxMessageLength" },
    };

    [Theory]
    [MemberData(nameof(DifferentKindOrSlots), DisableDiscoveryEnumeration = true)] // as above
    public void OpenOrCreate_DifferentKindSlotsOrPayload_ThrowsSegmentFormatExceptionNamingTheField(RingOptions existingOptions, RingOptions asked, string field)
    {
        string name = _dir.NewName();
        using RingSegment existing = RingSegment.Create(name, existingOptions);

        SegmentFormatException error = Assert.Throws<SegmentFormatException>(() => RingSegment.OpenOrCreate(name, asked));

        Assert.True(field == error.Field, $"the error names '{error.Field}', the caller set '{field}' differently: {error.Message}");
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
        Assert.Single(existing.GetStatus().Participants); // the refused attach left
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1024, 0)]
    [InlineData(0, 240)]
    [InlineData(1024, 240)]
    public void OpenOrCreate_MpmcDefaultsAgainstExplicitDefaults_Opens(int slots, int payload)
    {
        string name = _dir.NewName();
        using RingSegment first = RingSegment.Create(name, new RingOptions { Kind = RingKind.Mpmc });
        using RingWriter writer = first.CreateWriter();
        Assert.True(writer.TryWrite("shared"u8));

        using RingSegment second = RingSegment.OpenOrCreate(name, new RingOptions { Kind = RingKind.Mpmc, SlotCount = slots, MaxMessageLength = payload });

        Assert.Equal((RingKind.Mpmc, 1024, 240), (second.Kind, second.SlotCount, second.MaxMessageLength));
        Assert.Equal(1, second.GetStatus().MessagesInRing);
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
                SegmentStatus status = RingSegment.Stat(name);
                Assert.Equal(Threads, status.Participants.Count(p => p.IsAlive && p.Roles == RingRole.None));
                Assert.Equal(1, status.AttachedProcesses); // one process, however many attachments
                Assert.False(status.IsStale);
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

        // The creator's attachment and its writer: nothing for the monitor.
        Assert.Equal([RingRole.None, RingRole.Producer], status.Participants.Select(p => p.Roles).Order());
        Assert.Equal(1, status.MessagesInRing);
        Assert.Equal(1, status.MessagesWritten);
        Assert.False(monitor.WasStale);
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

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public void Stat_AttachmentsAndEndpoints_EachHaveTheirOwnEntry(RingKind kind)
    {
        string name = _dir.NewName();
        RingOptions options = kind == RingKind.Mpmc ? new RingOptions { Kind = RingKind.Mpmc, SlotCount = 16 } : Small;
        DateTimeOffset before = DateTimeOffset.UtcNow;
        using RingSegment producerSide = RingSegment.Create(name, options);
        using RingSegment consumerSide = RingSegment.Open(name);
        using RingSegment bystander = RingSegment.Open(name);
        RingWriter writer = producerSide.CreateWriter();
        RingReader reader = consumerSide.CreateReader();
        DateTimeOffset after = DateTimeOffset.UtcNow;

        SegmentStatus status = RingSegment.Stat(name);

        // Three attachments (no role) and two endpoints (one role each), all in this one process.
        Assert.Equal(5, status.Participants.Count);
        Assert.Equal(1, status.AttachedProcesses);
        Assert.False(status.IsStale);
        Assert.All(status.Participants, p =>
        {
            Assert.Equal(Environment.ProcessId, p.Pid);
            Assert.True(p.IsAlive);
            Assert.InRange(p.Index, 0, SegmentLayout.ParticipantCapacity - 1);
            Assert.InRange(p.AttachedAt, before.AddMilliseconds(-1), after.AddMilliseconds(1));
        });
        Assert.Equal(5, status.Participants.Select(p => p.Index).Distinct().Count());
        Assert.Equal(
            new[] { RingRole.None, RingRole.None, RingRole.None, RingRole.Producer, RingRole.Consumer }.Order(),
            status.Participants.Select(p => p.Roles).Order());

        writer.Dispose();
        reader.Dispose();
        SegmentStatus released = RingSegment.Stat(name);
        Assert.Equal(3, released.Participants.Count);
        Assert.All(released.Participants, p => Assert.Equal(RingRole.None, p.Roles));

        consumerSide.Dispose();
        Assert.Equal(2, RingSegment.Stat(name).Participants.Count);
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public void Stat_WriterAndReaderOnOneAttachment_ReportsAttachmentProducerAndConsumerEntries(RingKind kind)
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, kind == RingKind.Mpmc ? new RingOptions { Kind = RingKind.Mpmc, SlotCount = 16 } : Small);
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();

        SegmentStatus status = RingSegment.Stat(name);

        Assert.Equal([RingRole.None, RingRole.Producer, RingRole.Consumer], status.Participants.Select(p => p.Roles).Order());
        Assert.Equal(3, status.Participants.Select(p => p.Index).Distinct().Count());
        Assert.Equal(1, status.AttachedProcesses);
    }

    [Fact]
    public void Stat_MpmcManyEndpoints_ListsEveryOneAndSumsTheirCounters()
    {
        string name = _dir.NewName();
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Kind = RingKind.Mpmc, SlotCount = 64, MaxMessageLength = 32 });
        RingWriter[] writers = [.. Enumerable.Range(0, 5).Select(_ => segment.CreateWriter())];
        RingReader[] readers = [.. Enumerable.Range(0, 3).Select(_ => segment.CreateReader())];
        for (int w = 0; w < writers.Length; w++)
        {
            for (int i = 0; i <= w; i++) Assert.True(writers[w].TryWrite(new byte[w + 1]));
        }
        // 15 messages of 55 bytes in all; each reader takes some.
        byte[] buffer = new byte[32];
        int read = 0;
        for (int r = 0; r < readers.Length; r++)
        {
            for (int i = 0; i < 2 * (r + 1); i++, read++) Assert.True(readers[r].TryRead(buffer, out _));
        }
        Assert.Equal(12, read);

        SegmentStatus live = RingSegment.Stat(name);
        Assert.Equal(5, live.Participants.Count(p => p.Roles == RingRole.Producer && p.IsAlive));
        Assert.Equal(3, live.Participants.Count(p => p.Roles == RingRole.Consumer && p.IsAlive));
        Assert.Equal(9, live.Participants.Select(p => p.Index).Distinct().Count());
        Assert.Equal((15L, 55L, 12L, 3L), (live.MessagesWritten, live.BytesWritten, live.MessagesRead, live.MessagesInRing));

        // Detached endpoints' counts move to the header; the totals do not change.
        for (int w = 0; w < 3; w++) writers[w].Dispose();
        readers[0].Dispose();
        SegmentStatus partly = RingSegment.Stat(name);
        Assert.Equal(2, partly.Participants.Count(p => p.Roles == RingRole.Producer));
        Assert.Equal((15L, 55L, 12L, 3L), (partly.MessagesWritten, partly.BytesWritten, partly.MessagesRead, partly.MessagesInRing));

        foreach (RingWriter writer in writers) writer.Dispose();
        foreach (RingReader reader in readers) reader.Dispose();
        SegmentStatus detached = RingSegment.Stat(name);
        Assert.Equal(RingRole.None, Assert.Single(detached.Participants).Roles);
        Assert.Equal((15L, 55L, 12L, 3L), (detached.MessagesWritten, detached.BytesWritten, detached.MessagesRead, detached.MessagesInRing));
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
        Assert.False(status.IsStale); // one participant is alive
        Assert.True(live.WasStale); // when it opened, the dead entry was the only one
    }

    [Fact]
    public void StatAndOpen_OnlyEntriesWithoutTheirLocks_ReportStale()
    {
        string name = _dir.NewName();
        using (RingSegment.Create(name, Small))
        {
        }
        Assert.False(RingSegment.Stat(name).IsStale); // everyone detached cleanly: nothing left behind
        // What processes that died while attached leave behind: entries marked in use, nobody holding their locks.
        foreach (int index in new[] { 0, 7 })
        {
            long entry = SegmentLayout.ParticipantEntryOffset(index);
            SegmentFile.WriteInt32(name, entry + SegmentLayout.EntryPidOffset, 999_990 + index);
            SegmentFile.WriteInt32(name, entry + SegmentLayout.EntryStateOffset, 1);
        }

        SegmentStatus status = RingSegment.Stat(name);
        Assert.True(status.IsStale);
        Assert.Equal(2, status.Participants.Count);
        Assert.Equal(0, status.AttachedProcesses);

        using RingSegment opened = RingSegment.Open(name);
        Assert.True(opened.WasStale);
        // The opener took the first dead entry over; the segment now has a live participant.
        SegmentStatus afterOpen = opened.GetStatus();
        Assert.False(afterOpen.IsStale);
        Assert.Equal(Environment.ProcessId, Assert.Single(afterOpen.Participants, p => p.Index == 0).Pid);
        Assert.False(Assert.Single(afterOpen.Participants, p => p.Index == 7).IsAlive);
        using RingSegment second = RingSegment.Open(name);
        Assert.False(second.WasStale);
    }

    [Fact]
    public void Open_DeadMpmcEndpointEntry_IsTakenOverAndItsCountersKept()
    {
        string name = _dir.NewName();
        using (RingSegment.Create(name, new RingOptions { Kind = RingKind.Mpmc, SlotCount = 8 }))
        {
        }
        // A producer that died after writing 5 messages (42 bytes) left its entry and counters behind.
        long entry = SegmentLayout.ParticipantEntryOffset(0);
        SegmentFile.WriteInt32(name, entry + SegmentLayout.EntryPidOffset, 999_999);
        SegmentFile.WriteInt32(name, entry + SegmentLayout.EntryRolesOffset, (int)RingRole.Producer);
        SegmentFile.WriteInt64(name, entry + SegmentLayout.EntryMessagesWrittenOffset, 5);
        SegmentFile.WriteInt64(name, entry + SegmentLayout.EntryBytesWrittenOffset, 42);
        SegmentFile.WriteInt64(name, entry + SegmentLayout.EntryFullEventsOffset, 3);
        SegmentFile.WriteInt32(name, entry + SegmentLayout.EntryStateOffset, 1);
        SegmentFile.WriteInt64(name, SegmentLayout.MessagesWrittenOffset, 10); // and earlier producers' totals
        SegmentFile.WriteInt64(name, SegmentLayout.BytesWrittenOffset, 100);

        SegmentStatus dead = RingSegment.Stat(name);
        Assert.Equal((15L, 142L, 3L), (dead.MessagesWritten, dead.BytesWritten, dead.FullEvents));

        using RingSegment segment = RingSegment.Open(name); // takes entry 0 over

        Assert.Equal(0L, SegmentFile.ReadInt64(name, entry + SegmentLayout.EntryMessagesWrittenOffset));
        Assert.Equal(15L, SegmentFile.ReadInt64(name, SegmentLayout.MessagesWrittenOffset));
        Assert.Equal(142L, SegmentFile.ReadInt64(name, SegmentLayout.BytesWrittenOffset));
        Assert.Equal(3L, SegmentFile.ReadInt64(name, SegmentLayout.FullEventsOffset));
        SegmentStatus taken = segment.GetStatus();
        Assert.Equal((15L, 142L, 3L), (taken.MessagesWritten, taken.BytesWritten, taken.FullEvents));
        ParticipantStatus me = Assert.Single(taken.Participants);
        Assert.Equal((0, Environment.ProcessId, RingRole.None, true), (me.Index, me.Pid, me.Roles, me.IsAlive));
    }

    [Fact]
    public void Open_ParticipantTableFull_ThrowsRingExceptionUntilOneDetaches()
    {
        string name = _dir.NewName();
        List<RingSegment> attached = [RingSegment.Create(name, Small)];
        try
        {
            while (attached.Count < SegmentLayout.ParticipantCapacity) attached.Add(RingSegment.Open(name));
            SegmentStatus full = RingSegment.Stat(name);
            Assert.Equal(SegmentLayout.ParticipantCapacity, full.Participants.Count(p => p.IsAlive));
            Assert.Equal(1, full.AttachedProcesses);

            RingException error = Assert.Throws<RingException>(() => RingSegment.Open(name));
            Assert.Contains($"{SegmentLayout.ParticipantCapacity}", error.Message, StringComparison.Ordinal);

            using (RingSegment monitor = RingSegment.OpenReadOnly(name)) // a monitor needs no entry
                Assert.Equal(SegmentLayout.ParticipantCapacity, monitor.GetStatus().Participants.Count);

            attached[10].Dispose();
            attached[10] = RingSegment.Open(name);
            Assert.Equal(SegmentLayout.ParticipantCapacity, RingSegment.Stat(name).Participants.Count(p => p.IsAlive));
        }
        finally
        {
            foreach (RingSegment segment in attached) segment.Dispose();
        }
        Assert.Empty(RingSegment.Stat(name).Participants);
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public void CreateWriterOrReader_ParticipantTableFull_ThrowsRingExceptionUntilAnEntryIsFree(RingKind kind)
    {
        // Endpoints hold entries too: 63 attachments and one writer fill the table.
        string name = _dir.NewName();
        RingOptions options = kind == RingKind.Mpmc ? new RingOptions { Kind = RingKind.Mpmc, SlotCount = 4 } : Small;
        List<RingSegment> attached = [RingSegment.Create(name, options)];
        RingWriter? writer = null;
        try
        {
            while (attached.Count < SegmentLayout.ParticipantCapacity - 1) attached.Add(RingSegment.Open(name));
            writer = attached[0].CreateWriter();

            Assert.Throws<RingException>(() => attached[1].CreateReader());
            Assert.Throws<RingException>(() => RingSegment.Open(name));
            if (kind == RingKind.Mpmc) Assert.Throws<RingException>(() => attached[1].CreateWriter());
            Assert.Equal(SegmentLayout.ParticipantCapacity, RingSegment.Stat(name).Participants.Count);

            attached[5].Dispose();
            // The refused reader left no role or entry behind: a reader can be created now.
            using RingReader reader = attached[1].CreateReader();
            Assert.True(writer.TryWrite("room"u8));
            byte[] buffer = new byte[16];
            Assert.True(reader.TryRead(buffer, out int length));
            Assert.Equal("room"u8.ToArray(), buffer[..length]);
        }
        finally
        {
            writer?.Dispose();
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
    public void Dispose_WithEndpointsStillOpen_DisposesThemAndLeavesNoParticipant()
    {
        string name = _dir.NewName();
        RingSegment segment = RingSegment.Create(name, Small);
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        Assert.True(writer.TryWrite("left in the ring"u8));

        segment.Dispose();

        Assert.Throws<ObjectDisposedException>(() => writer.TryWrite("x"u8));
        Assert.Throws<ObjectDisposedException>(() => reader.TryRead(new byte[64], out _));
        Assert.Empty(RingSegment.Stat(name).Participants);
        using RingSegment again = RingSegment.Open(name);
        using RingReader successor = again.CreateReader();
        byte[] buffer = new byte[64];
        Assert.True(successor.TryRead(buffer, out int length));
        Assert.Equal("left in the ring"u8.ToArray(), buffer[..length]);
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
public sealed class SegmentUmaskTests : IDisposable
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
        UnixFileMode previous = LibC.SetUmask((UnixFileMode)umask);
        RingSegment segment;
        try
        {
            segment = RingSegment.Create(name, new RingOptions { Capacity = 4096, Mode = (UnixFileMode)mode });
        }
        finally
        {
            LibC.SetUmask(previous);
        }
        using (segment)
        {
            Assert.Equal((UnixFileMode)mode, File.GetUnixFileMode(name));
        }
    }
}
