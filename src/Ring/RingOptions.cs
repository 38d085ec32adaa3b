using Microsoft.Extensions.Logging;

namespace Ring;

/// <summary>The ring implementation a segment holds.</summary>
public enum RingKind
{
    /// <summary>One producer, one consumer, variable-length records packed into a byte ring.</summary>
    Spsc = 1,

    /// <summary>Any number of producers and consumers, one message per fixed-size slot.</summary>
    Mpmc = 2,

    /// <summary>
    /// One publisher, any number of subscribers that each get every message, variable-length records packed into a
    /// byte ring; what a full ring does is <see cref="RingOptions.Overflow"/>.
    /// </summary>
    Broadcast = 3,
}

/// <summary>What a broadcast publisher does when the slowest subscriber is a whole ring behind.</summary>
public enum BroadcastOverflow
{
    /// <summary>The publisher waits for the slowest live subscriber; a dead one stops holding it up within about 250 ms.</summary>
    Block = 1,

    /// <summary>
    /// The publisher never waits and overwrites the oldest messages; a subscriber that was lapped gets a
    /// <see cref="RingLappedException"/> with the number of messages it lost, then goes on from the oldest still there.
    /// </summary>
    Overwrite = 2,
}

/// <summary>Where a new broadcast subscriber starts.</summary>
public enum SubscribeFrom
{
    /// <summary>At the live tail: the next message published.</summary>
    Tail,

    /// <summary>At the oldest message still intact in the ring, for a late joiner that wants the history.</summary>
    Oldest,
}

/// <summary>The roles an endpoint holds on a ring.</summary>
[Flags]
public enum RingRole
{
    /// <summary>An attachment that neither writes nor reads.</summary>
    None = 0,

    /// <summary>Writes messages.</summary>
    Producer = 1,

    /// <summary>Reads messages.</summary>
    Consumer = 2,
}

/// <summary>What an endpoint does when every process at the other end is gone.</summary>
public enum PeerLoss
{
    /// <summary>Keep waiting: a successor may attach (a restarted producer continues where the old one stopped).</summary>
    Wait,

    /// <summary>
    /// Once a peer has attached and none is alive any more, and the ring is drained (reader) or full (writer), behave
    /// as completed, with <see cref="RingPeerLostException"/>, for as long as that holds: a successor that attaches
    /// later is seen at the next look (every 50 ms at most) and the endpoint goes on with it. A sleeper learns of a
    /// death within about 250 ms, of a clean detach at once.
    /// </summary>
    Complete,
}

/// <summary>What a new segment holds; validated by <c>Create</c> and compared by <c>OpenOrCreate</c>.</summary>
public sealed record RingOptions
{
    /// <summary>Default record space of an SPSC ring: 1 MiB.</summary>
    public const long DefaultSpscCapacity = 1 << 20;

    /// <summary>Default slot count of an MPMC ring.</summary>
    public const int DefaultSlotCount = 1024;

    /// <summary>Default slot payload of an MPMC ring: 240 bytes, so a slot with its header is 256.</summary>
    public const int DefaultSlotPayload = 240;

    /// <summary>The ring implementation. Default: <see cref="RingKind.Spsc"/>.</summary>
    public RingKind Kind { get; init; } = RingKind.Spsc;

    /// <summary>
    /// SPSC and broadcast: bytes of record space, a power of two from 64 B to 1 TiB; 0 picks
    /// <see cref="DefaultSpscCapacity"/>. An MPMC ring is sized by <see cref="SlotCount"/> instead.
    /// </summary>
    public long Capacity { get; init; }

    /// <summary>Broadcast only: what the publisher does when the slowest subscriber is a ring behind. Default: <see cref="BroadcastOverflow.Block"/>.</summary>
    public BroadcastOverflow Overflow { get; init; } = BroadcastOverflow.Block;

    /// <summary>
    /// MPMC only: number of slots, a power of two from 2 to 2^24; 0 picks <see cref="DefaultSlotCount"/>.
    /// </summary>
    public int SlotCount { get; init; }

    /// <summary>
    /// Largest payload of one message; 0 picks the default: capacity/8 for SPSC and broadcast (also the upper bound),
    /// <see cref="DefaultSlotPayload"/> for MPMC, where it is the slot's payload size (at most 1 MiB).
    /// </summary>
    public int MaxMessageLength { get; init; }

    /// <summary>Permission bits of the segment file. Default: 0600.</summary>
    public UnixFileMode Mode { get; init; } = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// <c>OpenOrCreate</c> only: replace an existing segment whose every participant is dead (stale) with a
    /// new empty one. Off by default: a stale segment may still hold messages someone wants.
    /// </summary>
    public bool ResetStale { get; init; }

    /// <summary>
    /// The message type the ring is pinned to (none by default). Set it with <see cref="WithMessageType{T}"/>.
    /// </summary>
    internal MessageType MessageType { get; init; }

    /// <summary>
    /// These options with the ring pinned to messages of type <typeparamref name="T"/>: the header records its size and
    /// a tag of its full name, so an opener that names another type (<see cref="RingOpenOptions.WithMessageType{T}"/>)
    /// and a typed read or write of another type fail with <see cref="RingMessageTypeException"/> before any message
    /// moves. An MPMC ring without a <see cref="MaxMessageLength"/> gets slots of exactly <c>sizeof(T)</c> bytes. Byte
    /// calls stay allowed: a byte message of another length reaches a typed reader as a <see cref="RingMessageTypeException"/>
    /// that leaves it in the ring.
    /// </summary>
    public RingOptions WithMessageType<T>() where T : unmanaged => this with { MessageType = MessageType.Of<T>() };

    /// <summary>
    /// Where the segment logs the rare events an operator must see: a position recovered from a dead participant,
    /// an endpoint's peers lost, a corrupted ring, a stale segment replaced (event ids in <c>RingLog</c>, category
    /// <c>Ring</c>). Null by default: nothing is logged and nothing is paid. Only those rare paths log; no message
    /// write or read does. For <c>OpenOrCreate</c> it wins over <see cref="RingOpenOptions.LoggerFactory"/>.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    internal long EffectiveSlotCount => Kind == RingKind.Mpmc ? (SlotCount == 0 ? DefaultSlotCount : SlotCount) : 0;

    internal int EffectiveMaxMessageLength => MaxMessageLength != 0 ? MaxMessageLength
        : Kind == RingKind.Mpmc ? (MessageType.IsNone ? DefaultSlotPayload : MessageType.Size)
        : SegmentLayout.MaxMessageLengthFor(Kind, EffectiveSpscCapacity);

    internal int SlotStride => Kind == RingKind.Mpmc ? SegmentLayout.SlotStrideFor(EffectiveMaxMessageLength) : 0;

    /// <summary>The overflow the header records: the broadcast policy, 0 for the other kinds.</summary>
    internal int EffectiveOverflow => Kind == RingKind.Broadcast ? (int)Overflow : 0;

    /// <summary>Bytes of the data region: the SPSC or broadcast record space, or slots × stride.</summary>
    internal long EffectiveCapacity => Kind == RingKind.Mpmc ? EffectiveSlotCount * SlotStride : EffectiveSpscCapacity;

    private long EffectiveSpscCapacity => Capacity == 0 ? DefaultSpscCapacity : Capacity;

    internal void Validate()
    {
        if (!Enum.IsDefined(Kind))
            throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "Unknown ring kind.");
        if (Kind == RingKind.Broadcast ? !Enum.IsDefined(Overflow) : Overflow != BroadcastOverflow.Block)
            throw new ArgumentOutOfRangeException(nameof(Overflow), Overflow, "The overflow policy is for broadcast rings only: Block or Overwrite.");
        if (Kind != RingKind.Mpmc)
        {
            if (SlotCount != 0)
                throw new ArgumentOutOfRangeException(nameof(SlotCount), SlotCount, (Kind == RingKind.Spsc ? "An SPSC" : "A broadcast") + " ring has no slots: size it with Capacity.");
            long capacity = EffectiveSpscCapacity;
            if (capacity < SegmentLayout.MinCapacity || capacity > SegmentLayout.MaxCapacity || (capacity & (capacity - 1)) != 0)
                throw new ArgumentOutOfRangeException(nameof(Capacity), Capacity,
                    $"The capacity must be a power of two from {SegmentLayout.MinCapacity} to {SegmentLayout.MaxCapacity} bytes.");
            if (MaxMessageLength < 0 || MaxMessageLength > SegmentLayout.MaxMessageLengthFor(Kind, capacity))
                throw new ArgumentOutOfRangeException(nameof(MaxMessageLength), MaxMessageLength,
                    $"The largest message must be from 0 to {(Kind == RingKind.Broadcast ? "capacity/8 − 8" : "capacity/8")} = {SegmentLayout.MaxMessageLengthFor(Kind, capacity)} bytes (0 picks that).");
        }
        else
        {
            if (Capacity != 0)
                throw new ArgumentOutOfRangeException(nameof(Capacity), Capacity, "An MPMC ring is sized by SlotCount and MaxMessageLength, not Capacity.");
            long slots = EffectiveSlotCount;
            if (slots < SegmentLayout.MinSlotCount || slots > SegmentLayout.MaxSlotCount || (slots & (slots - 1)) != 0)
                throw new ArgumentOutOfRangeException(nameof(SlotCount), SlotCount,
                    $"The slot count must be a power of two from {SegmentLayout.MinSlotCount} to {SegmentLayout.MaxSlotCount}.");
            if (MaxMessageLength < 0 || MaxMessageLength > SegmentLayout.MaxSlotPayload)
                throw new ArgumentOutOfRangeException(nameof(MaxMessageLength), MaxMessageLength,
                    $"The slot payload must be from 1 to {SegmentLayout.MaxSlotPayload} bytes (0 picks {DefaultSlotPayload}).");
            if (EffectiveCapacity > SegmentLayout.MaxCapacity)
                throw new ArgumentOutOfRangeException(nameof(SlotCount), SlotCount, $"Slots × slot size exceeds {SegmentLayout.MaxCapacity} bytes.");
        }
        if (!MessageType.IsNone && MessageType.Size > EffectiveMaxMessageLength)
            throw new ArgumentOutOfRangeException(nameof(MaxMessageLength), MaxMessageLength,
                $"The ring is pinned to {MessageType}, longer than its largest message, {EffectiveMaxMessageLength} bytes.");
        if (((int)Mode & ~0x1FF) != 0)
            throw new ArgumentOutOfRangeException(nameof(Mode), Mode, "Only permission bits (0777) are allowed.");
        if ((Mode & (UnixFileMode.UserRead | UnixFileMode.UserWrite)) != (UnixFileMode.UserRead | UnixFileMode.UserWrite))
            throw new ArgumentOutOfRangeException(nameof(Mode), Mode, "The owner needs read and write permission (0600 at least).");
    }
}
