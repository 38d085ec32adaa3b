namespace Ring;

/// <summary>
/// The segment's byte layout: every offset Ring uses in shared memory, in one place. The segment is an ABI
/// between processes that may run different builds, so any change here bumps <see cref="Version"/>, and
/// docs/design.md carries the same table.
/// <code>
///  0x0000 ┌──────────────── identity (written once by the creator, then read-only) ────────────────┐
///         │ Magic u64 │ Version u32 │ Kind u32 │ HeaderLength u32 │ MaxMessage u32 │ Capacity u64 │
///         │ FileLength u64 │ CreatorPid u32 │ CreatorUid u32 │ CreatedNs u64 │ Participants u32 │
///         │ CreateMode u32 │ SlotCount u32 │ SlotStride u32 │ MessageSize u32 │ Overflow u32 │      │
///         │ MessageTag u64 │ reserved │ Checksum u64 @0x78                                      │
///  0x0080 ├─ lifecycle: LastAttachNs │ LastDetachNs │ Recoveries │ LostInDelivery │ Producer/ConsumerAttachments │
///         │            MembarrierPublishers i32 @0xB0 ──────────────────────────────────────────────────┤
///  0x0100 ├──────── producer line: Tail │ MessagesWritten │ BytesWritten │ FullEvents │ Reclaim │ Oldest │ TailSequence ┤
///  0x0180 ├──────── consumer line: Head │ MessagesRead │ BytesRead │ EmptyEvents │ SubscriberGeneration ──┤
///  0x0200 ├──────────────── readers' eventcount: Waiters i32 │ WakeSeq i32 │ Sleeps │ Wakes ───────┤
///  0x0280 ├──────────────── writers' eventcount: Waiters i32 │ WakeSeq i32 │ Sleeps │ Wakes ───────┤
///  0x0300 ├──────────────── SPSC role table: producer entry (64 B) │ consumer entry (64 B) ────────┤
///  0x0380 │ reserved, zero                                                                       │
///  0x0400 ├──────────────── completion: State │ ReasonLength │ CompleterPid │ CompletedNs │ Reason ──┤
///  0x0500 │ reserved, zero                                                                       │
///  0x1000 ├──────────────── participant table: 64 entries × 128 B ───────────────────────────────┤
///  0x3000 ├──────────────── data: SPSC or broadcast records, or MPMC slots ──────────────────────┤
///         └──────────────────────────────────────────────────────────────────────────────────────┘
/// </code>
/// Each group that one side writes often sits in its own 128-byte block: two 64-byte lines, because the
/// adjacent-line prefetcher pulls pairs and would otherwise make producer and consumer share a line. For
/// the same reason participant entries, which each endpoint writes on every message in an MPMC ring,
/// are 128 bytes.
/// </summary>
internal static class SegmentLayout
{
    public const ulong Magic = 0x0047455347_4E4952; // "RINGSEG\0" read as little-endian bytes
    public const int Version = 5;
    public const int BlockSize = 128;

    // Identity block: fixed at creation, covered by the checksum (bytes 0x08..0x77; the magic is published last).
    public const int MagicOffset = 0x00;
    public const int VersionOffset = 0x08;
    public const int KindOffset = 0x0C;
    public const int HeaderLengthOffset = 0x10;
    public const int MaxMessageLengthOffset = 0x14;
    public const int CapacityOffset = 0x18;
    public const int FileLengthOffset = 0x20;
    public const int CreatorPidOffset = 0x28;
    public const int CreatorUidOffset = 0x2C;
    public const int CreatedNsOffset = 0x30;
    public const int ParticipantCapacityOffset = 0x38;
    public const int CreateModeOffset = 0x3C;
    public const int SlotCountOffset = 0x40;
    public const int SlotStrideOffset = 0x44;
    // The message type the creator pinned the ring to (RingOptions.WithMessageType): sizeof(T) and a hash of T's full
    // name, both 0 when the ring carries bytes of any length. Typed endpoints and typed openers check them.
    public const int MessageSizeOffset = 0x48;
    // Broadcast only: what the publisher does when the slowest subscriber is a ring behind (BroadcastOverflow:
    // 1 block, 2 overwrite); 0 for SPSC and MPMC.
    public const int OverflowOffset = 0x4C;
    public const int MessageTagOffset = 0x50;
    public const int ChecksumOffset = 0x78;
    public const int ChecksummedStart = VersionOffset;
    public const int ChecksummedLength = ChecksumOffset - VersionOffset;

    public const int LastAttachNsOffset = 0x80;
    public const int LastDetachNsOffset = 0x88;
    public const int RecoveriesOffset = 0x90;
    public const int LostInDeliveryOffset = 0x98;
    // How many writers and readers have ever attached (atomic add at attach): "a producer was here" for peer loss.
    public const int ProducerAttachmentsOffset = 0xA0;
    public const int ConsumerAttachmentsOffset = 0xA8;
    // i32, 0 or 1, never cleared: an endpoint of a process that publishes with release stores only has attached, so a
    // sleeper must run the process-wide barrier after registering (PublishOrdering). Set with a fenced compare-exchange.
    public const int MembarrierPublishersOffset = 0xB0;

    public const int TailOffset = 0x100;
    /// <summary>
    /// Bit 62 of <c>Tail</c>: the ring is completed and <c>Tail</c> without it is the final position. Carried in the
    /// tail word itself so that completing and the last publish are one store (SPSC), and so that an MPMC claim's
    /// compare-exchange against an unflagged tail fails once the ring is completed.
    /// </summary>
    public const long TailCompletedFlag = 1L << 62;
    public const int MessagesWrittenOffset = 0x108;
    public const int BytesWrittenOffset = 0x110;
    public const int FullEventsOffset = 0x118;
    // Broadcast only, written by the publisher. Reclaim R: every byte position below R may be overwritten at any
    // moment (stored, fenced, before the stores that overwrite them). Oldest: the start of the oldest record still
    // intact, R ≤ Oldest ≤ Tail. TailSequence: the messages below Tail, stored after each tail store (MessagesWritten
    // is stored before it), so a joiner can read the tail's sequence exactly.
    public const int ReclaimOffset = 0x120;
    public const int OldestOffset = 0x128;
    public const int TailSequenceOffset = 0x130;

    public const int HeadOffset = 0x180;
    public const int MessagesReadOffset = 0x188;
    public const int BytesReadOffset = 0x190;
    public const int EmptyEventsOffset = 0x198;
    // Broadcast only: bumped (atomic add) by each joining subscriber after it has stored its cursor, so the
    // publisher knows to look at the cursors again. Read-mostly: written once per join.
    public const int SubscriberGenerationOffset = 0x1A0;

    public const int ReadersEventOffset = 0x200;
    public const int WritersEventOffset = 0x280;
    // In an MPMC ring the producer and consumer lines hold the totals of endpoints that have left; live
    // endpoints count in their own participant entries, so no two processes write one counter per message.

    // Within an eventcount block:
    public const int EventWaitersOffset = 0x00;
    public const int EventSequenceOffset = 0x04;
    public const int EventSleepsOffset = 0x08;
    public const int EventWakesOffset = 0x10;

    public const int RoleTableOffset = 0x300;
    public const int RoleEntrySize = 64;
    public const int ProducerRoleOffset = RoleTableOffset;
    public const int ConsumerRoleOffset = RoleTableOffset + RoleEntrySize;

    // Completion block: who completed the ring and why, written once by the completer that wins the state.
    public const int CompletionStateOffset = 0x400; // i32: 0 none, 1 being recorded, 2 recorded
    public const int CompletionReasonLengthOffset = 0x404; // i32, bytes of UTF-8
    public const int CompleterPidOffset = 0x408; // i32
    public const int CompletedNsOffset = 0x410; // i64
    public const int CompletionReasonOffset = 0x420;
    public const int CompletionReasonCapacity = 0x500 - CompletionReasonOffset; // 224 bytes
    public const int CompletionStateNone = 0;
    public const int CompletionStateRecording = 1;
    public const int CompletionStateRecorded = 2;

    public const int ParticipantTableOffset = 0x1000;
    public const int ParticipantEntrySize = 128;
    public const int ParticipantCapacity = 64;
    // Within a role or participant entry. The entry's first byte is also the byte its holder keeps an OFD
    // lock on: lock held = holder alive. Role entries use the first four fields only.
    public const int EntryStateOffset = 0x00;
    public const int EntryPidOffset = 0x04;
    public const int EntryStartTicksOffset = 0x08;
    public const int EntryAttachNsOffset = 0x10;
    public const int EntryRolesOffset = 0x18;
    public const int EntryWriteIntentOffset = 0x20;
    public const int EntryReadIntentOffset = 0x28;
    public const int EntryMessagesWrittenOffset = 0x30;
    public const int EntryBytesWrittenOffset = 0x38;
    public const int EntryMessagesReadOffset = 0x40;
    public const int EntryBytesReadOffset = 0x48;
    public const int EntryFullEventsOffset = 0x50;
    public const int EntryEmptyEventsOffset = 0x58;
    // Broadcast subscriber: its next read position, the only field it writes per message; −1 = not gating (every
    // other entry, a subscriber that has not joined yet, a dead one the publisher detached).
    public const int EntryCursorOffset = 0x60;
    // Broadcast subscriber: messages it lost to laps (Overwrite), written by it when it finds a lap; for Stat.
    public const int EntryLostToLapsOffset = 0x68;

    public const int HeaderLength = 0x3000;
    public const int DataOffset = HeaderLength;

    public const long MinCapacity = 64;
    public const long MaxCapacity = 1L << 40;
    public const int MaxMessageDivisor = 8;

    // Record format inside the data region: an 8-byte header, then the payload, padded to 8 bytes.
    public const int RecordAlignment = 8;
    public const int RecordHeaderLength = 8;
    public const int RecordLengthOffset = 0;
    public const int RecordTypeOffset = 4;
    public const int RecordTypeMessage = 1;
    public const int RecordTypePadding = 2;

    // Broadcast records: a 16-byte header (length i32, type i32, sequence i64: the message's index, 0-based),
    // then the payload padded to 8. A padding record has only the first 8 bytes of that header (it may be 8 bytes long).
    public const int BroadcastRecordHeaderLength = 16;
    public const int BroadcastRecordSequenceOffset = 8;

    // MPMC slots: a 16-byte header (sequence i64, length i32, reserved i32), then the payload.
    public const int SlotHeaderLength = 16;
    public const int SlotSequenceOffset = 0;
    public const int SlotLengthOffset = 8;
    public const int MinSlotCount = 2;
    public const int MaxSlotCount = 1 << 24;
    public const int MaxSlotPayload = 1 << 20;

    public static long ParticipantEntryOffset(int index) => ParticipantTableOffset + (long)index * ParticipantEntrySize;

    public static long FileLengthFor(long capacity) => HeaderLength + capacity;

    public static int SlotStrideFor(int maxMessageLength) =>
        (SlotHeaderLength + maxMessageLength + RecordAlignment - 1) & ~(RecordAlignment - 1);

    public static int AlignedRecordLength(int payloadLength) =>
        (RecordHeaderLength + payloadLength + RecordAlignment - 1) & ~(RecordAlignment - 1);

    public static int BroadcastAlignedRecordLength(int payloadLength) =>
        (BroadcastRecordHeaderLength + payloadLength + RecordAlignment - 1) & ~(RecordAlignment - 1);

    public static int MaxMessageLengthFor(long capacity) =>
        (int)Math.Min(capacity / MaxMessageDivisor, int.MaxValue - RecordHeaderLength - RecordAlignment);

    /// <summary>
    /// The largest payload of a broadcast ring: capacity/8 less the 8 bytes its record header has over SPSC's, so the
    /// longest broadcast record is the longest SPSC record, capacity/8 + 8. Three of them fit in the smallest ring, which
    /// the publisher relies on: a padding record, the record after it and the newest record before them never span the
    /// whole ring, so some message stays intact once one was written.
    /// </summary>
    public static int BroadcastMaxMessageLengthFor(long capacity) =>
        (int)Math.Min(capacity / MaxMessageDivisor - (BroadcastRecordHeaderLength - RecordHeaderLength), int.MaxValue - BroadcastRecordHeaderLength - RecordAlignment);

    public static int MaxMessageLengthFor(RingKind kind, long capacity) =>
        kind == RingKind.Broadcast ? BroadcastMaxMessageLengthFor(capacity) : MaxMessageLengthFor(capacity);
}
