namespace Ring.Tests;

/// <summary>
/// Every header field an opener validates, corrupted in the file on its own: Open must refuse the segment and
/// name that field. The file is written while nobody in this process has it mapped.
/// </summary>
public sealed class HeaderValidationTests : IDisposable
{
    private const long Capacity = 4096;
    private const int MaxMessage = 256;

    // The MPMC segment: 16 slots of 240 payload bytes, 256 bytes each with the slot header.
    private const int Slots = 16;
    private const int SlotPayload = 240;
    private const int Stride = 256;
    private const long MpmcCapacity = Slots * Stride;

    private static readonly RingOptions SpscOptions = new() { Capacity = Capacity, MaxMessageLength = MaxMessage };
    private static readonly RingOptions MpmcOptions = new() { Kind = RingKind.Mpmc, SlotCount = Slots, MaxMessageLength = SlotPayload };
    private static readonly RingOptions BroadcastOptions = new() { Kind = RingKind.Broadcast, Capacity = Capacity, MaxMessageLength = MaxMessage, Overflow = BroadcastOverflow.Overwrite };

    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A valid, detached segment holding one message: the file is not mapped anywhere once this returns.</summary>
    private string CreateDetached(RingKind kind = RingKind.Spsc)
    {
        string name = _dir.NewName();
        using (RingSegment segment = RingSegment.Create(name, OptionsFor(kind)))
        using (RingWriter writer = segment.CreateWriter())
        {
            Assert.True(writer.TryWrite("payload"u8));
        }
        return name;
    }

    private static RingOptions OptionsFor(RingKind kind) => kind switch
    {
        RingKind.Mpmc => MpmcOptions,
        RingKind.Broadcast => BroadcastOptions,
        _ => SpscOptions,
    };

    private static SegmentFormatException AssertOpenRejects(string name, string field, RingKind kind = RingKind.Spsc)
    {
        SegmentFormatException error = Assert.Throws<SegmentFormatException>(() => RingSegment.Open(name));
        Assert.Equal(field, error.Field);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
        // Every way in validates the same header.
        Assert.Equal(field, Assert.Throws<SegmentFormatException>(() => RingSegment.OpenReadOnly(name)).Field);
        Assert.Equal(field, Assert.Throws<SegmentFormatException>(() => RingSegment.Stat(name)).Field);
        Assert.Equal(field, Assert.Throws<SegmentFormatException>(() => RingSegment.OpenOrCreate(name, OptionsFor(kind))).Field);
        Assert.Equal(field, Assert.Throws<SegmentFormatException>(() => RingSegment.OpenOrCreate(name, OptionsFor(kind) with { ResetStale = true })).Field);
        Assert.True(File.Exists(name), "a refused segment must be left where it is");
        return error;
    }

    [Fact]
    public void Open_UntouchedSegment_Succeeds()
    {
        string name = CreateDetached();

        using RingSegment segment = RingSegment.Open(name);

        Assert.Equal(RingKind.Spsc, segment.Kind);
        Assert.Equal(Capacity, segment.Capacity);
        Assert.Equal(MaxMessage, segment.MaxMessageLength);
        Assert.Equal(0, segment.SlotCount);
    }

    [Fact]
    public void Open_UntouchedMpmcSegment_Succeeds()
    {
        string name = CreateDetached(RingKind.Mpmc);

        using RingSegment segment = RingSegment.Open(name);

        Assert.Equal(RingKind.Mpmc, segment.Kind);
        Assert.Equal(MpmcCapacity, segment.Capacity);
        Assert.Equal(Slots, segment.SlotCount);
        Assert.Equal(SlotPayload, segment.MaxMessageLength);
        using RingReader reader = segment.CreateReader();
        byte[] buffer = new byte[SlotPayload];
        Assert.True(reader.TryRead(buffer, out int length));
        Assert.Equal("payload"u8.ToArray(), buffer[..length]);
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public void Open_ChecksumRecomputedWithoutChanges_Succeeds(RingKind kind)
    {
        // The tests below rely on FixChecksum computing exactly what the library stores.
        string name = CreateDetached(kind);
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

        SegmentFormatException error = AssertOpenRejects(name, "Magic");

        Assert.DoesNotContain("never published", error.Message, StringComparison.Ordinal); // that is for a zero magic only
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
    [InlineData(1)] // before completion lived in the tail word
    [InlineData(2)] // before the pinned message type
    [InlineData(3)] // before the entry's LostToLaps and the wake-all bit
    [InlineData(4)] // before publishers without fences and the flag that tells sleepers to run membarrier
    [InlineData(6)]
    [InlineData(-1)]
    public void Open_WrongVersionChecksumFixed_ThrowsNamingVersion(int version)
    {
        string name = CreateDetached();
        SegmentFile.WriteInt32(name, SegmentLayout.VersionOffset, version);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "Version");
    }

    [Theory]
    [InlineData(RingKind.Spsc, 0)]
    [InlineData(RingKind.Spsc, 4)]
    [InlineData(RingKind.Spsc, 99)]
    [InlineData(RingKind.Spsc, -1)]
    [InlineData(RingKind.Mpmc, 0)]
    [InlineData(RingKind.Mpmc, 4)]
    [InlineData(RingKind.Mpmc, int.MinValue)]
    [InlineData(RingKind.Broadcast, 0)]
    [InlineData(RingKind.Broadcast, 4)]
    public void Open_UnknownKindChecksumFixed_ThrowsNamingKind(RingKind created, int kind)
    {
        string name = CreateDetached(created);
        SegmentFile.WriteInt32(name, SegmentLayout.KindOffset, kind);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "Kind", created);
    }

    [Fact]
    public void Open_UntouchedBroadcastSegment_Succeeds()
    {
        string name = CreateDetached(RingKind.Broadcast);

        using RingSegment segment = RingSegment.Open(name);

        Assert.Equal(RingKind.Broadcast, segment.Kind);
        Assert.Equal(BroadcastOverflow.Overwrite, segment.Overflow);
        Assert.Equal(Capacity, segment.Capacity);
        Assert.Equal(MaxMessage, segment.MaxMessageLength);
        using RingReader subscriber = segment.CreateSubscriber(SubscribeFrom.Oldest);
        byte[] buffer = new byte[MaxMessage];
        Assert.True(subscriber.TryRead(buffer, out int length));
        Assert.Equal("payload"u8.ToArray(), buffer[..length]);
    }

    [Theory]
    [InlineData(RingKind.Spsc, 1)]
    [InlineData(RingKind.Spsc, -1)]
    [InlineData(RingKind.Mpmc, 2)]
    [InlineData(RingKind.Broadcast, 0)]
    [InlineData(RingKind.Broadcast, 3)]
    [InlineData(RingKind.Broadcast, int.MinValue)]
    public void Open_OverflowNotOfTheKindChecksumFixed_ThrowsNamingOverflow(RingKind kind, int overflow)
    {
        string name = CreateDetached(kind);
        SegmentFile.WriteInt32(name, SegmentLayout.OverflowOffset, overflow);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "Overflow", kind);
    }

    [Fact]
    public void Open_SpscHeaderRelabelledBroadcastChecksumFixed_ThrowsNamingOverflow()
    {
        // Same capacity and record space: only the overflow policy, 0 outside broadcast rings, gives it away.
        string name = CreateDetached(RingKind.Spsc);
        SegmentFile.WriteInt32(name, SegmentLayout.KindOffset, (int)RingKind.Broadcast);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "Overflow");
    }

    [Fact]
    public void Open_SpscHeaderRelabelledMpmcChecksumFixed_ThrowsNamingSlotCount()
    {
        // Kind 2 is a known kind now, so the kind check passes: the SPSC header has no slots for it.
        string name = CreateDetached(RingKind.Spsc);
        SegmentFile.WriteInt32(name, SegmentLayout.KindOffset, (int)RingKind.Mpmc);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "SlotCount");
    }

    [Fact]
    public void Open_MpmcHeaderRelabelledSpscChecksumFixed_ThrowsNamingSlotCount()
    {
        // 16 slots of 256 bytes make a 4 KiB data region, a valid SPSC capacity: only the slot count gives it away.
        string name = CreateDetached(RingKind.Mpmc);
        SegmentFile.WriteInt32(name, SegmentLayout.KindOffset, (int)RingKind.Spsc);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "SlotCount", RingKind.Mpmc);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(0x1000)]
    [InlineData(0x2000)] // the header length before participant entries grew to 128 bytes
    [InlineData(0x3008)]
    [InlineData(0x4000)]
    public void Open_WrongHeaderLengthChecksumFixed_ThrowsNamingHeaderLength(int headerLength)
    {
        string name = CreateDetached();
        SegmentFile.WriteInt32(name, SegmentLayout.HeaderLengthOffset, headerLength);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "HeaderLength");
    }

    [Theory]
    [InlineData(16)]
    [InlineData(1)]
    [InlineData(-1)]
    public void Open_SpscHeaderWithSlotCountChecksumFixed_ThrowsNamingSlotCount(int slotCount)
    {
        string name = CreateDetached(RingKind.Spsc);
        SegmentFile.WriteInt32(name, SegmentLayout.SlotCountOffset, slotCount);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "SlotCount");
    }

    [Theory]
    [InlineData(Stride)]
    [InlineData(-8)]
    public void Open_SpscHeaderWithSlotStrideChecksumFixed_ThrowsNamingSlotStride(int slotStride)
    {
        string name = CreateDetached(RingKind.Spsc);
        SegmentFile.WriteInt32(name, SegmentLayout.SlotStrideOffset, slotStride);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "SlotStride");
    }

    [Theory]
    [InlineData(RingKind.Spsc, 8, 0L)] // a size without a tag
    [InlineData(RingKind.Spsc, 0, 0x1234L)] // a tag without a size
    [InlineData(RingKind.Spsc, -8, 0x1234L)]
    [InlineData(RingKind.Spsc, MaxMessage + 1, 0x1234L)] // a type no message could carry
    [InlineData(RingKind.Mpmc, SlotPayload + 1, 0x1234L)]
    public void Open_PinnedMessageTypeInconsistentChecksumFixed_ThrowsNamingMessageSize(RingKind kind, int size, long tag)
    {
        string name = CreateDetached(kind);
        SegmentFile.WriteInt32(name, SegmentLayout.MessageSizeOffset, size);
        SegmentFile.WriteInt64(name, SegmentLayout.MessageTagOffset, tag);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "MessageSize", kind);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(Slots + 1)]
    [InlineData(24)]
    [InlineData(1 << 25)]
    [InlineData(-Slots)]
    [InlineData(int.MinValue)]
    public void Open_MpmcInvalidSlotCountChecksumFixed_ThrowsNamingSlotCount(int slotCount)
    {
        string name = CreateDetached(RingKind.Mpmc);
        SegmentFile.WriteInt32(name, SegmentLayout.SlotCountOffset, slotCount);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "SlotCount", RingKind.Mpmc);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(Stride - 8)]
    [InlineData(Stride + 8)]
    [InlineData(Stride * 2)]
    [InlineData(SegmentLayout.SlotHeaderLength)]
    [InlineData(-Stride)]
    public void Open_MpmcSlotStrideNotFittingThePayloadChecksumFixed_ThrowsNamingSlotStride(int slotStride)
    {
        string name = CreateDetached(RingKind.Mpmc);
        SegmentFile.WriteInt32(name, SegmentLayout.SlotStrideOffset, slotStride);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "SlotStride", RingKind.Mpmc);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(SegmentLayout.MaxSlotPayload + 1)]
    [InlineData(int.MaxValue)]
    [InlineData(int.MinValue)]
    public void Open_MpmcInvalidMaxMessageLengthChecksumFixed_ThrowsNamingMaxMessageLength(int maxMessage)
    {
        string name = CreateDetached(RingKind.Mpmc);
        SegmentFile.WriteInt32(name, SegmentLayout.MaxMessageLengthOffset, maxMessage);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "MaxMessageLength", RingKind.Mpmc);
    }

    [Theory]
    [InlineData(SlotPayload + 1)] // one byte more than the 256-byte slot holds
    [InlineData(SegmentLayout.MaxSlotPayload)]
    [InlineData(0)]
    public void Open_MpmcMaxMessageLengthNeedingAnotherStrideChecksumFixed_ThrowsNamingSlotStride(int maxMessage)
    {
        // A payload size the slots were not cut for: a reader would index past the slot.
        string name = CreateDetached(RingKind.Mpmc);
        SegmentFile.WriteInt32(name, SegmentLayout.MaxMessageLengthOffset, maxMessage);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "SlotStride", RingKind.Mpmc);
    }

    [Theory]
    [InlineData(Slots * 2)]
    [InlineData(Slots / 2)]
    [InlineData(SegmentLayout.MaxSlotCount)]
    [InlineData(SegmentLayout.MinSlotCount)]
    public void Open_MpmcSlotCountNotMatchingTheCapacityChecksumFixed_ThrowsNamingCapacity(int slotCount)
    {
        // A valid slot count on its own: only the capacity (slots x stride) contradicts it.
        string name = CreateDetached(RingKind.Mpmc);
        SegmentFile.WriteInt32(name, SegmentLayout.SlotCountOffset, slotCount);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "Capacity", RingKind.Mpmc);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(MpmcCapacity - 8)]
    [InlineData(MpmcCapacity + Stride)]
    [InlineData(MpmcCapacity * 2)]
    [InlineData(-MpmcCapacity)]
    [InlineData(long.MaxValue)]
    public void Open_MpmcCapacityNotSlotsTimesStrideChecksumFixed_ThrowsNamingCapacity(long capacity)
    {
        string name = CreateDetached(RingKind.Mpmc);
        SegmentFile.WriteInt64(name, SegmentLayout.CapacityOffset, capacity);
        SegmentFile.FixChecksum(name);

        SegmentFormatException error = AssertOpenRejects(name, "Capacity", RingKind.Mpmc);

        Assert.Contains($"{capacity}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_MpmcSlotsAndCapacityGrownChecksumFixed_ThrowsNamingFileLength()
    {
        // Consistent slot count, capacity and file length describing a ring bigger than the file.
        string name = CreateDetached(RingKind.Mpmc);
        SegmentFile.WriteInt32(name, SegmentLayout.SlotCountOffset, Slots * 2);
        SegmentFile.WriteInt64(name, SegmentLayout.CapacityOffset, MpmcCapacity * 2);
        SegmentFile.WriteInt64(name, SegmentLayout.FileLengthOffset, SegmentLayout.FileLengthFor(MpmcCapacity * 2));
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "FileLength", RingKind.Mpmc);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(SegmentLayout.HeaderLength + MpmcCapacity - Stride)]
    [InlineData(SegmentLayout.HeaderLength + MpmcCapacity + Stride)]
    public void Open_MpmcWrongFileLengthFieldChecksumFixed_ThrowsNamingFileLength(long fileLength)
    {
        string name = CreateDetached(RingKind.Mpmc);
        SegmentFile.WriteInt64(name, SegmentLayout.FileLengthOffset, fileLength);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "FileLength", RingKind.Mpmc);
    }

    [Theory]
    [InlineData(SegmentLayout.HeaderLength)]
    [InlineData(SegmentLayout.HeaderLength + MpmcCapacity - 1)]
    public void Open_MpmcFileTruncatedButLongerThanHeader_ThrowsNamingFileLength(long length)
    {
        string name = CreateDetached(RingKind.Mpmc);
        SegmentFile.SetLength(name, length);

        AssertOpenRejects(name, "FileLength", RingKind.Mpmc);
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
    [InlineData(0x2000 + Capacity)] // the file length under the old 8 KiB header
    [InlineData(SegmentLayout.HeaderLength + Capacity - 8)]
    [InlineData(SegmentLayout.HeaderLength + Capacity + 8)]
    [InlineData(SegmentLayout.HeaderLength + 2 * Capacity)]
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

    public static TheoryData<RingKind, string, int, int> ChecksummedFields()
    {
        TheoryData<RingKind, string, int, int> data = [];
        foreach (RingKind kind in new[] { RingKind.Spsc, RingKind.Mpmc, RingKind.Broadcast })
        {
            // field, offset, width in bytes
            data.Add(kind, "Kind", SegmentLayout.KindOffset, 4);
            data.Add(kind, "HeaderLength", SegmentLayout.HeaderLengthOffset, 4);
            data.Add(kind, "MaxMessageLength", SegmentLayout.MaxMessageLengthOffset, 4);
            data.Add(kind, "Capacity", SegmentLayout.CapacityOffset, 8);
            data.Add(kind, "FileLength", SegmentLayout.FileLengthOffset, 8);
            data.Add(kind, "CreatorPid", SegmentLayout.CreatorPidOffset, 4);
            data.Add(kind, "CreatorUid", SegmentLayout.CreatorUidOffset, 4);
            data.Add(kind, "CreatedNs", SegmentLayout.CreatedNsOffset, 8);
            data.Add(kind, "ParticipantCapacity", SegmentLayout.ParticipantCapacityOffset, 4);
            data.Add(kind, "CreateMode", SegmentLayout.CreateModeOffset, 4);
            data.Add(kind, "SlotCount", SegmentLayout.SlotCountOffset, 4);
            data.Add(kind, "SlotStride", SegmentLayout.SlotStrideOffset, 4);
            data.Add(kind, "MessageSize", SegmentLayout.MessageSizeOffset, 4);
            data.Add(kind, "Overflow", SegmentLayout.OverflowOffset, 4);
            data.Add(kind, "MessageTag", SegmentLayout.MessageTagOffset, 8);
            data.Add(kind, "reserved", SegmentLayout.ChecksumOffset - 8, 8);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ChecksummedFields))]
    public void Open_ChecksummedFieldChangedChecksumNotFixed_ThrowsNamingChecksum(RingKind kind, string field, int offset, int width)
    {
        string name = CreateDetached(kind);
        // A change that would be valid on its own where possible: only the checksum can catch it.
        if (width == 4) SegmentFile.WriteInt32(name, offset, SegmentFile.ReadInt32(name, offset) ^ 0x40);
        else SegmentFile.WriteInt64(name, offset, SegmentFile.ReadInt64(name, offset) ^ 0x40);

        SegmentFormatException error = AssertOpenRejects(name, "Checksum", kind);

        Assert.DoesNotContain($"{field}:", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(RingKind.Spsc, SegmentLayout.CreatorPidOffset)]
    [InlineData(RingKind.Spsc, SegmentLayout.CreatorUidOffset)]
    [InlineData(RingKind.Spsc, SegmentLayout.CreateModeOffset)]
    [InlineData(RingKind.Broadcast, SegmentLayout.ChecksumOffset - 8)] // reserved
    [InlineData(RingKind.Mpmc, SegmentLayout.CreatorPidOffset)]
    [InlineData(RingKind.Mpmc, SegmentLayout.ChecksumOffset - 4)]
    public void Open_UnvalidatedFieldChangedChecksumFixed_Opens(RingKind kind, int offset)
    {
        // Fields no check looks at are accepted once the checksum matches: proof the checksum is the only guard above.
        string name = CreateDetached(kind);
        SegmentFile.WriteInt32(name, offset, SegmentFile.ReadInt32(name, offset) ^ 0x40);
        SegmentFile.FixChecksum(name);

        using RingSegment segment = RingSegment.Open(name);
    }

    [Fact]
    public void Open_VersionChangedChecksumNotFixed_ThrowsNamingVersion()
    {
        // The version is read before the checksum: a different layout's checksum may cover other bytes.
        string name = CreateDetached();
        SegmentFile.WriteInt32(name, SegmentLayout.VersionOffset, SegmentLayout.Version + 1);

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

        SegmentFormatException error = AssertOpenRejects(name, "FileLength");

        // From 8 bytes on the file still starts with Ring's magic: a segment cut short, and the message says so.
        Assert.Equal(length >= sizeof(ulong), error.Message.Contains("truncated after it was created", StringComparison.Ordinal));
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

        Assert.Contains($"the file is {length} bytes but its header says {SegmentLayout.FileLengthFor(Capacity)}", error.Message, StringComparison.Ordinal);
        Assert.Contains("truncated after it was created", error.Message, StringComparison.Ordinal);
        Assert.Contains("SIGBUS", error.Message, StringComparison.Ordinal);
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

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    public void Open_CreatedNsNotAfter1970ChecksumFixed_ThrowsNamingCreatedNs(long createdNs)
    {
        string name = CreateDetached();
        SegmentFile.WriteInt64(name, SegmentLayout.CreatedNsOffset, createdNs);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "CreatedNs");
    }

    [Fact]
    public void Open_SpscMaxMessageLengthZeroChecksumFixed_Opens()
    {
        // Zero is a valid largest message (empty messages only); the check's lower bound is exclusive of it.
        string name = CreateDetached();
        SegmentFile.WriteInt32(name, SegmentLayout.MaxMessageLengthOffset, 0);
        SegmentFile.FixChecksum(name);

        using RingSegment segment = RingSegment.Open(name);

        Assert.Equal(0, segment.MaxMessageLength);
    }

    [Fact]
    public void Open_SpscCapacityAtTheMaximumChecksumFixed_PassesTheCapacityCheckAndFailsOnTheFileLength()
    {
        // 1 TiB is the largest capacity allowed: the header check accepts it, and the file, far shorter, is what fails.
        string name = CreateDetached();
        SegmentFile.WriteInt64(name, SegmentLayout.CapacityOffset, SegmentLayout.MaxCapacity);
        SegmentFile.FixChecksum(name);

        AssertOpenRejects(name, "FileLength");
    }

    [Fact]
    public void Open_PinnedTypeAsLongAsTheLargestMessage_Opens()
    {
        string name = _dir.NewName();
        using (RingSegment.Create(name, new RingOptions { Capacity = Capacity, MaxMessageLength = 24 }.WithMessageType<Tick>()))
        {
        }

        using RingSegment segment = RingSegment.Open(name, new RingOpenOptions().WithMessageType<Tick>());

        Assert.Equal(segment.MaxMessageLength, segment.MessageSize);
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public void Open_FormatError_LeavesNoParticipantBehind(RingKind kind)
    {
        string name = CreateDetached(kind);
        SegmentFile.WriteInt32(name, SegmentLayout.KindOffset, 77);
        SegmentFile.FixChecksum(name);

        Assert.Throws<SegmentFormatException>(() => RingSegment.Open(name));
        Assert.Throws<SegmentFormatException>(() => RingSegment.OpenOrCreate(name, OptionsFor(kind)));
        SegmentFile.WriteInt32(name, SegmentLayout.KindOffset, (int)kind);
        SegmentFile.FixChecksum(name);

        SegmentStatus status = RingSegment.Stat(name);
        Assert.Empty(status.Participants);
        Assert.False(status.IsStale);
        Assert.Equal(1, status.MessagesInRing);
    }
}
