using System.Buffers.Binary;
using System.IO.Hashing;
using Ring.Platform.Linux;

namespace Ring;

/// <summary>The identity block of a segment: written once by its creator, validated by every opener.</summary>
internal readonly record struct SegmentHeader(
    RingKind Kind,
    long Capacity,
    int MaxMessageLength,
    long FileLength,
    int CreatorPid,
    uint CreatorUid,
    long CreatedNs,
    UnixFileMode CreateMode,
    int SlotCount,
    int SlotStride,
    int MessageSize,
    long MessageTag,
    int Overflow)
{
    /// <summary>
    /// Fills the identity block and publishes it by storing the magic last with release semantics, so an
    /// opener that sees the magic sees every other field.
    /// </summary>
    public void WriteTo(SharedBuffer buffer)
    {
        buffer.WriteInt32(SegmentLayout.VersionOffset, SegmentLayout.Version);
        buffer.WriteInt32(SegmentLayout.KindOffset, (int)Kind);
        buffer.WriteInt32(SegmentLayout.HeaderLengthOffset, SegmentLayout.HeaderLength);
        buffer.WriteInt32(SegmentLayout.MaxMessageLengthOffset, MaxMessageLength);
        buffer.WriteInt64(SegmentLayout.CapacityOffset, Capacity);
        buffer.WriteInt64(SegmentLayout.FileLengthOffset, FileLength);
        buffer.WriteInt32(SegmentLayout.CreatorPidOffset, CreatorPid);
        buffer.WriteInt32(SegmentLayout.CreatorUidOffset, (int)CreatorUid);
        buffer.WriteInt64(SegmentLayout.CreatedNsOffset, CreatedNs);
        buffer.WriteInt32(SegmentLayout.ParticipantCapacityOffset, SegmentLayout.ParticipantCapacity);
        buffer.WriteInt32(SegmentLayout.CreateModeOffset, (int)CreateMode);
        buffer.WriteInt32(SegmentLayout.SlotCountOffset, SlotCount);
        buffer.WriteInt32(SegmentLayout.SlotStrideOffset, SlotStride);
        buffer.WriteInt32(SegmentLayout.MessageSizeOffset, MessageSize);
        buffer.WriteInt32(SegmentLayout.OverflowOffset, Overflow);
        buffer.WriteInt64(SegmentLayout.MessageTagOffset, MessageTag);
        buffer.WriteInt64(SegmentLayout.ChecksumOffset, (long)Checksum(buffer));
        buffer.WriteInt64Release(SegmentLayout.MagicOffset, (long)SegmentLayout.Magic); // pairs with ReadFrom's acquire of the magic
    }

    /// <summary>
    /// Reads every field once and checks it; a mismatch names the field. <paramref name="mappedLength"/> is the
    /// file length the opener saw and mapped, which bounds everything else.
    /// </summary>
    public static SegmentHeader ReadFrom(SharedBuffer buffer, long mappedLength, string path)
    {
        if (mappedLength < SegmentLayout.HeaderLength)
            throw Invalid("FileLength", path, $"the file is {mappedLength} bytes, shorter than the {SegmentLayout.HeaderLength}-byte header");

        ulong magic = (ulong)buffer.ReadInt64Acquire(SegmentLayout.MagicOffset); // pairs with WriteTo's release of the magic
        if (magic != SegmentLayout.Magic)
            throw Invalid("Magic", path, magic == 0 ? "the header was never published (creator died while initialising?)" : $"0x{magic:X16} is not a Ring segment");

        int version = buffer.ReadInt32(SegmentLayout.VersionOffset);
        if (version != SegmentLayout.Version)
            throw Invalid("Version", path, $"layout version {version}, this build reads {SegmentLayout.Version}");

        ulong storedChecksum = (ulong)buffer.ReadInt64(SegmentLayout.ChecksumOffset);
        ulong actualChecksum = Checksum(buffer);
        if (storedChecksum != actualChecksum)
            throw Invalid("Checksum", path, $"stored 0x{storedChecksum:X16}, fields hash to 0x{actualChecksum:X16}");

        int kind = buffer.ReadInt32(SegmentLayout.KindOffset);
        if (!Enum.IsDefined((RingKind)kind))
            throw Invalid("Kind", path, $"unknown ring kind {kind}");

        int headerLength = buffer.ReadInt32(SegmentLayout.HeaderLengthOffset);
        if (headerLength != SegmentLayout.HeaderLength)
            throw Invalid("HeaderLength", path, $"{headerLength}, expected {SegmentLayout.HeaderLength}");

        long capacity = buffer.ReadInt64(SegmentLayout.CapacityOffset);
        int maxMessage = buffer.ReadInt32(SegmentLayout.MaxMessageLengthOffset);
        int slotCount = buffer.ReadInt32(SegmentLayout.SlotCountOffset);
        int slotStride = buffer.ReadInt32(SegmentLayout.SlotStrideOffset);
        int overflow = buffer.ReadInt32(SegmentLayout.OverflowOffset);
        if ((RingKind)kind == RingKind.Broadcast ? !Enum.IsDefined((BroadcastOverflow)overflow) : overflow != 0)
            throw Invalid("Overflow", path, $"{overflow}; a broadcast ring has 1 (block) or 2 (overwrite), the other kinds 0");
        if ((RingKind)kind != RingKind.Mpmc)
        {
            string which = (RingKind)kind == RingKind.Spsc ? "an SPSC" : "a broadcast";
            if (capacity < SegmentLayout.MinCapacity || capacity > SegmentLayout.MaxCapacity || (capacity & (capacity - 1)) != 0)
                throw Invalid("Capacity", path, $"{capacity} is not a power of two from {SegmentLayout.MinCapacity} to {SegmentLayout.MaxCapacity}");
            if (maxMessage < 0 || maxMessage > SegmentLayout.MaxMessageLengthFor((RingKind)kind, capacity))
                throw Invalid("MaxMessageLength", path, $"{maxMessage} is outside 0..{SegmentLayout.MaxMessageLengthFor((RingKind)kind, capacity)}");
            if (slotCount != 0) throw Invalid("SlotCount", path, $"{slotCount}, {which} ring has none");
            if (slotStride != 0) throw Invalid("SlotStride", path, $"{slotStride}, {which} ring has none");
        }
        else
        {
            if (slotCount < SegmentLayout.MinSlotCount || slotCount > SegmentLayout.MaxSlotCount || (slotCount & (slotCount - 1)) != 0)
                throw Invalid("SlotCount", path, $"{slotCount} is not a power of two from {SegmentLayout.MinSlotCount} to {SegmentLayout.MaxSlotCount}");
            if (maxMessage < 0 || maxMessage > SegmentLayout.MaxSlotPayload)
                throw Invalid("MaxMessageLength", path, $"{maxMessage} is outside 0..{SegmentLayout.MaxSlotPayload}");
            if (slotStride != SegmentLayout.SlotStrideFor(maxMessage))
                throw Invalid("SlotStride", path, $"{slotStride}, a {maxMessage}-byte payload needs {SegmentLayout.SlotStrideFor(maxMessage)}");
            if (capacity != (long)slotCount * slotStride)
                throw Invalid("Capacity", path, $"{capacity}, {slotCount} slots of {slotStride} bytes need {(long)slotCount * slotStride}");
        }

        int messageSize = buffer.ReadInt32(SegmentLayout.MessageSizeOffset);
        long messageTag = buffer.ReadInt64(SegmentLayout.MessageTagOffset);
        if (messageSize < 0 || messageSize > maxMessage || (messageSize == 0) != (messageTag == 0))
            throw Invalid("MessageSize", path, $"a pinned message type of {messageSize} bytes with tag 0x{messageTag:X16}: the size must be from 1 to {maxMessage} with a tag, or 0 without one");

        long fileLength = buffer.ReadInt64(SegmentLayout.FileLengthOffset);
        if (fileLength != SegmentLayout.FileLengthFor(capacity))
            throw Invalid("FileLength", path, $"header says {fileLength} bytes, capacity {capacity} needs {SegmentLayout.FileLengthFor(capacity)}");
        if (fileLength > mappedLength)
            throw Invalid("FileLength", path, $"the file is {mappedLength} bytes but its header says {fileLength}: {Truncated}");

        int participants = buffer.ReadInt32(SegmentLayout.ParticipantCapacityOffset);
        if (participants != SegmentLayout.ParticipantCapacity)
            throw Invalid("ParticipantCapacity", path, $"{participants}, expected {SegmentLayout.ParticipantCapacity}");

        long createdNs = buffer.ReadInt64(SegmentLayout.CreatedNsOffset);
        if (createdNs <= 0)
            throw Invalid("CreatedNs", path, $"{createdNs} is not a time after 1970");

        return new SegmentHeader(
            (RingKind)kind,
            capacity,
            maxMessage,
            fileLength,
            buffer.ReadInt32(SegmentLayout.CreatorPidOffset),
            (uint)buffer.ReadInt32(SegmentLayout.CreatorUidOffset),
            createdNs,
            (UnixFileMode)(buffer.ReadInt32(SegmentLayout.CreateModeOffset) & 0x1FF),
            slotCount,
            slotStride,
            messageSize,
            messageTag,
            overflow);
    }

    /// <summary>
    /// The error for a file too short to hold a header. One that still starts with Ring's magic was a segment, cut
    /// short after it was created, and the message says so.
    /// </summary>
    public static SegmentFormatException TooShort(FileDescriptorHandle file, long length, string path) =>
        Invalid("FileLength", path, ReadMagic(file, path) == SegmentLayout.Magic
            ? $"the file is {length} bytes, shorter than the {SegmentLayout.HeaderLength}-byte header it starts with: {Truncated}"
            : $"the file is {length} bytes, shorter than the {SegmentLayout.HeaderLength}-byte header");

    /// <summary>The magic word as the file holds it, read without mapping the file; 0 when the file is too short to hold one.</summary>
    public static ulong ReadMagic(FileDescriptorHandle file, string path)
    {
        Span<byte> magic = stackalloc byte[sizeof(ulong)];
        return Posix.ReadAt(file, magic, SegmentLayout.MagicOffset, path) == magic.Length ? BinaryPrimitives.ReadUInt64LittleEndian(magic) : 0;
    }

    private const string Truncated = "it was truncated after it was created (by its owner, or by someone its mode lets write it); " +
        "a process that has it mapped dies with SIGBUS when it touches the part that is gone. Remove it and create it again";

    private static ulong Checksum(SharedBuffer buffer) =>
        XxHash64.HashToUInt64(buffer.Span(SegmentLayout.ChecksummedStart, SegmentLayout.ChecksummedLength));

    private static SegmentFormatException Invalid(string field, string path, string detail) =>
        new(field, $"'{path}' is not a usable Ring segment: {field}: {detail}.");
}
