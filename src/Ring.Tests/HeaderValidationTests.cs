namespace Ring.Tests;

/// <summary>
/// Every header field an opener validates, corrupted in the file on its own: Open must refuse the segment and
/// name that field. The file is written while nobody in this process has it mapped.
/// </summary>
public sealed class HeaderValidationTests : IDisposable
{
    private const long Capacity = 4096;
    private const int MaxMessage = 256;

    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A valid, detached segment: the file is not mapped anywhere once this returns.</summary>
    private string CreateDetached()
    {
        string name = _dir.NewName();
        using (RingSegment segment = RingSegment.Create(name, new RingOptions { Capacity = Capacity, MaxMessageLength = MaxMessage }))
        using (RingWriter writer = segment.CreateWriter())
        {
            Assert.True(writer.TryWrite("payload"u8));
        }
        return name;
    }

    private static SegmentFormatException AssertOpenRejects(string name, string field)
    {
        SegmentFormatException error = Assert.Throws<SegmentFormatException>(() => RingSegment.Open(name));
        Assert.Equal(field, error.Field);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
        // Every way in validates the same header.
        Assert.Equal(field, Assert.Throws<SegmentFormatException>(() => RingSegment.OpenReadOnly(name)).Field);
        Assert.Equal(field, Assert.Throws<SegmentFormatException>(() => RingSegment.Stat(name)).Field);
        Assert.Equal(field, Assert.Throws<SegmentFormatException>(
            () => RingSegment.OpenOrCreate(name, new RingOptions { Capacity = Capacity, MaxMessageLength = MaxMessage })).Field);
        return error;
    }

    [Fact]
    public void Open_UntouchedSegment_Succeeds()
    {
        string name = CreateDetached();

        using RingSegment segment = RingSegment.Open(name);

        Assert.Equal(Capacity, segment.Capacity);
        Assert.Equal(MaxMessage, segment.MaxMessageLength);
    }

    [Fact]
    public void Open_ChecksumRecomputedWithoutChanges_Succeeds()
    {
        // The tests below rely on FixChecksum computing exactly what the library stores.
        string name = CreateDetached();
        long stored = SegmentFile.ReadInt64(name, SegmentLayout.ChecksumOffset);

        SegmentFile.FixChecksum(name);

        Assert.Equal(stored, SegmentFile.ReadInt64(name, SegmentLayout.ChecksumOffset));
        using RingSegment segment = RingSegment.Open(name);
    }

    [Theory]
    [InlineData(0x0047455347_4E4953L)] // one bit off
    [InlineData(-1L)]
    [InlineData(0x0000000000000001L)]
    public void Open_WrongMagic_ThrowsNamingMagic(long magic)
    {
        string name = CreateDetached();
        SegmentFile.WriteInt64(name, SegmentLayout.MagicOffset, magic);

        AssertOpenRejects(name, "Magic");
    }

    [Fact]
    public void Open_ZeroMagic_ThrowsNamingMagicAsNeverPublished()
    {
        string name = CreateDetached();
        SegmentFile.WriteInt64(name, SegmentLayout.MagicOffset, 0);

        SegmentFormatException error = AssertOpenRejects(name, "Magic");

        Assert.Contains("never published", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_AllZeroHeader_ThrowsNamingMagic()
    {
        // A file of the right size that nobody initialised.
        string name = _dir.NewName();
        using (FileStream stream = new(name, FileMode.CreateNew, FileAccess.Write))
            stream.SetLength(SegmentLayout.FileLengthFor(Capacity));

        AssertOpenRejects(name, "Magic");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(-1)]
    public void Open_WrongVersionChecksumFixed_ThrowsNamingVersion(int version)
    {
        string name = CreateDetached();
        SegmentFile.WriteInt32(name, SegmentLayout.VersionOffset, version);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "Version");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(99)]
    [InlineData(-1)]
    public void Open_UnknownKindChecksumFixed_ThrowsNamingKind(int kind)
    {
        string name = CreateDetached();
        SegmentFile.WriteInt32(name, SegmentLayout.KindOffset, kind);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "Kind");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(0x1000)]
    [InlineData(0x2008)]
    [InlineData(0x4000)]
    public void Open_WrongHeaderLengthChecksumFixed_ThrowsNamingHeaderLength(int headerLength)
    {
        string name = CreateDetached();
        SegmentFile.WriteInt32(name, SegmentLayout.HeaderLengthOffset, headerLength);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "HeaderLength");
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(32L)]
    [InlineData(Capacity + 8)]
    [InlineData(Capacity - 1)]
    [InlineData(-Capacity)]
    [InlineData(1L << 41)]
    [InlineData(long.MinValue)]
    public void Open_InvalidCapacityChecksumFixed_ThrowsNamingCapacity(long capacity)
    {
        string name = CreateDetached();
        SegmentFile.WriteInt64(name, SegmentLayout.CapacityOffset, capacity);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "Capacity");
    }

    [Theory]
    [InlineData((int)(Capacity / 8) + 1)]
    [InlineData(-1)]
    [InlineData(int.MaxValue)]
    [InlineData(int.MinValue)]
    public void Open_InvalidMaxMessageLengthChecksumFixed_ThrowsNamingMaxMessageLength(int maxMessage)
    {
        string name = CreateDetached();
        SegmentFile.WriteInt32(name, SegmentLayout.MaxMessageLengthOffset, maxMessage);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "MaxMessageLength");
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(Capacity)]
    [InlineData(0x2000 + Capacity - 8)]
    [InlineData(0x2000 + Capacity + 8)]
    [InlineData(0x2000 + 2 * Capacity)]
    [InlineData(-1L)]
    public void Open_WrongFileLengthFieldChecksumFixed_ThrowsNamingFileLength(long fileLength)
    {
        string name = CreateDetached();
        SegmentFile.WriteInt64(name, SegmentLayout.FileLengthOffset, fileLength);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "FileLength");
    }

    [Fact]
    public void Open_CapacityGrownToAnotherPowerOfTwoChecksumFixed_ThrowsNamingFileLength()
    {
        // A valid-looking capacity that the file is too short for: the ring must never index past the mapping.
        string name = CreateDetached();
        SegmentFile.WriteInt64(name, SegmentLayout.CapacityOffset, Capacity * 2);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "FileLength");
    }

    [Fact]
    public void Open_CapacityAndFileLengthGrownChecksumFixed_ThrowsNamingFileLength()
    {
        // Consistent header fields describing a ring bigger than the file.
        string name = CreateDetached();
        SegmentFile.WriteInt64(name, SegmentLayout.CapacityOffset, Capacity * 2);
        SegmentFile.WriteInt64(name, SegmentLayout.FileLengthOffset, SegmentLayout.FileLengthFor(Capacity * 2));
        SegmentFile.FixChecksum(name);

        SegmentFormatException error = AssertOpenRejects(name, "FileLength");

        Assert.Contains($"{SegmentLayout.FileLengthFor(Capacity)}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(32)]
    [InlineData(65)]
    [InlineData(-64)]
    public void Open_WrongParticipantCapacityChecksumFixed_ThrowsNamingParticipantCapacity(int participants)
    {
        string name = CreateDetached();
        SegmentFile.WriteInt32(name, SegmentLayout.ParticipantCapacityOffset, participants);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "ParticipantCapacity");
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(long.MinValue)]
    public void Open_WrongChecksum_ThrowsNamingChecksum(long flip)
    {
        string name = CreateDetached();
        long stored = SegmentFile.ReadInt64(name, SegmentLayout.ChecksumOffset);
        SegmentFile.WriteInt64(name, SegmentLayout.ChecksumOffset, stored ^ flip);

        AssertOpenRejects(name, "Checksum");
    }

    public static TheoryData<string, int, int> ChecksummedFields => new()
    {
        // field, offset, width in bytes
        { "Kind", SegmentLayout.KindOffset, 4 },
        { "HeaderLength", SegmentLayout.HeaderLengthOffset, 4 },
        { "MaxMessageLength", SegmentLayout.MaxMessageLengthOffset, 4 },
        { "Capacity", SegmentLayout.CapacityOffset, 8 },
        { "FileLength", SegmentLayout.FileLengthOffset, 8 },
        { "CreatorPid", SegmentLayout.CreatorPidOffset, 4 },
        { "CreatorUid", SegmentLayout.CreatorUidOffset, 4 },
        { "CreatedNs", SegmentLayout.CreatedNsOffset, 8 },
        { "ParticipantCapacity", SegmentLayout.ParticipantCapacityOffset, 4 },
        { "CreateMode", SegmentLayout.CreateModeOffset, 4 },
    };

    [Theory]
    [MemberData(nameof(ChecksummedFields))]
    public void Open_ChecksummedFieldChangedChecksumNotFixed_ThrowsNamingChecksum(string field, int offset, int width)
    {
        string name = CreateDetached();
        // A change that would be valid on its own where possible: only the checksum can catch it.
        if (width == 4) SegmentFile.WriteInt32(name, offset, SegmentFile.ReadInt32(name, offset) ^ 0x40);
        else SegmentFile.WriteInt64(name, offset, SegmentFile.ReadInt64(name, offset) ^ 0x40);

        SegmentFormatException error = AssertOpenRejects(name, "Checksum");

        Assert.DoesNotContain($"{field}:", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SegmentLayout.CreatorPidOffset)]
    [InlineData(SegmentLayout.CreatorUidOffset)]
    [InlineData(SegmentLayout.CreateModeOffset)]
    public void Open_UnvalidatedFieldChangedChecksumFixed_Opens(int offset)
    {
        // Fields no check looks at are accepted once the checksum matches: proof the checksum is the only guard above.
        string name = CreateDetached();
        SegmentFile.WriteInt32(name, offset, SegmentFile.ReadInt32(name, offset) ^ 0x40);
        SegmentFile.FixChecksum(name);

        using RingSegment segment = RingSegment.Open(name);
    }

    [Fact]
    public void Open_VersionChangedChecksumNotFixed_ThrowsNamingVersion()
    {
        // The version is read before the checksum: a different layout's checksum may cover other bytes.
        string name = CreateDetached();
        SegmentFile.WriteInt32(name, SegmentLayout.VersionOffset, 2);

        AssertOpenRejects(name, "Version");
    }

    [Fact]
    public void Open_EmptyFile_ThrowsNamingFileLength()
    {
        string name = _dir.NewName();
        File.WriteAllBytes(name, []);

        AssertOpenRejects(name, "FileLength");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(100)]
    [InlineData(SegmentLayout.HeaderLength - 1)]
    public void Open_FileShorterThanHeader_ThrowsNamingFileLength(int length)
    {
        string name = CreateDetached();
        SegmentFile.SetLength(name, length);

        AssertOpenRejects(name, "FileLength");
    }

    [Theory]
    [InlineData(SegmentLayout.HeaderLength)]
    [InlineData(SegmentLayout.HeaderLength + 8)]
    [InlineData(SegmentLayout.HeaderLength + Capacity / 2)]
    [InlineData(SegmentLayout.HeaderLength + Capacity - 1)]
    public void Open_FileTruncatedButLongerThanHeader_ThrowsNamingFileLength(long length)
    {
        string name = CreateDetached(); // not mapped in this process any more: truncating cannot SIGBUS anyone
        SegmentFile.SetLength(name, length);

        SegmentFormatException error = AssertOpenRejects(name, "FileLength");

        Assert.Contains($"{length}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_FileLongerThanHeaderSays_Opens()
    {
        string name = CreateDetached();
        SegmentFile.SetLength(name, SegmentLayout.FileLengthFor(Capacity) + 4096);

        using RingSegment segment = RingSegment.Open(name);
        using RingReader reader = segment.CreateReader();
        byte[] buffer = new byte[MaxMessage];
        Assert.True(reader.TryRead(buffer, out int length));
        Assert.Equal("payload"u8.ToArray(), buffer[..length]);
    }

    [Fact]
    public void Stat_CreatedNsZeroChecksumFixed_RejectedByOpenOrReported()
    {
        const long createdNs = 0;
        // Whatever Open accepts, Stat must be able to report: either the header check refuses this
        // creation time, or Stat shows it. It must not fail with an unrelated InvalidOperationException.
        string name = CreateDetached();
        SegmentFile.WriteInt64(name, SegmentLayout.CreatedNsOffset, createdNs);
        SegmentFile.FixChecksum(name);

        try
        {
            using RingSegment segment = RingSegment.Open(name);
        }
        catch (SegmentFormatException error)
        {
            Assert.Equal("CreatedNs", error.Field);
            return;
        }

        SegmentStatus status = RingSegment.Stat(name);
        Assert.Equal(Capacity, status.Capacity);
    }

    [Fact]
    public void Open_FormatError_LeavesNoParticipantBehind()
    {
        string name = CreateDetached();
        SegmentFile.WriteInt32(name, SegmentLayout.KindOffset, 77);
        SegmentFile.FixChecksum(name);

        Assert.Throws<SegmentFormatException>(() => RingSegment.Open(name));
        SegmentFile.WriteInt32(name, SegmentLayout.KindOffset, (int)RingKind.Spsc);
        SegmentFile.FixChecksum(name);

        Assert.Empty(RingSegment.Stat(name).Participants);
    }
}
