using Microsoft.Extensions.Logging;
using Ring.Mpmc;
using Ring.Platform.Linux;

namespace Ring;

/// <summary>
/// A named shared-memory segment holding one ring, with the System V lifecycle: <see cref="Create"/> /
/// <see cref="Open(string)"/> / <see cref="OpenOrCreate(string, RingOptions)"/> attach, <see cref="Dispose"/> detaches,
/// <see cref="Unlink(string)"/> removes, <see cref="Stat(string)"/> reports. A segment is a file on tmpfs mapped into every
/// attached process; writers and readers created from it move messages without entering the kernel. Only segments
/// (and segment directories) of the caller's own are used unless <see cref="RingOpenOptions"/> names other owners.
/// </summary>
public sealed class RingSegment : IDisposable
{
    private readonly FileDescriptorHandle _file;
    private readonly MappingHandle _mapping;
    private readonly SegmentHeader _header;
    private readonly ParticipantLease<SharedBuffer>? _attachment;
    private readonly List<IDisposable> _endpoints = []; // the writers and readers to dispose with the segment
    private int _disposed;
    private int _corruptionLogged;

    private RingSegment(string name, string path, MappedSegmentFile mapped, bool readOnly, ILoggerFactory? loggerFactory)
    {
        Name = name;
        Path = path;
        _file = mapped.File;
        _mapping = mapped.Mapping;
        _header = mapped.Header;
        IsReadOnly = readOnly;
        Buffer = new SharedBuffer(_mapping.DangerousGetHandle(), _mapping.Length);
        WasStale = ParticipantTable.IsStale(ReadParticipants());
        _attachment = readOnly ? null : ParticipantLease<SharedBuffer>.Register(this, RingRole.None, exclusiveRole: false, Buffer);
        Logger = loggerFactory?.CreateLogger(RingLog.Category);
        RingMetrics.Track(this); // last: a segment whose construction failed is never observed
    }

    /// <summary>
    /// The name of the <see cref="System.Diagnostics.Metrics.Meter"/> that reports every open segment of the process
    /// (<c>dotnet-counters monitor --counters Ring</c>, or OpenTelemetry's <c>AddMeter</c>).
    /// </summary>
    public const string MeterName = RingMetrics.MeterName;

    /// <summary>The name the segment was created or opened with.</summary>
    public string Name { get; }

    /// <summary>The segment file.</summary>
    public string Path { get; }

    /// <summary>True for a monitor's attach: no writer or reader, no entry in the participant table.</summary>
    public bool IsReadOnly { get; }

    /// <summary>The ring implementation the segment holds.</summary>
    public RingKind Kind => _header.Kind;

    /// <summary>Bytes of the data region: SPSC record space, or MPMC slots × slot size.</summary>
    public long Capacity => _header.Capacity;

    /// <summary>MPMC: the number of slots; 0 for SPSC and broadcast.</summary>
    public int SlotCount => _header.SlotCount;

    /// <summary>Broadcast: what the publisher does when the slowest subscriber is a ring behind; <see cref="BroadcastOverflow.Block"/> for the other kinds, whose writers always wait.</summary>
    public BroadcastOverflow Overflow => _header.Kind == RingKind.Broadcast ? (BroadcastOverflow)_header.Overflow : BroadcastOverflow.Block;

    /// <summary>The largest payload one message may carry (for MPMC, the slot's payload size).</summary>
    public int MaxMessageLength => _header.MaxMessageLength;

    /// <summary>
    /// The size of the message type the ring is pinned to (<see cref="RingOptions.WithMessageType{T}"/>); 0 when it
    /// carries bytes of any length.
    /// </summary>
    public int MessageSize => _header.MessageSize;

    /// <summary>
    /// True when, at open, the segment had participants recorded and none of them alive: every process
    /// that used it died without detaching. Its messages are still there for a new consumer.
    /// </summary>
    public bool WasStale { get; }

    internal int SlotStride => _header.SlotStride;

    internal SharedBuffer Buffer { get; }

    internal SegmentHeader Header => _header;

    /// <summary>Null unless the options that attached the segment named a logger factory.</summary>
    internal ILogger? Logger { get; }

    internal FileDescriptorHandle ReopenFile(int flags) => Posix.Reopen(_file, flags, Path);

    /// <summary>Creates a new segment; fails with <see cref="SegmentExistsException"/> if the name is taken.</summary>
    /// <exception cref="SegmentAccessException">The directory belongs to another user, or others can write it.</exception>
    public static RingSegment Create(string name, RingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        string path = SegmentDirectory.Resolve(name);
        return TryCreate(name, path, options, RingOpenOptions.Default, options.LoggerFactory) ?? throw new SegmentExistsException($"segment '{name}' already exists at '{path}'");
    }

    /// <summary>Attaches to an existing segment of this user's for writing and reading.</summary>
    public static RingSegment Open(string name) => Open(name, RingOpenOptions.Default);

    /// <summary>Attaches to an existing segment for writing and reading, trusting the owners <paramref name="openOptions"/> names.</summary>
    /// <exception cref="SegmentAccessException">The segment or its directory belongs to an owner not trusted, or others can write the directory.</exception>
    public static RingSegment Open(string name, RingOpenOptions openOptions) => OpenExisting(name, openOptions, readOnly: false);

    /// <summary>Attaches to an existing segment of this user's for monitoring only (the mapping is read-only).</summary>
    public static RingSegment OpenReadOnly(string name) => OpenReadOnly(name, RingOpenOptions.Default);

    /// <summary>Attaches for monitoring only (the mapping is read-only), trusting the owners <paramref name="openOptions"/> names.</summary>
    /// <exception cref="SegmentAccessException">The segment or its directory belongs to an owner not trusted, or others can write the directory.</exception>
    public static RingSegment OpenReadOnly(string name, RingOpenOptions openOptions) => OpenExisting(name, openOptions, readOnly: true);

    /// <summary>
    /// Opens the segment, creating it if it does not exist. Processes racing here all end up attached to the
    /// one segment that won. An existing segment must match <paramref name="options"/>.
    /// </summary>
    public static RingSegment OpenOrCreate(string name, RingOptions options) => OpenOrCreate(name, options, RingOpenOptions.Default);

    /// <summary>
    /// <see cref="OpenOrCreate(string, RingOptions)"/>, trusting the owners <paramref name="openOptions"/> names for
    /// an existing segment and for the directory.
    /// </summary>
    /// <exception cref="SegmentAccessException">The segment or its directory belongs to an owner not trusted, or others can write the directory.</exception>
    public static RingSegment OpenOrCreate(string name, RingOptions options, RingOpenOptions openOptions)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(openOptions);
        options.Validate();
        string path = SegmentDirectory.Resolve(name);
        ILoggerFactory? loggerFactory = options.LoggerFactory ?? openOptions.LoggerFactory;
        while (true)
        {
            try
            {
                using TrustedDirectory directory = SegmentFiles.OpenDirectory(name, path, openOptions);
                RingSegment existing = OpenExisting(name, path, directory, readOnly: false, loggerFactory);
                if (existing.WasStale && options.ResetStale && existing.IsOnlyParticipant())
                {
                    ulong staleInode = Posix.Stat(existing._file, path).Inode;
                    existing.Dispose();
                    if (directory.UnlinkIfSameFile(System.IO.Path.GetFileName(path), staleInode)) existing.Logger?.StaleSegmentReset(name, path);
                    continue;
                }
                existing.CheckMatches(options);
                existing.RequireMessageType(openOptions.MessageType);
                return existing;
            }
            catch (SegmentNotFoundException)
            {
            }
            RingSegment? created = TryCreate(name, path, options, openOptions, loggerFactory);
            if (created is not null) return created;
            // Another process linked its segment between our open and our link: open that one.
        }
    }

    /// <summary>
    /// Removes the segment's name; attached processes keep their mapping until they detach. Only a Ring segment
    /// of this user's is removed: anything else stays, with a typed error saying why (see
    /// <see cref="Unlink(string, RingOpenOptions)"/>).
    /// </summary>
    /// <returns>False when there was no such segment.</returns>
    public static bool Unlink(string name) => Unlink(name, RingOpenOptions.Default);

    /// <summary>
    /// Removes the segment's name, trusting the owners <paramref name="openOptions"/> names. The name is removed only
    /// if it is a regular file (not a symbolic link) of a trusted owner starting with Ring's magic, and only while it
    /// still refers to the file that was checked; otherwise the file stays and a typed error says why.
    /// </summary>
    /// <returns>False when there was no such segment.</returns>
    /// <exception cref="SegmentFormatException">Not a Ring segment: not a regular file (FileType), or no Ring magic (Magic).</exception>
    /// <exception cref="SegmentAccessException">The segment or its directory belongs to an owner not trusted, or others can write the directory.</exception>
    public static bool Unlink(string name, RingOpenOptions openOptions)
    {
        ArgumentNullException.ThrowIfNull(openOptions);
        return SegmentFiles.Unlink(name, openOptions);
    }

    /// <summary>
    /// Removes the segment only if it is stale (participants recorded, none alive), judged without attaching;
    /// the name is unlinked only while it still refers to the file that was judged, so a segment created
    /// under the same name meanwhile is left alone.
    /// </summary>
    /// <returns>True when it was stale and removed; false when it is in use, idle, or already gone.</returns>
    public static bool UnlinkIfStale(string name) => UnlinkIfStale(name, RingOpenOptions.Default);

    /// <summary><see cref="UnlinkIfStale(string)"/>, trusting the owners <paramref name="openOptions"/> names.</summary>
    /// <exception cref="SegmentAccessException">The segment or its directory belongs to an owner not trusted, or others can write the directory.</exception>
    public static bool UnlinkIfStale(string name, RingOpenOptions openOptions)
    {
        ArgumentNullException.ThrowIfNull(openOptions);
        string path = SegmentDirectory.Resolve(name);
        try
        {
            using TrustedDirectory directory = SegmentFiles.OpenDirectory(name, path, openOptions);
            ulong inode;
            ILogger? logger;
            using (RingSegment monitor = OpenExisting(name, path, directory, readOnly: true, openOptions.LoggerFactory))
            {
                if (!monitor.WasStale) return false;
                inode = Posix.Stat(monitor._file, path).Inode;
                logger = monitor.Logger;
            }
            if (!directory.UnlinkIfSameFile(System.IO.Path.GetFileName(path), inode)) return false;
            logger?.StaleSegmentRemoved(name, path);
            return true;
        }
        catch (SegmentNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Reports on a segment of this user's without attaching as a participant.</summary>
    public static SegmentStatus Stat(string name) => Stat(name, RingOpenOptions.Default);

    /// <summary>Reports on a segment without attaching as a participant, trusting the owners <paramref name="openOptions"/> names.</summary>
    /// <exception cref="SegmentAccessException">The segment or its directory belongs to an owner not trusted, or others can write the directory.</exception>
    public static SegmentStatus Stat(string name, RingOpenOptions openOptions)
    {
        using RingSegment monitor = OpenReadOnly(name, openOptions);
        return monitor.GetStatus();
    }

    /// <summary>
    /// How this process's pending async waits sleep: <see cref="Ring.AsyncWaitMechanism.FutexWaitv"/> where the
    /// kernel has futex_waitv (Linux 5.16 or later), otherwise the fallback
    /// <see cref="Ring.AsyncWaitMechanism.ThreadPerWord"/>, which RING_ASYNC_WAIT=thread-per-word in the environment
    /// also selects. Decided once per process, at the first async wait that has to wait or the first read of this.
    /// </summary>
    public static AsyncWaitMechanism AsyncWaitMechanism => AsyncWaitService.ForProcess.Mechanism;

    /// <summary>The directory unqualified names resolve in (RING_DIR, or /dev/shm/ring-&lt;uid&gt;).</summary>
    public static string DefaultDirectory => SegmentDirectory.Current;

    /// <summary>Attaches a producer end. An SPSC or broadcast ring allows one live producer, an MPMC ring any number.</summary>
    /// <param name="wait">How the writer waits for room.</param>
    /// <param name="peerLoss">Whether a writer blocked on a full ring gives up (<see cref="RingPeerLostException"/>) once every consumer is gone.</param>
    /// <exception cref="RingRoleTakenException">SPSC: a live process already holds the producer role.</exception>
    public RingWriter CreateWriter(WaitStrategy wait = WaitStrategy.SpinThenBlock, PeerLoss peerLoss = PeerLoss.Wait) => EndpointFactory.CreateWriter(this, wait, peerLoss);

    /// <summary>
    /// Attaches a consumer end. An SPSC ring allows one live consumer, an MPMC ring any number; on a broadcast ring it
    /// is a subscriber that starts at the live tail (<see cref="CreateSubscriber"/>).
    /// </summary>
    /// <param name="wait">How the reader waits for messages.</param>
    /// <param name="peerLoss">Whether the reader of a drained ring sees the end of the stream (<see cref="RingPeerLostException"/>) once every producer is gone.</param>
    /// <exception cref="RingRoleTakenException">SPSC: a live process already holds the consumer role.</exception>
    public RingReader CreateReader(WaitStrategy wait = WaitStrategy.SpinThenBlock, PeerLoss peerLoss = PeerLoss.Wait) => EndpointFactory.CreateReader(this, wait, peerLoss);

    /// <summary>
    /// Attaches a broadcast subscriber: a reader that gets every message published from where it starts, without
    /// taking anything from the other subscribers. Under <see cref="BroadcastOverflow.Block"/> the publisher waits for
    /// it (from the live tail on; history read from <see cref="SubscribeFrom.Oldest"/> is not waited for); under
    /// <see cref="BroadcastOverflow.Overwrite"/> a read that finds it lapped throws <see cref="RingLappedException"/>.
    /// </summary>
    /// <param name="from">Where it starts: the live tail, or the oldest message still in the ring.</param>
    /// <param name="wait">How the subscriber waits for messages.</param>
    /// <param name="peerLoss">Whether the subscriber of a drained ring sees the end of the stream once the publisher is gone.</param>
    /// <exception cref="InvalidOperationException">The segment does not hold a broadcast ring.</exception>
    public RingReader CreateSubscriber(SubscribeFrom from = SubscribeFrom.Tail, WaitStrategy wait = WaitStrategy.SpinThenBlock, PeerLoss peerLoss = PeerLoss.Wait)
    {
        if (Kind != RingKind.Broadcast) throw new InvalidOperationException($"segment '{Name}' holds an {Kind.ToString().ToUpperInvariant()} ring; only a broadcast ring has subscribers.");
        if (!Enum.IsDefined(from)) throw new ArgumentOutOfRangeException(nameof(from), from, "Unknown subscribe position.");
        return EndpointFactory.CreateReader(this, wait, peerLoss, from);
    }

    /// <summary>A producer end over the given memory operations: the segment's own buffer, or a test's instrumented view of it.</summary>
    internal RingWriter CreateWriter<TPolicy, TMemory>(TMemory memory, PeerLoss peerLoss = PeerLoss.Wait)
        where TPolicy : struct, IWaitPolicy
        where TMemory : struct, ISharedMemory => EndpointFactory.CreateWriter<TPolicy, TMemory>(this, memory, peerLoss);

    /// <summary>A consumer end over the given memory operations: the segment's own buffer, or a test's instrumented view of it.</summary>
    internal RingReader CreateReader<TPolicy, TMemory>(TMemory memory, PeerLoss peerLoss = PeerLoss.Wait, SubscribeFrom from = SubscribeFrom.Tail)
        where TPolicy : struct, IWaitPolicy
        where TMemory : struct, ISharedMemory => EndpointFactory.CreateReader<TPolicy, TMemory>(this, memory, peerLoss, from);

    /// <summary>
    /// MPMC: frees at once every slot whose consumer died holding it (counted in
    /// <see cref="SegmentStatus.LostInDelivery"/>), instead of waiting for a producer to reach it. Producers do
    /// this on their own as they lap the ring; call it when none will, e.g. before auditing a stopped ring.
    /// </summary>
    /// <returns>How many slots were freed; 0 for SPSC, where a dead consumer holds nothing.</returns>
    public int RecoverAbandonedReads()
    {
        ThrowIfUnusable();
        if (Kind != RingKind.Mpmc) return 0;
        using ParticipantLease<SharedBuffer> prober = ParticipantLease<SharedBuffer>.Register(this, RingRole.None, exclusiveRole: false, Buffer);
        return new MpmcRing<SharedBuffer>(this, Buffer).RecoverAbandonedReads(prober);
    }

    /// <summary>A snapshot of the header, counters and participants.</summary>
    public SegmentStatus GetStatus()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return StatusSnapshot.Take(this, Posix.Stat(_file, Path), ReadParticipants());
    }

    /// <summary>
    /// Detaches: disposes every writer and reader created from the segment and still open (a call blocked in
    /// one of them ends with <see cref="ObjectDisposedException"/>), leaves the participant table, and unmaps
    /// once the last call inside those endpoints has left. Idempotent and thread-safe.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        RingMetrics.Untrack(this); // first: once it returns no metrics callback reads the mapping or the file
        IDisposable[] endpoints;
        lock (_endpoints) endpoints = [.. _endpoints];
        foreach (IDisposable endpoint in endpoints) endpoint.Dispose();
        _attachment?.Dispose();
        _file.Dispose();
        _mapping.Dispose(); // unmaps when the last endpoint releases its reference
    }

    /// <summary>Takes a reference on the mapping for an endpoint, so detaching the segment cannot unmap under it.</summary>
    internal void AddMappingReference()
    {
        bool added = false;
        _mapping.DangerousAddRef(ref added);
    }

    internal void ReleaseMappingReference() => _mapping.DangerousRelease();

    /// <summary>
    /// Logs a corruption an endpoint is about to throw, once per segment: a corrupted ring stays corrupted, and
    /// every later call that trips over it would log the same thing again.
    /// </summary>
    internal void LogCorruption(RingCorruptionRule rule, string detail)
    {
        if (Logger is null || Interlocked.Exchange(ref _corruptionLogged, 1) != 0) return;
        Logger.Corrupted(Name, rule, detail);
    }

    /// <summary>Forgets a disposed endpoint, so a long-lived segment does not collect them.</summary>
    internal void Untrack(IDisposable endpoint)
    {
        lock (_endpoints) _endpoints.Remove(endpoint);
    }

    /// <summary>Remembers a new endpoint for <see cref="Dispose"/>; one created while the segment was disposed is disposed at once.</summary>
    internal TEndpoint Track<TEndpoint>(TEndpoint endpoint) where TEndpoint : IDisposable
    {
        lock (_endpoints)
        {
            // Under the lock: either Dispose's snapshot includes the endpoint, or this sees its flag.
            if (Volatile.Read(ref _disposed) == 0)
            {
                _endpoints.Add(endpoint);
                return endpoint;
            }
        }
        endpoint.Dispose();
        throw new ObjectDisposedException(nameof(RingSegment));
    }

    internal void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (IsReadOnly) throw new InvalidOperationException($"segment '{Name}' is attached read-only: it can be watched, not written or read.");
    }

    private static RingSegment? TryCreate(string name, string path, RingOptions options, RingOpenOptions openOptions, ILoggerFactory? loggerFactory) =>
        SegmentFiles.TryCreate(path, options, openOptions) is { } created ? new RingSegment(name, path, created, readOnly: false, loggerFactory) : null;

    private static RingSegment OpenExisting(string name, RingOpenOptions openOptions, bool readOnly)
    {
        ArgumentNullException.ThrowIfNull(openOptions);
        string path = SegmentDirectory.Resolve(name);
        using TrustedDirectory directory = SegmentFiles.OpenDirectory(name, path, openOptions);
        RingSegment segment = OpenExisting(name, path, directory, readOnly, openOptions.LoggerFactory);
        segment.RequireMessageType(openOptions.MessageType);
        return segment;
    }

    /// <summary>Detaches and throws unless the segment is pinned to <paramref name="wanted"/>; no requirement when it is none.</summary>
    private void RequireMessageType(MessageType wanted)
    {
        if (wanted.IsNone || wanted.Matches(_header.MessageSize, _header.MessageTag)) return;
        Dispose();
        throw RingThrow.PinnedTypeMismatch(wanted, _header.MessageSize, _header.MessageTag, $"the opener of segment '{Path}'");
    }

    private static RingSegment OpenExisting(string name, string path, TrustedDirectory directory, bool readOnly, ILoggerFactory? loggerFactory)
    {
        MappedSegmentFile mapped = SegmentFiles.Open(name, path, directory, readOnly);
        try
        {
            return new RingSegment(name, path, mapped, readOnly, loggerFactory);
        }
        catch
        {
            mapped.Dispose();
            throw;
        }
    }

    private void CheckMatches(RingOptions options)
    {
        // Name what the caller set: an SPSC ring's max message follows from its capacity by default, an MPMC
        // ring's capacity from its slots and payload, so the derived field is compared last.
        string? field =
            _header.Kind != options.Kind ? $"Kind: existing {_header.Kind}, asked for {options.Kind}"
            : _header.SlotCount != options.EffectiveSlotCount ? $"SlotCount: existing {_header.SlotCount}, asked for {options.EffectiveSlotCount}"
            : Kind != RingKind.Mpmc && _header.Capacity != options.EffectiveCapacity ? $"Capacity: existing {_header.Capacity}, asked for {options.EffectiveCapacity}"
            : _header.Overflow != options.EffectiveOverflow ? $"Overflow: existing {(BroadcastOverflow)_header.Overflow}, asked for {options.Overflow}"
            : _header.MaxMessageLength != options.EffectiveMaxMessageLength ? $"MaxMessageLength: existing {_header.MaxMessageLength}, asked for {options.EffectiveMaxMessageLength}"
            : _header.Capacity != options.EffectiveCapacity ? $"Capacity: existing {_header.Capacity}, asked for {options.EffectiveCapacity}"
            : null;
        if (field is null)
        {
            if (!options.MessageType.Matches(_header.MessageSize, _header.MessageTag))
            {
                Dispose();
                throw options.MessageType.IsNone
                    ? new RingMessageTypeException(0, _header.MessageSize, $"segment '{Path}' exists pinned to a message type of {_header.MessageSize} bytes, asked for a ring of bytes.")
                    : RingThrow.PinnedTypeMismatch(options.MessageType, _header.MessageSize, _header.MessageTag, $"OpenOrCreate of segment '{Path}'");
            }
            return;
        }
        Dispose();
        throw new SegmentFormatException(field[..field.IndexOf(':')], $"segment '{Path}' exists with other options: {field}.");
    }

    /// <summary>The participant table, with liveness queried through a fresh descriptor (one of ours holds our own locks).</summary>
    internal List<ParticipantStatus> ReadParticipants()
    {
        using FileDescriptorHandle probe = ReopenFile(LibC.O_RDONLY);
        return ParticipantTable.Read(Buffer, probe, Kind == RingKind.Broadcast ? Capacity : 0);
    }

    /// <summary>True when this attachment is the only live participant (a reset must not pull the file from under anyone).</summary>
    private bool IsOnlyParticipant() =>
        ReadParticipants().TrueForAll(p => !p.IsAlive || p.Index == _attachment?.Index);
}
