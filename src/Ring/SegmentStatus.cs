namespace Ring;

/// <summary>
/// A snapshot of a segment, like IPC_STAT for a System V segment. Counters are read without stopping the
/// ring, so under traffic they are each a moment apart.
/// </summary>
public sealed record SegmentStatus
{
    /// <summary>The name given at create or open.</summary>
    public required string Name { get; init; }
    /// <summary>The segment file.</summary>
    public required string Path { get; init; }
    /// <summary>The ring implementation.</summary>
    public required RingKind Kind { get; init; }
    /// <summary>Bytes of the segment file: header plus ring.</summary>
    public required long FileLength { get; init; }
    /// <summary>Bytes of the data region: SPSC record space, or MPMC slots × slot size.</summary>
    public required long Capacity { get; init; }
    /// <summary>MPMC: the number of slots; 0 for SPSC.</summary>
    public required int SlotCount { get; init; }
    /// <summary>Largest payload of one message.</summary>
    public required int MaxMessageLength { get; init; }
    /// <summary>
    /// Room in use: bytes between the consumer's head and the producer's tail, record headers and padding included
    /// (MPMC: whole slots from head to tail, including claims still being written and skips; broadcast: bytes from
    /// the oldest record still intact to the tail).
    /// </summary>
    public required long BytesInRing { get; init; }
    /// <summary>
    /// Messages a reader could take now: committed and not yet read. MPMC counts the published slots between head
    /// and tail, leaving out skips (aborted or recovered claims) and claims still being written. Broadcast counts the
    /// messages still intact in the ring: what a subscriber joining at <see cref="SubscribeFrom.Oldest"/> could read.
    /// </summary>
    public required long MessagesInRing { get; init; }
    /// <summary>Process id of the creator.</summary>
    public required int CreatorPid { get; init; }
    /// <summary>Owner of the segment file.</summary>
    public required uint OwnerUid { get; init; }
    /// <summary>Permission bits of the segment file now.</summary>
    public required UnixFileMode Mode { get; init; }
    /// <summary>When the creator initialised the segment.</summary>
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>Last attach by any process, if any.</summary>
    public DateTimeOffset? LastAttachAt { get; init; }
    /// <summary>Last detach by any process, if any.</summary>
    public DateTimeOffset? LastDetachAt { get; init; }
    /// <summary>Attachments recorded in the participant table, live or dead.</summary>
    public required IReadOnlyList<ParticipantStatus> Participants { get; init; }
    /// <summary>Distinct live processes attached (like shm_nattch).</summary>
    public int AttachedProcesses => Participants.Where(p => p.IsAlive).Select(p => p.Pid).Distinct().Count();
    /// <summary>Live producers (writers) attached now.</summary>
    public int ProducersAlive => Participants.Count(p => p.IsAlive && (p.Roles & RingRole.Producer) != 0);
    /// <summary>Live consumers (readers) attached now.</summary>
    public int ConsumersAlive => Participants.Count(p => p.IsAlive && (p.Roles & RingRole.Consumer) != 0);
    /// <summary>Participants are recorded and none is alive: everyone died without detaching.</summary>
    public required bool IsStale { get; init; }
    /// <summary>The ring is completed: no message will be added; readers drain what is left.</summary>
    public required bool IsCompleted { get; init; }
    /// <summary>The completer's reason, or null (none given, or not completed).</summary>
    public string? CompletionReason { get; init; }
    /// <summary>Readers asleep (or about to sleep) waiting for a message.</summary>
    public required int ReadersWaiting { get; init; }
    /// <summary>Writers asleep (or about to sleep) waiting for room.</summary>
    public required int WritersWaiting { get; init; }
    /// <summary>Messages committed since creation.</summary>
    public required long MessagesWritten { get; init; }
    /// <summary>Payload bytes committed since creation.</summary>
    public required long BytesWritten { get; init; }
    /// <summary>Messages consumed since creation.</summary>
    public required long MessagesRead { get; init; }
    /// <summary>Payload bytes consumed since creation.</summary>
    public required long BytesRead { get; init; }
    /// <summary>Writes refused because the ring was full.</summary>
    public required long FullEvents { get; init; }
    /// <summary>Reads that found the ring empty.</summary>
    public required long EmptyEvents { get; init; }
    /// <summary>Times an endpoint went to sleep in the kernel.</summary>
    public required long Sleeps { get; init; }
    /// <summary>FUTEX_WAKE calls made because someone was asleep.</summary>
    public required long Wakes { get; init; }
    /// <summary>Positions a dead participant had claimed and another one completed (skipped or freed).</summary>
    public required long Recoveries { get; init; }
    /// <summary>
    /// Messages a consumer claimed and died before freeing: taken, never delivered twice. One that died after counting
    /// the message read (its handler had returned) and before the free counts it here too.
    /// </summary>
    public required long LostInDelivery { get; init; }

    /// <summary>
    /// An endpoint of a process that publishes with plain release stores (<c>RING_MEMBARRIER=on</c>) has attached: no
    /// fence per message, the sleepers on this segment run <c>membarrier</c> after registering instead. A process that
    /// publishes fenced (the default) sleeps at most a millisecond at a time on such a segment. Set once, never cleared.
    /// </summary>
    public bool MembarrierPublishers { get; init; }
}

/// <summary>One attachment or endpoint in the participant table.</summary>
/// <param name="Pid">Process id the participant recorded.</param>
/// <param name="Roles">Its role: none for a plain attachment, producer or consumer for an endpoint.</param>
/// <param name="AttachedAt">When it attached.</param>
/// <param name="IsAlive">Whether its kernel-held lock is still held, i.e. its process still runs.</param>
public sealed record ParticipantStatus(int Pid, RingRole Roles, DateTimeOffset AttachedAt, bool IsAlive)
{
    /// <summary>Its entry in the participant table.</summary>
    public int Index { get; init; }

    /// <summary>
    /// A broadcast subscriber: bytes between its next read position and the publisher's tail; null for other
    /// participants, and for a subscriber that has not joined yet or was detached.
    /// </summary>
    public long? BytesBehind { get; init; }

    /// <summary>
    /// A broadcast subscriber: messages published that it has not read yet; null where <see cref="BytesBehind"/> is, and
    /// when its position was already overwritten (it is lapped and will learn how many it lost at its next read).
    /// </summary>
    public long? MessagesBehind { get; init; }

    /// <summary>A broadcast subscriber: messages it lost to laps (<see cref="BroadcastOverflow.Overwrite"/>) since it joined.</summary>
    public long MessagesLostToLaps { get; init; }
}
