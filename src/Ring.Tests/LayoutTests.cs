using Ring.Mpmc;

namespace Ring.Tests;

/// <summary>
/// The segment is an ABI between processes that may run different builds: every offset is pinned to its
/// literal value here, so moving a field fails a test instead of silently breaking a mixed deployment.
/// </summary>
public sealed class LayoutTests
{
    public static TheoryData<string, long, long> Offsets => new()
    {
        // Identity block.
        { nameof(SegmentLayout.MagicOffset), SegmentLayout.MagicOffset, 0x00 },
        { nameof(SegmentLayout.VersionOffset), SegmentLayout.VersionOffset, 0x08 },
        { nameof(SegmentLayout.KindOffset), SegmentLayout.KindOffset, 0x0C },
        { nameof(SegmentLayout.HeaderLengthOffset), SegmentLayout.HeaderLengthOffset, 0x10 },
        { nameof(SegmentLayout.MaxMessageLengthOffset), SegmentLayout.MaxMessageLengthOffset, 0x14 },
        { nameof(SegmentLayout.CapacityOffset), SegmentLayout.CapacityOffset, 0x18 },
        { nameof(SegmentLayout.FileLengthOffset), SegmentLayout.FileLengthOffset, 0x20 },
        { nameof(SegmentLayout.CreatorPidOffset), SegmentLayout.CreatorPidOffset, 0x28 },
        { nameof(SegmentLayout.CreatorUidOffset), SegmentLayout.CreatorUidOffset, 0x2C },
        { nameof(SegmentLayout.CreatedNsOffset), SegmentLayout.CreatedNsOffset, 0x30 },
        { nameof(SegmentLayout.ParticipantCapacityOffset), SegmentLayout.ParticipantCapacityOffset, 0x38 },
        { nameof(SegmentLayout.CreateModeOffset), SegmentLayout.CreateModeOffset, 0x3C },
        { nameof(SegmentLayout.SlotCountOffset), SegmentLayout.SlotCountOffset, 0x40 },
        { nameof(SegmentLayout.SlotStrideOffset), SegmentLayout.SlotStrideOffset, 0x44 },
        { nameof(SegmentLayout.MessageSizeOffset), SegmentLayout.MessageSizeOffset, 0x48 },
        { nameof(SegmentLayout.OverflowOffset), SegmentLayout.OverflowOffset, 0x4C },
        { nameof(SegmentLayout.MessageTagOffset), SegmentLayout.MessageTagOffset, 0x50 },
        { nameof(SegmentLayout.ChecksumOffset), SegmentLayout.ChecksumOffset, 0x78 },
        { nameof(SegmentLayout.ChecksummedStart), SegmentLayout.ChecksummedStart, 0x08 },
        { nameof(SegmentLayout.ChecksummedLength), SegmentLayout.ChecksummedLength, 112 },
        // Lifecycle.
        { nameof(SegmentLayout.LastAttachNsOffset), SegmentLayout.LastAttachNsOffset, 0x80 },
        { nameof(SegmentLayout.LastDetachNsOffset), SegmentLayout.LastDetachNsOffset, 0x88 },
        { nameof(SegmentLayout.RecoveriesOffset), SegmentLayout.RecoveriesOffset, 0x90 },
        { nameof(SegmentLayout.LostInDeliveryOffset), SegmentLayout.LostInDeliveryOffset, 0x98 },
        { nameof(SegmentLayout.ProducerAttachmentsOffset), SegmentLayout.ProducerAttachmentsOffset, 0xA0 },
        { nameof(SegmentLayout.ConsumerAttachmentsOffset), SegmentLayout.ConsumerAttachmentsOffset, 0xA8 },
        { nameof(SegmentLayout.MembarrierPublishersOffset), SegmentLayout.MembarrierPublishersOffset, 0xB0 },
        // Producer line.
        { nameof(SegmentLayout.TailOffset), SegmentLayout.TailOffset, 0x100 },
        { nameof(SegmentLayout.TailCompletedFlag), SegmentLayout.TailCompletedFlag, 1L << 62 },
        { nameof(SegmentLayout.MessagesWrittenOffset), SegmentLayout.MessagesWrittenOffset, 0x108 },
        { nameof(SegmentLayout.BytesWrittenOffset), SegmentLayout.BytesWrittenOffset, 0x110 },
        { nameof(SegmentLayout.FullEventsOffset), SegmentLayout.FullEventsOffset, 0x118 },
        { nameof(SegmentLayout.ReclaimOffset), SegmentLayout.ReclaimOffset, 0x120 },
        { nameof(SegmentLayout.OldestOffset), SegmentLayout.OldestOffset, 0x128 },
        { nameof(SegmentLayout.TailSequenceOffset), SegmentLayout.TailSequenceOffset, 0x130 },
        // Consumer line.
        { nameof(SegmentLayout.HeadOffset), SegmentLayout.HeadOffset, 0x180 },
        { nameof(SegmentLayout.MessagesReadOffset), SegmentLayout.MessagesReadOffset, 0x188 },
        { nameof(SegmentLayout.BytesReadOffset), SegmentLayout.BytesReadOffset, 0x190 },
        { nameof(SegmentLayout.EmptyEventsOffset), SegmentLayout.EmptyEventsOffset, 0x198 },
        { nameof(SegmentLayout.SubscriberGenerationOffset), SegmentLayout.SubscriberGenerationOffset, 0x1A0 },
        // Eventcounts.
        { nameof(SegmentLayout.ReadersEventOffset), SegmentLayout.ReadersEventOffset, 0x200 },
        { nameof(SegmentLayout.WritersEventOffset), SegmentLayout.WritersEventOffset, 0x280 },
        { nameof(SegmentLayout.EventWaitersOffset), SegmentLayout.EventWaitersOffset, 0x00 },
        { nameof(SegmentLayout.EventSequenceOffset), SegmentLayout.EventSequenceOffset, 0x04 },
        { nameof(SegmentLayout.EventSleepsOffset), SegmentLayout.EventSleepsOffset, 0x08 },
        { nameof(SegmentLayout.EventWakesOffset), SegmentLayout.EventWakesOffset, 0x10 },
        // Role table.
        { nameof(SegmentLayout.RoleTableOffset), SegmentLayout.RoleTableOffset, 0x300 },
        { nameof(SegmentLayout.RoleEntrySize), SegmentLayout.RoleEntrySize, 64 },
        { nameof(SegmentLayout.ProducerRoleOffset), SegmentLayout.ProducerRoleOffset, 0x300 },
        { nameof(SegmentLayout.ConsumerRoleOffset), SegmentLayout.ConsumerRoleOffset, 0x340 },
        // Completion block.
        { nameof(SegmentLayout.CompletionStateOffset), SegmentLayout.CompletionStateOffset, 0x400 },
        { nameof(SegmentLayout.CompletionReasonLengthOffset), SegmentLayout.CompletionReasonLengthOffset, 0x404 },
        { nameof(SegmentLayout.CompleterPidOffset), SegmentLayout.CompleterPidOffset, 0x408 },
        { nameof(SegmentLayout.CompletedNsOffset), SegmentLayout.CompletedNsOffset, 0x410 },
        { nameof(SegmentLayout.CompletionReasonOffset), SegmentLayout.CompletionReasonOffset, 0x420 },
        { nameof(SegmentLayout.CompletionReasonCapacity), SegmentLayout.CompletionReasonCapacity, 224 },
        { nameof(SegmentLayout.CompletionStateRecording), SegmentLayout.CompletionStateRecording, 1 },
        { nameof(SegmentLayout.CompletionStateRecorded), SegmentLayout.CompletionStateRecorded, 2 },
        // Participant table and entries.
        { nameof(SegmentLayout.ParticipantTableOffset), SegmentLayout.ParticipantTableOffset, 0x1000 },
        { nameof(SegmentLayout.ParticipantEntrySize), SegmentLayout.ParticipantEntrySize, 128 },
        { nameof(SegmentLayout.ParticipantCapacity), SegmentLayout.ParticipantCapacity, 64 },
        { nameof(SegmentLayout.EntryStateOffset), SegmentLayout.EntryStateOffset, 0x00 },
        { nameof(SegmentLayout.EntryPidOffset), SegmentLayout.EntryPidOffset, 0x04 },
        { nameof(SegmentLayout.EntryStartTicksOffset), SegmentLayout.EntryStartTicksOffset, 0x08 },
        { nameof(SegmentLayout.EntryAttachNsOffset), SegmentLayout.EntryAttachNsOffset, 0x10 },
        { nameof(SegmentLayout.EntryRolesOffset), SegmentLayout.EntryRolesOffset, 0x18 },
        { nameof(SegmentLayout.EntryWriteIntentOffset), SegmentLayout.EntryWriteIntentOffset, 0x20 },
        { nameof(SegmentLayout.EntryReadIntentOffset), SegmentLayout.EntryReadIntentOffset, 0x28 },
        { nameof(SegmentLayout.EntryMessagesWrittenOffset), SegmentLayout.EntryMessagesWrittenOffset, 0x30 },
        { nameof(SegmentLayout.EntryBytesWrittenOffset), SegmentLayout.EntryBytesWrittenOffset, 0x38 },
        { nameof(SegmentLayout.EntryMessagesReadOffset), SegmentLayout.EntryMessagesReadOffset, 0x40 },
        { nameof(SegmentLayout.EntryBytesReadOffset), SegmentLayout.EntryBytesReadOffset, 0x48 },
        { nameof(SegmentLayout.EntryFullEventsOffset), SegmentLayout.EntryFullEventsOffset, 0x50 },
        { nameof(SegmentLayout.EntryEmptyEventsOffset), SegmentLayout.EntryEmptyEventsOffset, 0x58 },
        { nameof(SegmentLayout.EntryCursorOffset), SegmentLayout.EntryCursorOffset, 0x60 },
        { nameof(SegmentLayout.EntryLostToLapsOffset), SegmentLayout.EntryLostToLapsOffset, 0x68 },
        // Data region.
        { nameof(SegmentLayout.HeaderLength), SegmentLayout.HeaderLength, 0x3000 },
        { nameof(SegmentLayout.DataOffset), SegmentLayout.DataOffset, 0x3000 },
        { nameof(SegmentLayout.BlockSize), SegmentLayout.BlockSize, 128 },
        { nameof(SegmentLayout.MinCapacity), SegmentLayout.MinCapacity, 64 },
        { nameof(SegmentLayout.MaxCapacity), SegmentLayout.MaxCapacity, 1L << 40 },
        { nameof(SegmentLayout.MaxMessageDivisor), SegmentLayout.MaxMessageDivisor, 8 },
        // Record format.
        { nameof(SegmentLayout.RecordAlignment), SegmentLayout.RecordAlignment, 8 },
        { nameof(SegmentLayout.RecordHeaderLength), SegmentLayout.RecordHeaderLength, 8 },
        { nameof(SegmentLayout.RecordLengthOffset), SegmentLayout.RecordLengthOffset, 0 },
        { nameof(SegmentLayout.RecordTypeOffset), SegmentLayout.RecordTypeOffset, 4 },
        { nameof(SegmentLayout.RecordTypeMessage), SegmentLayout.RecordTypeMessage, 1 },
        { nameof(SegmentLayout.RecordTypePadding), SegmentLayout.RecordTypePadding, 2 },
        // Broadcast records: the longer header with the sequence; the largest payload is capacity/8 − 8.
        { nameof(SegmentLayout.BroadcastRecordHeaderLength), SegmentLayout.BroadcastRecordHeaderLength, 16 },
        { nameof(SegmentLayout.BroadcastRecordSequenceOffset), SegmentLayout.BroadcastRecordSequenceOffset, 8 },
        { "BroadcastMaxMessageLengthFor(4096)", SegmentLayout.BroadcastMaxMessageLengthFor(4096), 504 },
        // MPMC slots.
        { nameof(SegmentLayout.SlotHeaderLength), SegmentLayout.SlotHeaderLength, 16 },
        { nameof(SegmentLayout.SlotSequenceOffset), SegmentLayout.SlotSequenceOffset, 0 },
        { nameof(SegmentLayout.SlotLengthOffset), SegmentLayout.SlotLengthOffset, 8 },
        { nameof(SegmentLayout.MinSlotCount), SegmentLayout.MinSlotCount, 2 },
        { nameof(SegmentLayout.MaxSlotCount), SegmentLayout.MaxSlotCount, 1 << 24 },
        { nameof(SegmentLayout.MaxSlotPayload), SegmentLayout.MaxSlotPayload, 1 << 20 },
        { nameof(MpmcProtocol.SkipFlag), MpmcProtocol.SkipFlag, 1L << 62 },
        // Values a reader of the segment must agree on: the kinds' numbers and the roles' bits in an entry.
        { "RingKind.Spsc", (long)RingKind.Spsc, 1 },
        { "RingKind.Mpmc", (long)RingKind.Mpmc, 2 },
        { "RingKind.Broadcast", (long)RingKind.Broadcast, 3 },
        { "BroadcastOverflow.Block", (long)BroadcastOverflow.Block, 1 },
        { "BroadcastOverflow.Overwrite", (long)BroadcastOverflow.Overwrite, 2 },
        { "RingRole.None", (long)RingRole.None, 0 },
        { "RingRole.Producer", (long)RingRole.Producer, 1 },
        { "RingRole.Consumer", (long)RingRole.Consumer, 2 },
    };

    [Theory]
    [MemberData(nameof(Offsets))]
    public void Constant_Always_HasItsAbiValue(string name, long actual, long expected)
    {
        Assert.True(expected == actual, $"{name} is 0x{actual:X}, the ABI says 0x{expected:X}");
    }

    [Fact]
    public void Magic_Always_IsRingsegInLittleEndian()
    {
        Assert.Equal(0x0047455347_4E4952UL, SegmentLayout.Magic);
        byte[] bytes = BitConverter.GetBytes(SegmentLayout.Magic);
        Assert.Equal("RINGSEG\0"u8.ToArray(), bytes);
    }

    [Fact]
    public void Version_Always_IsFive()
    {
        Assert.Equal(5, SegmentLayout.Version);
    }

    [Fact]
    public void EventCountWakeAllFlag_Always_IsBit30OfWaiters()
    {
        // An MPMC completer sets it in the readers' Waiters word; every process reading the word must agree on it.
        Assert.Equal(1 << 30, EventCount<SharedBuffer>.WakeAllFlag);
    }

    [Theory]
    [InlineData(SegmentLayout.TailOffset, SegmentLayout.HeadOffset)]
    [InlineData(SegmentLayout.HeadOffset, SegmentLayout.ReadersEventOffset)]
    [InlineData(SegmentLayout.ReadersEventOffset, SegmentLayout.WritersEventOffset)]
    [InlineData(SegmentLayout.WritersEventOffset, SegmentLayout.RoleTableOffset)]
    public void HotBlocks_Consecutive_Are128BytesApart(int first, int next)
    {
        Assert.Equal(128, next - first);
    }

    [Theory]
    [InlineData(SegmentLayout.LastAttachNsOffset)]
    [InlineData(SegmentLayout.ParticipantTableOffset)]
    [InlineData(SegmentLayout.TailOffset)]
    [InlineData(SegmentLayout.HeadOffset)]
    [InlineData(SegmentLayout.ReadersEventOffset)]
    [InlineData(SegmentLayout.WritersEventOffset)]
    [InlineData(SegmentLayout.RoleTableOffset)]
    public void HotBlock_Start_Is128Aligned(int offset)
    {
        Assert.Equal(0, offset % SegmentLayout.BlockSize);
    }

    [Fact]
    public void ProducerLine_Fields_StayInsideTheProducerBlock()
    {
        int[] fields = [SegmentLayout.TailOffset, SegmentLayout.MessagesWrittenOffset, SegmentLayout.BytesWrittenOffset, SegmentLayout.FullEventsOffset,
            SegmentLayout.ReclaimOffset, SegmentLayout.OldestOffset, SegmentLayout.TailSequenceOffset];
        Assert.All(fields, f => Assert.InRange(f, SegmentLayout.TailOffset, SegmentLayout.TailOffset + SegmentLayout.BlockSize - 8));
        Assert.All(fields, f => Assert.Equal(0, f % 8));
    }

    [Fact]
    public void ConsumerLine_Fields_StayInsideTheConsumerBlock()
    {
        int[] fields = [SegmentLayout.HeadOffset, SegmentLayout.MessagesReadOffset, SegmentLayout.BytesReadOffset, SegmentLayout.EmptyEventsOffset,
            SegmentLayout.SubscriberGenerationOffset];
        Assert.All(fields, f => Assert.InRange(f, SegmentLayout.HeadOffset, SegmentLayout.HeadOffset + SegmentLayout.BlockSize - 8));
        Assert.All(fields, f => Assert.Equal(0, f % 8));
    }

    [Fact]
    public void EventCountFields_WithinBlock_FitAndAreAligned()
    {
        Assert.Equal(0, SegmentLayout.EventWaitersOffset % 4);
        Assert.Equal(0, SegmentLayout.EventSequenceOffset % 4);
        Assert.Equal(0, SegmentLayout.EventSleepsOffset % 8);
        Assert.Equal(0, SegmentLayout.EventWakesOffset % 8);
        Assert.True(SegmentLayout.EventWakesOffset + 8 <= SegmentLayout.BlockSize);
    }

    [Fact]
    public void BroadcastRecords_ThreeOfTheLongest_FitInTheSmallestRing()
    {
        // The publisher's Oldest walk relies on it: a padding record, the record after it and the newest one before never span the ring.
        Assert.True(3 * SegmentLayout.BroadcastAlignedRecordLength(SegmentLayout.BroadcastMaxMessageLengthFor(SegmentLayout.MinCapacity)) <= SegmentLayout.MinCapacity);
        Assert.Equal(SegmentLayout.AlignedRecordLength(SegmentLayout.MaxMessageLengthFor(4096)), SegmentLayout.BroadcastAlignedRecordLength(SegmentLayout.BroadcastMaxMessageLengthFor(4096)));
    }

    [Fact]
    public void Header_Length_IsPageAligned()
    {
        Assert.Equal(0, SegmentLayout.HeaderLength % Environment.SystemPageSize);
        Assert.Equal(0, SegmentLayout.HeaderLength % 4096);
        Assert.Equal(0, SegmentLayout.DataOffset % 4096);
    }

    [Fact]
    public void ParticipantTable_AllEntries_FillThePagesUpToTheData()
    {
        Assert.Equal(0, SegmentLayout.ParticipantTableOffset % 4096);
        long end = SegmentLayout.ParticipantEntryOffset(SegmentLayout.ParticipantCapacity - 1) + SegmentLayout.ParticipantEntrySize;
        Assert.True(end == SegmentLayout.DataOffset, $"participant table ends at 0x{end:X}, the data starts at 0x{SegmentLayout.DataOffset:X}");
        Assert.Equal(0x1000, SegmentLayout.ParticipantEntryOffset(0));
        Assert.Equal(0x1080, SegmentLayout.ParticipantEntryOffset(1));
        Assert.Equal(0x2F80, SegmentLayout.ParticipantEntryOffset(63));
    }

    [Fact]
    public void ParticipantEntry_Fields_FitTheEntryAndCountersAreAligned()
    {
        // Each endpoint writes its own entry on every MPMC message: it must be a whole 128-byte block of its own.
        Assert.Equal(SegmentLayout.BlockSize, SegmentLayout.ParticipantEntrySize);
        Assert.Equal(0, SegmentLayout.ParticipantTableOffset % SegmentLayout.BlockSize);
        // Identity (state, pid, start ticks, attach time, roles) first, as in a role entry; then the MPMC fields.
        int[] identity = [SegmentLayout.EntryStateOffset, SegmentLayout.EntryPidOffset, SegmentLayout.EntryStartTicksOffset, SegmentLayout.EntryAttachNsOffset, SegmentLayout.EntryRolesOffset];
        Assert.Equal(identity.Order(), identity);
        int[] mpmc =
        [
            SegmentLayout.EntryWriteIntentOffset, SegmentLayout.EntryReadIntentOffset,
            SegmentLayout.EntryMessagesWrittenOffset, SegmentLayout.EntryBytesWrittenOffset,
            SegmentLayout.EntryMessagesReadOffset, SegmentLayout.EntryBytesReadOffset,
            SegmentLayout.EntryFullEventsOffset, SegmentLayout.EntryEmptyEventsOffset,
        ];
        Assert.All(mpmc, f => Assert.Equal(0, f % 8));
        Assert.All(mpmc, f => Assert.InRange(f, SegmentLayout.EntryRolesOffset + 4, SegmentLayout.ParticipantEntrySize - 8));
        Assert.Equal(mpmc.Length, mpmc.Distinct().Count());
        Assert.Equal(0, SegmentLayout.EntryStartTicksOffset % 8);
        Assert.Equal(0, SegmentLayout.EntryAttachNsOffset % 8);
    }

    [Fact]
    public void RoleTable_Entries_EndBeforeTheParticipantTable()
    {
        Assert.True(SegmentLayout.ConsumerRoleOffset + SegmentLayout.RoleEntrySize <= SegmentLayout.ParticipantTableOffset);
        // A role entry uses the first four fields of an entry only.
        Assert.True(SegmentLayout.EntryAttachNsOffset + 8 <= SegmentLayout.RoleEntrySize);
        Assert.True(SegmentLayout.EntryRolesOffset + 4 <= SegmentLayout.RoleEntrySize);
    }

    [Fact]
    public void CompletionBlock_Fields_LieBetweenTheRoleAndParticipantTables()
    {
        Assert.True(SegmentLayout.ConsumerRoleOffset + SegmentLayout.RoleEntrySize <= SegmentLayout.CompletionStateOffset);
        Assert.Equal(0, SegmentLayout.CompletedNsOffset % 8);
        Assert.True(SegmentLayout.CompletedNsOffset + 8 <= SegmentLayout.CompletionReasonOffset);
        Assert.True(SegmentLayout.CompletionReasonOffset + SegmentLayout.CompletionReasonCapacity <= SegmentLayout.ParticipantTableOffset);
        // A negative tail (bit 63) is never read as completed: it stays a corrupted position.
        Assert.False(RingCompletion.IsFinal(-16));
        Assert.True(RingCompletion.IsFinal(SegmentLayout.TailCompletedFlag | 4096));
    }

    [Fact]
    public void IdentityBlock_ChecksumCoversVersionThroughTheReservedBytes()
    {
        Assert.Equal(SegmentLayout.VersionOffset, SegmentLayout.ChecksummedStart);
        Assert.Equal(SegmentLayout.ChecksumOffset, SegmentLayout.ChecksummedStart + SegmentLayout.ChecksummedLength);
        Assert.True(SegmentLayout.MessageTagOffset + 8 <= SegmentLayout.ChecksumOffset);
        Assert.Equal(SegmentLayout.LastAttachNsOffset, SegmentLayout.ChecksumOffset + 8);
    }

    [Fact]
    public void LifecycleBlock_Fields_StayInsideItsBlock()
    {
        int[] fields = [SegmentLayout.LastAttachNsOffset, SegmentLayout.LastDetachNsOffset, SegmentLayout.RecoveriesOffset, SegmentLayout.LostInDeliveryOffset,
            SegmentLayout.ProducerAttachmentsOffset, SegmentLayout.ConsumerAttachmentsOffset, SegmentLayout.MembarrierPublishersOffset];
        Assert.All(fields, f => Assert.InRange(f, SegmentLayout.LastAttachNsOffset, SegmentLayout.LastAttachNsOffset + SegmentLayout.BlockSize - 8));
        Assert.All(fields, f => Assert.Equal(0, f % 8));
        Assert.Equal(fields.Length, fields.Distinct().Count());
    }

    [Theory]
    [InlineData(0, 16)]
    [InlineData(1, 24)]
    [InlineData(8, 24)]
    [InlineData(9, 32)]
    [InlineData(233, 256)]
    [InlineData(240, 256)]
    [InlineData(241, 264)]
    [InlineData(1 << 20, (1 << 20) + 16)]
    public void SlotStrideFor_Payload_AddsTheSlotHeaderAndRoundsToEight(int payload, int expected)
    {
        Assert.Equal(expected, SegmentLayout.SlotStrideFor(payload));
    }

    [Theory]
    [InlineData(0, 8)]
    [InlineData(1, 16)]
    [InlineData(7, 16)]
    [InlineData(8, 16)]
    [InlineData(9, 24)]
    [InlineData(100, 112)]
    public void AlignedRecordLength_Payload_AddsHeaderAndRoundsToEight(int payload, int expected)
    {
        Assert.Equal(expected, SegmentLayout.AlignedRecordLength(payload));
    }

    [Theory]
    [InlineData(64L, 8)]
    [InlineData(1L << 20, 1 << 17)]
    [InlineData(1L << 40, int.MaxValue - 16)]
    public void MaxMessageLengthFor_Capacity_IsAnEighthCappedBelowIntMax(long capacity, int expected)
    {
        Assert.Equal(expected, SegmentLayout.MaxMessageLengthFor(capacity));
    }

    [Fact]
    public void FileLengthFor_Capacity_IsHeaderPlusCapacity()
    {
        Assert.Equal(0x3000 + 4096, SegmentLayout.FileLengthFor(4096));
    }

    [Fact]
    public void TryWrite_Message_WritesLengthTypeAndPayloadAtTheRecordOffsets()
    {
        using TempSegmentDirectory dir = new();
        string name = dir.NewName();
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Capacity = 4096 });
        using RingWriter writer = segment.CreateWriter();

        Assert.True(writer.TryWrite("abcde"u8));
        Assert.True(writer.TryWrite("xyz"u8));

        long first = SegmentLayout.DataOffset;
        Assert.Equal(5, SegmentFile.ReadInt32(name, first + SegmentLayout.RecordLengthOffset));
        Assert.Equal(SegmentLayout.RecordTypeMessage, SegmentFile.ReadInt32(name, first + SegmentLayout.RecordTypeOffset));
        Assert.Equal(BitConverter.ToInt64("abcde\0\0\0"u8) & 0xFF_FFFF_FFFF, SegmentFile.ReadInt64(name, first + 8) & 0xFF_FFFF_FFFF);
        long second = first + 16; // 8-byte header + 5 bytes, rounded up to 8
        Assert.Equal(3, SegmentFile.ReadInt32(name, second + SegmentLayout.RecordLengthOffset));
        Assert.Equal(SegmentLayout.RecordTypeMessage, SegmentFile.ReadInt32(name, second + SegmentLayout.RecordTypeOffset));
        Assert.Equal(32L, SegmentFile.ReadInt64(name, SegmentLayout.TailOffset));
        Assert.Equal(0L, SegmentFile.ReadInt64(name, SegmentLayout.HeadOffset));
        Assert.Equal(2L, SegmentFile.ReadInt64(name, SegmentLayout.MessagesWrittenOffset));
        Assert.Equal(8L, SegmentFile.ReadInt64(name, SegmentLayout.BytesWrittenOffset));
    }

    [Fact]
    public void TryWrite_RecordNotFittingBeforeTheEnd_WritesAPaddingRecordAndWrapsToZero()
    {
        using TempSegmentDirectory dir = new();
        string name = dir.NewName();
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Capacity = 64 });
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        for (int i = 0; i < 7; i++) // seven empty records: the tail sits 8 bytes before the end
        {
            Assert.True(writer.TryWrite(ReadOnlySpan<byte>.Empty));
            Assert.True(reader.TryRead(Span<byte>.Empty, out _));
        }

        Assert.True(writer.TryWrite("12345678"u8)); // a 16-byte record: padding to the end, the record at 0

        Assert.Equal(0, SegmentFile.ReadInt32(name, SegmentLayout.DataOffset + 56 + SegmentLayout.RecordLengthOffset));
        Assert.Equal(SegmentLayout.RecordTypePadding, SegmentFile.ReadInt32(name, SegmentLayout.DataOffset + 56 + SegmentLayout.RecordTypeOffset));
        Assert.Equal(8, SegmentFile.ReadInt32(name, SegmentLayout.DataOffset + SegmentLayout.RecordLengthOffset));
        Assert.Equal(SegmentLayout.RecordTypeMessage, SegmentFile.ReadInt32(name, SegmentLayout.DataOffset + SegmentLayout.RecordTypeOffset));
        Assert.Equal(BitConverter.ToInt64("12345678"u8), SegmentFile.ReadInt64(name, SegmentLayout.DataOffset + 8));
        Assert.Equal(56L + 8 + 16, SegmentFile.ReadInt64(name, SegmentLayout.TailOffset));
        Assert.Equal(56L, SegmentFile.ReadInt64(name, SegmentLayout.HeadOffset));
        byte[] buffer = new byte[8];
        Assert.True(reader.TryRead(buffer, out int length));
        Assert.Equal("12345678"u8.ToArray(), buffer[..length]);
        Assert.Equal(80L, SegmentFile.ReadInt64(name, SegmentLayout.HeadOffset));
    }

    [Fact]
    public void Create_NewSegment_WritesHeaderFieldsAtTheirOffsets()
    {
        using TempSegmentDirectory dir = new();
        string name = dir.NewName();
        RingOptions options = new() { Capacity = 4096, MaxMessageLength = 300, Mode = (UnixFileMode)0x1A0 /* 0640 */ };
        long before = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;
        using (RingSegment.Create(name, options))
        {
        }
        long after = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;
        Assert.Equal(unchecked((long)SegmentLayout.Magic), SegmentFile.ReadInt64(name, 0x00));
        Assert.Equal(5, SegmentFile.ReadInt32(name, 0x08));
        Assert.Equal((int)RingKind.Spsc, SegmentFile.ReadInt32(name, 0x0C));
        Assert.Equal(0x3000, SegmentFile.ReadInt32(name, 0x10));
        Assert.Equal(300, SegmentFile.ReadInt32(name, 0x14));
        Assert.Equal(4096L, SegmentFile.ReadInt64(name, 0x18));
        Assert.Equal(0x3000L + 4096, SegmentFile.ReadInt64(name, 0x20));
        Assert.Equal(Environment.ProcessId, SegmentFile.ReadInt32(name, 0x28));
        Assert.Equal((int)RingSegment.Stat(name).OwnerUid, SegmentFile.ReadInt32(name, 0x2C));
        Assert.InRange(SegmentFile.ReadInt64(name, 0x30), before, after);
        Assert.Equal(64, SegmentFile.ReadInt32(name, 0x38));
        Assert.Equal(0x1A0, SegmentFile.ReadInt32(name, 0x3C));
        Assert.Equal(0, SegmentFile.ReadInt32(name, 0x40)); // an SPSC ring has no slots
        Assert.Equal(0, SegmentFile.ReadInt32(name, 0x44));
        // Not pinned: MessageSize and MessageTag zero, like the reserved bytes after them.
        for (int reserved = 0x48; reserved < 0x78; reserved += 8) Assert.Equal(0L, SegmentFile.ReadInt64(name, reserved));
        Assert.Equal(unchecked((long)SegmentFile.ComputeChecksum(name)), SegmentFile.ReadInt64(name, 0x78));
        Assert.Equal(0x3000L + 4096, new FileInfo(name).Length);
    }

    [Fact]
    public void Create_PinnedSegment_WritesTheTypesSizeAndNameHash()
    {
        using TempSegmentDirectory dir = new();
        string name = dir.NewName();
        using (RingSegment.Create(name, new RingOptions { Capacity = 4096 }.WithMessageType<Tick>()))
        {
        }

        Assert.Equal(System.Runtime.InteropServices.Marshal.SizeOf<Tick>(), SegmentFile.ReadInt32(name, 0x48));
        Assert.Equal(0, SegmentFile.ReadInt32(name, 0x4C));
        long tag = (long)System.IO.Hashing.XxHash64.HashToUInt64("Ring.Tests.Tick"u8);
        Assert.Equal(tag, SegmentFile.ReadInt64(name, 0x50));
        for (int reserved = 0x58; reserved < 0x78; reserved += 8) Assert.Equal(0L, SegmentFile.ReadInt64(name, reserved));
        Assert.Equal(unchecked((long)SegmentFile.ComputeChecksum(name)), SegmentFile.ReadInt64(name, 0x78));
    }

    [Fact]
    public void Create_NewMpmcSegment_WritesHeaderFieldsAndInitialSlotSequences()
    {
        using TempSegmentDirectory dir = new();
        string name = dir.NewName();
        using (RingSegment.Create(name, new RingOptions { Kind = RingKind.Mpmc, SlotCount = 8, MaxMessageLength = 100 }))
        {
        }

        const int Stride = 120; // 16-byte slot header + 100 bytes, rounded up to 8
        Assert.Equal(unchecked((long)SegmentLayout.Magic), SegmentFile.ReadInt64(name, 0x00));
        Assert.Equal((int)RingKind.Mpmc, SegmentFile.ReadInt32(name, 0x0C));
        Assert.Equal(0x3000, SegmentFile.ReadInt32(name, 0x10));
        Assert.Equal(100, SegmentFile.ReadInt32(name, 0x14));
        Assert.Equal(8L * Stride, SegmentFile.ReadInt64(name, 0x18));
        Assert.Equal(0x3000L + 8 * Stride, SegmentFile.ReadInt64(name, 0x20));
        Assert.Equal(8, SegmentFile.ReadInt32(name, 0x40));
        Assert.Equal(Stride, SegmentFile.ReadInt32(name, 0x44));
        for (int reserved = 0x48; reserved < 0x78; reserved += 8) Assert.Equal(0L, SegmentFile.ReadInt64(name, reserved));
        Assert.Equal(unchecked((long)SegmentFile.ComputeChecksum(name)), SegmentFile.ReadInt64(name, 0x78));
        Assert.Equal(0x3000L + 8 * Stride, new FileInfo(name).Length);
        // Slot i starts free for the producer of position i.
        for (int slot = 0; slot < 8; slot++) Assert.Equal((long)slot, SegmentFile.ReadInt64(name, 0x3000 + slot * Stride));
        Assert.Equal(0L, SegmentFile.ReadInt64(name, SegmentLayout.TailOffset));
        Assert.Equal(0L, SegmentFile.ReadInt64(name, SegmentLayout.HeadOffset));
    }

    [Fact]
    public void MpmcWriteAbortRead_Slots_CarrySequenceLengthAndPayloadAtTheirOffsets()
    {
        using TempSegmentDirectory dir = new();
        string name = dir.NewName();
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Kind = RingKind.Mpmc, SlotCount = 4, MaxMessageLength = 40 });
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        const int Stride = 56;
        long slot0 = 0x3000, slot1 = 0x3000 + Stride, slot2 = 0x3000 + 2 * Stride;

        Assert.True(writer.TryWrite("abcde"u8));
        Assert.True(writer.TryClaim(30, out _));
        writer.Abort();
        Assert.True(writer.TryWrite("xyz"u8));

        // Published: sequence = position + 1, then the length, then the payload after the 16-byte header.
        Assert.Equal(1L, SegmentFile.ReadInt64(name, slot0 + 0));
        Assert.Equal(5, SegmentFile.ReadInt32(name, slot0 + 8));
        Assert.Equal(BitConverter.ToInt64("abcde\0\0\0"u8) & 0xFF_FFFF_FFFF, SegmentFile.ReadInt64(name, slot0 + 16) & 0xFF_FFFF_FFFF);
        // The aborted claim: published as a skip record (sequence position + 1 with bit 62 set) so readers pass it.
        Assert.Equal(2L | (1L << 62), SegmentFile.ReadInt64(name, slot1 + 0));
        Assert.Equal(3L, SegmentFile.ReadInt64(name, slot2 + 0));
        Assert.Equal(3, SegmentFile.ReadInt32(name, slot2 + 8));
        // Positions count slots.
        Assert.Equal(3L, SegmentFile.ReadInt64(name, SegmentLayout.TailOffset));
        Assert.Equal(0L, SegmentFile.ReadInt64(name, SegmentLayout.HeadOffset));

        byte[] buffer = new byte[40];
        Assert.True(reader.TryRead(buffer, out int length));
        Assert.Equal("abcde"u8.ToArray(), buffer[..length]);
        Assert.True(reader.TryRead(buffer, out length));
        Assert.Equal("xyz"u8.ToArray(), buffer[..length]);

        // Freed for the next lap: sequence = position + slot count, the skip record included.
        Assert.Equal(0L + 4, SegmentFile.ReadInt64(name, slot0));
        Assert.Equal(1L + 4, SegmentFile.ReadInt64(name, slot1));
        Assert.Equal(2L + 4, SegmentFile.ReadInt64(name, slot2));
        Assert.Equal(3L, SegmentFile.ReadInt64(name, SegmentLayout.HeadOffset));
    }

    [Fact]
    public void MpmcEndpoints_Counters_LiveInTheirEntriesAndFoldIntoTheHeaderOnDispose()
    {
        using TempSegmentDirectory dir = new();
        string name = dir.NewName();
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Kind = RingKind.Mpmc, SlotCount = 4, MaxMessageLength = 40 });
        RingWriter writer = segment.CreateWriter();
        RingReader reader = segment.CreateReader();
        Assert.False(reader.TryRead(new byte[40], out _)); // one empty event
        for (int i = 0; i < 4; i++) Assert.True(writer.TryWrite(new byte[10 + i]));
        Assert.False(writer.TryWrite(new byte[1])); // one full event
        Assert.True(reader.TryRead(new byte[40], out _));

        SegmentStatus status = segment.GetStatus();
        long writerEntry = SegmentLayout.ParticipantEntryOffset(Assert.Single(status.Participants, p => p.Roles == RingRole.Producer).Index);
        long readerEntry = SegmentLayout.ParticipantEntryOffset(Assert.Single(status.Participants, p => p.Roles == RingRole.Consumer).Index);
        Assert.Equal(1, SegmentFile.ReadInt32(name, writerEntry + SegmentLayout.EntryStateOffset));
        Assert.Equal(Environment.ProcessId, SegmentFile.ReadInt32(name, writerEntry + SegmentLayout.EntryPidOffset));
        Assert.Equal((int)RingRole.Producer, SegmentFile.ReadInt32(name, writerEntry + SegmentLayout.EntryRolesOffset));
        Assert.Equal(4L, SegmentFile.ReadInt64(name, writerEntry + SegmentLayout.EntryMessagesWrittenOffset));
        Assert.Equal(46L, SegmentFile.ReadInt64(name, writerEntry + SegmentLayout.EntryBytesWrittenOffset));
        Assert.Equal(1L, SegmentFile.ReadInt64(name, writerEntry + SegmentLayout.EntryFullEventsOffset));
        Assert.Equal(3L, SegmentFile.ReadInt64(name, writerEntry + SegmentLayout.EntryWriteIntentOffset)); // the last position it claimed
        Assert.Equal(-1L, SegmentFile.ReadInt64(name, writerEntry + SegmentLayout.EntryReadIntentOffset));
        Assert.Equal(1L, SegmentFile.ReadInt64(name, readerEntry + SegmentLayout.EntryMessagesReadOffset));
        Assert.Equal(10L, SegmentFile.ReadInt64(name, readerEntry + SegmentLayout.EntryBytesReadOffset));
        Assert.Equal(1L, SegmentFile.ReadInt64(name, readerEntry + SegmentLayout.EntryEmptyEventsOffset));
        Assert.Equal(0L, SegmentFile.ReadInt64(name, readerEntry + SegmentLayout.EntryReadIntentOffset));
        // Live endpoints count in their entries only: no two processes write one header counter per message.
        Assert.Equal(0L, SegmentFile.ReadInt64(name, SegmentLayout.MessagesWrittenOffset));
        Assert.Equal(0L, SegmentFile.ReadInt64(name, SegmentLayout.MessagesReadOffset));
        Assert.Equal((4L, 46L, 1L, 10L, 1L, 1L),
            (status.MessagesWritten, status.BytesWritten, status.MessagesRead, status.BytesRead, status.FullEvents, status.EmptyEvents));

        writer.Dispose();
        reader.Dispose();

        Assert.Equal(0, SegmentFile.ReadInt32(name, writerEntry + SegmentLayout.EntryStateOffset));
        Assert.Equal(0, SegmentFile.ReadInt32(name, readerEntry + SegmentLayout.EntryStateOffset));
        Assert.Equal(4L, SegmentFile.ReadInt64(name, SegmentLayout.MessagesWrittenOffset));
        Assert.Equal(46L, SegmentFile.ReadInt64(name, SegmentLayout.BytesWrittenOffset));
        Assert.Equal(1L, SegmentFile.ReadInt64(name, SegmentLayout.FullEventsOffset));
        Assert.Equal(1L, SegmentFile.ReadInt64(name, SegmentLayout.MessagesReadOffset));
        Assert.Equal(10L, SegmentFile.ReadInt64(name, SegmentLayout.BytesReadOffset));
        Assert.Equal(1L, SegmentFile.ReadInt64(name, SegmentLayout.EmptyEventsOffset));
        SegmentStatus after = RingSegment.Stat(name);
        Assert.Equal((4L, 46L, 1L, 10L, 1L, 1L),
            (after.MessagesWritten, after.BytesWritten, after.MessagesRead, after.BytesRead, after.FullEvents, after.EmptyEvents));
    }
}
