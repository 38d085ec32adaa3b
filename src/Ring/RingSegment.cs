using Ring.Platform.Linux;
using Ring.Mpmc;
using Ring.Spsc;

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
    private readonly ParticipantLease? _attachment;
    private readonly List<IDisposable> _endpoints = []; // the writers and readers to dispose with the segment
    private int _disposed;

    private RingSegment(string name, string path, FileDescriptorHandle file, MappingHandle mapping, SegmentHeader header, bool readOnly)
    {
        Name = name;
        Path = path;
        _file = file;
        _mapping = mapping;
        _header = header;
        IsReadOnly = readOnly;
        Buffer = new SharedBuffer(mapping.DangerousGetHandle(), mapping.Length);
        WasStale = IsStale(ReadParticipants());
        _attachment = readOnly ? null : ParticipantLease.Register(this, RingRole.None, exclusiveRole: false);
    }

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

    /// <summary>MPMC: the number of slots; 0 for SPSC.</summary>
    public int SlotCount => _header.SlotCount;

    /// <summary>The largest payload one message may carry (for MPMC, the slot's payload size).</summary>
    public int MaxMessageLength => _header.MaxMessageLength;

    /// <summary>
    /// True when, at open, the segment had participants recorded and none of them alive: every process
    /// that used it died without detaching. Its messages are still there for a new consumer.
    /// </summary>
    public bool WasStale { get; }

    internal int SlotStride => _header.SlotStride;

    internal SharedBuffer Buffer { get; }

    internal SegmentHeader Header => _header;

    internal FileDescriptorHandle ReopenFile(int flags) => Posix.Reopen(_file, flags, Path);

    /// <summary>Creates a new segment; fails with <see cref="SegmentExistsException"/> if the name is taken.</summary>
    /// <exception cref="SegmentAccessException">The directory belongs to another user, or others can write it.</exception>
    public static RingSegment Create(string name, RingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        string path = SegmentDirectory.Resolve(name);
        return TryCreate(name, path, options, RingOpenOptions.Default) ?? throw new SegmentExistsException($"segment '{name}' already exists at '{path}'");
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
        while (true)
        {
            try
            {
                using TrustedDirectory directory = OpenDirectory(name, path, openOptions);
                RingSegment existing = OpenExisting(name, path, directory, readOnly: false);
                if (existing.WasStale && options.ResetStale && existing.IsOnlyParticipant())
                {
                    ulong staleInode = Posix.Stat(existing._file, path).Inode;
                    existing.Dispose();
                    directory.UnlinkIfSameFile(System.IO.Path.GetFileName(path), staleInode);
                    continue;
                }
                existing.CheckMatches(options);
                return existing;
            }
            catch (SegmentNotFoundException)
            {
            }
            RingSegment? created = TryCreate(name, path, options, openOptions);
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
        string path = SegmentDirectory.Resolve(name);
        string fileName = System.IO.Path.GetFileName(path);
        try
        {
            using TrustedDirectory directory = OpenDirectory(name, path, openOptions);
            using FileDescriptorHandle file = directory.OpenFile(fileName, LibC.O_RDONLY, out Posix.FileInfo info);
            ulong magic = SegmentHeader.ReadMagic(file, path);
            if (magic != SegmentLayout.Magic)
                throw new SegmentFormatException("Magic", $"'{path}' is not a Ring segment: Magic: 0x{magic:X16}; it is left where it is.");
            return directory.UnlinkIfSameFile(fileName, info.Inode);
        }
        catch (SegmentNotFoundException)
        {
            return false;
        }
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
            using TrustedDirectory directory = OpenDirectory(name, path, openOptions);
            ulong inode;
            using (RingSegment monitor = OpenExisting(name, path, directory, readOnly: true))
            {
                if (!monitor.WasStale) return false;
                inode = Posix.Stat(monitor._file, path).Inode;
            }
            return directory.UnlinkIfSameFile(System.IO.Path.GetFileName(path), inode);
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

    /// <summary>The directory unqualified names resolve in (RING_DIR, or /dev/shm/ring-&lt;uid&gt;).</summary>
    public static string DefaultDirectory => SegmentDirectory.Current;

    /// <summary>Attaches a producer end. An SPSC ring allows one live producer, an MPMC ring any number.</summary>
    /// <exception cref="RingRoleTakenException">SPSC: a live process already holds the producer role.</exception>
    public RingWriter CreateWriter(WaitStrategy wait = WaitStrategy.SpinThenBlock)
    {
        ThrowIfUnusable();
        ValidateWait(wait);
        return wait switch
        {
            WaitStrategy.BusySpin => CreateWriter<BusySpinPolicy, SharedBuffer>(Buffer),
            WaitStrategy.SpinThenYield => CreateWriter<SpinThenYieldPolicy, SharedBuffer>(Buffer),
            WaitStrategy.Block => CreateWriter<BlockPolicy, SharedBuffer>(Buffer),
            _ => CreateWriter<SpinThenBlockPolicy, SharedBuffer>(Buffer),
        };
    }

    /// <summary>A producer end over the given memory operations: the segment's own buffer, or a test's instrumented view of it.</summary>
    internal RingWriter CreateWriter<TPolicy, TMemory>(TMemory memory)
        where TPolicy : struct, IWaitPolicy
        where TMemory : struct, ISharedMemory
    {
        ThrowIfUnusable();
        ParticipantLease lease = ParticipantLease.Register(this, RingRole.Producer, exclusiveRole: Kind == RingKind.Spsc);
        try
        {
            return Track<RingWriter>(Kind == RingKind.Spsc
                ? new SpscWriter<TPolicy, TMemory>(this, lease, memory)
                : new MpmcWriter<TPolicy, TMemory>(this, lease, memory));
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>Attaches a consumer end. An SPSC ring allows one live consumer, an MPMC ring any number.</summary>
    /// <exception cref="RingRoleTakenException">SPSC: a live process already holds the consumer role.</exception>
    public RingReader CreateReader(WaitStrategy wait = WaitStrategy.SpinThenBlock)
    {
        ThrowIfUnusable();
        ValidateWait(wait);
        return wait switch
        {
            WaitStrategy.BusySpin => CreateReader<BusySpinPolicy, SharedBuffer>(Buffer),
            WaitStrategy.SpinThenYield => CreateReader<SpinThenYieldPolicy, SharedBuffer>(Buffer),
            WaitStrategy.Block => CreateReader<BlockPolicy, SharedBuffer>(Buffer),
            _ => CreateReader<SpinThenBlockPolicy, SharedBuffer>(Buffer),
        };
    }

    /// <summary>A consumer end over the given memory operations: the segment's own buffer, or a test's instrumented view of it.</summary>
    internal RingReader CreateReader<TPolicy, TMemory>(TMemory memory)
        where TPolicy : struct, IWaitPolicy
        where TMemory : struct, ISharedMemory
    {
        ThrowIfUnusable();
        ParticipantLease lease = ParticipantLease.Register(this, RingRole.Consumer, exclusiveRole: Kind == RingKind.Spsc);
        try
        {
            return Track<RingReader>(Kind == RingKind.Spsc
                ? new SpscReader<TPolicy, TMemory>(this, lease, memory)
                : new MpmcReader<TPolicy, TMemory>(this, lease, memory));
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

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
        using ParticipantLease prober = ParticipantLease.Register(this, RingRole.None, exclusiveRole: false);
        return new MpmcRing<SharedBuffer>(this, Buffer).RecoverAbandonedReads(this, prober);
    }

    /// <summary>A snapshot of the header, counters and participants.</summary>
    public SegmentStatus GetStatus()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Posix.FileInfo file = Posix.Stat(_file, Path);
        SharedBuffer b = Buffer;
        // Monitoring reads: each acquire pairs with its writer's store, but the fields are read a moment apart.
        long head = b.ReadInt64Acquire(SegmentLayout.HeadOffset);
        long tail = b.ReadInt64Acquire(SegmentLayout.TailOffset);
        List<ParticipantStatus> participants = ReadParticipants();
        long Total(int headerOffset, int entryOffset)
        {
            long sum = b.ReadInt64Acquire(headerOffset);
            foreach (ParticipantStatus p in participants) sum += b.ReadInt64Acquire(SegmentLayout.ParticipantEntryOffset(p.Index) + entryOffset);
            return sum;
        }
        long messagesWritten = Total(SegmentLayout.MessagesWrittenOffset, SegmentLayout.EntryMessagesWrittenOffset);
        long messagesRead = Total(SegmentLayout.MessagesReadOffset, SegmentLayout.EntryMessagesReadOffset);
        bool mpmc = _header.Kind == RingKind.Mpmc;
        // Positions count bytes in an SPSC ring and slots in an MPMC ring.
        long inRing = Math.Clamp(tail - head, 0, mpmc ? _header.SlotCount : _header.Capacity);
        EventCount<SharedBuffer> readers = new(b, SegmentLayout.ReadersEventOffset);
        EventCount<SharedBuffer> writers = new(b, SegmentLayout.WritersEventOffset);
        return new SegmentStatus
        {
            Name = Name,
            Path = Path,
            Kind = _header.Kind,
            FileLength = _header.FileLength,
            Capacity = _header.Capacity,
            SlotCount = _header.SlotCount,
            MaxMessageLength = _header.MaxMessageLength,
            BytesInRing = mpmc ? inRing * _header.SlotStride : inRing,
            // SPSC counts can drift by one per producer or consumer killed between counting and publishing;
            // an empty ring (head = tail) is still reported as empty.
            MessagesInRing = mpmc ? inRing : inRing == 0 ? 0 : Math.Max(1, messagesWritten - messagesRead),
            CreatorPid = _header.CreatorPid,
            OwnerUid = file.OwnerUid,
            Mode = file.Mode & (UnixFileMode)0x1FF,
            CreatedAt = FromUnixNs(_header.CreatedNs) ?? DateTimeOffset.UnixEpoch,
            LastAttachAt = FromUnixNs(b.ReadInt64Acquire(SegmentLayout.LastAttachNsOffset)),
            LastDetachAt = FromUnixNs(b.ReadInt64Acquire(SegmentLayout.LastDetachNsOffset)),
            Participants = participants,
            IsStale = IsStale(participants),
            ReadersWaiting = readers.Waiters,
            WritersWaiting = writers.Waiters,
            MessagesWritten = messagesWritten,
            BytesWritten = Total(SegmentLayout.BytesWrittenOffset, SegmentLayout.EntryBytesWrittenOffset),
            MessagesRead = messagesRead,
            BytesRead = Total(SegmentLayout.BytesReadOffset, SegmentLayout.EntryBytesReadOffset),
            FullEvents = Total(SegmentLayout.FullEventsOffset, SegmentLayout.EntryFullEventsOffset),
            EmptyEvents = Total(SegmentLayout.EmptyEventsOffset, SegmentLayout.EntryEmptyEventsOffset),
            Sleeps = readers.Sleeps + writers.Sleeps,
            Wakes = readers.Wakes + writers.Wakes,
            Recoveries = b.ReadInt64Acquire(SegmentLayout.RecoveriesOffset),
            LostInDelivery = b.ReadInt64Acquire(SegmentLayout.LostInDeliveryOffset),
        };
    }

    /// <summary>
    /// Detaches: disposes every writer and reader created from the segment and still open (a call blocked in
    /// one of them ends with <see cref="ObjectDisposedException"/>), leaves the participant table, and unmaps
    /// once the last call inside those endpoints has left. Idempotent and thread-safe.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
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

    /// <summary>Forgets a disposed endpoint, so a long-lived segment does not collect them.</summary>
    internal void Untrack(IDisposable endpoint)
    {
        lock (_endpoints) _endpoints.Remove(endpoint);
    }

    /// <summary>Remembers a new endpoint for <see cref="Dispose"/>; one created while the segment was disposed is disposed at once.</summary>
    private TEndpoint Track<TEndpoint>(TEndpoint endpoint) where TEndpoint : IDisposable
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

    /// <summary>Counts a recovery from a dead participant; one that dropped a message in delivery counts twice.</summary>
    internal void CountRecovery(bool lostInDelivery)
    {
        Buffer.FetchAddInt64(SegmentLayout.RecoveriesOffset, 1);
        if (lostInDelivery) Buffer.FetchAddInt64(SegmentLayout.LostInDeliveryOffset, 1);
    }

    internal static long UnixNsNow() => (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;

    private static DateTimeOffset? FromUnixNs(long ns) => ns <= 0 ? null : DateTimeOffset.UnixEpoch.AddTicks(ns / 100);

    private static void ValidateWait(WaitStrategy wait)
    {
        if (!Enum.IsDefined(wait)) throw new ArgumentOutOfRangeException(nameof(wait), wait, "Unknown wait strategy.");
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (IsReadOnly) throw new InvalidOperationException($"segment '{Name}' is attached read-only: it can be watched, not written or read.");
    }

    private static RingSegment? TryCreate(string name, string path, RingOptions options, RingOpenOptions openOptions)
    {
        using TrustedDirectory directory = TrustedDirectory.OpenOrCreate(System.IO.Path.GetDirectoryName(path)!, openOptions);
        // Build the segment under a private name and link it into place: the name appears only once the
        // header is complete, so no opener can see a half-initialised segment, and link fails rather than
        // replacing a segment another process published first.
        string fileName = System.IO.Path.GetFileName(path);
        string stagingName = $".{fileName}.{Environment.ProcessId}.{Guid.NewGuid():N}.creating";
        string staging = directory.PathOf(stagingName);
        FileDescriptorHandle file = directory.CreateFile(stagingName, options.Mode);
        MappingHandle? mapping = null;
        try
        {
            Posix.SetMode(file, options.Mode, staging); // the umask must not narrow what the creator asked for
            long length = SegmentLayout.FileLengthFor(options.EffectiveCapacity);
            Posix.Allocate(file, length, path);
            mapping = Posix.Map(file, length, writable: true, staging);
            SegmentHeader header = new(
                options.Kind,
                options.EffectiveCapacity,
                options.EffectiveMaxMessageLength,
                length,
                Environment.ProcessId,
                Posix.EffectiveUid,
                UnixNsNow(),
                options.Mode,
                (int)options.EffectiveSlotCount,
                options.SlotStride);
            SharedBuffer buffer = new(mapping.DangerousGetHandle(), length);
            if (options.Kind == RingKind.Mpmc) MpmcProtocol.InitialiseSlots(buffer, (int)options.EffectiveSlotCount, options.SlotStride);
            header.WriteTo(buffer); // publishes: last
            if (!directory.TryLink(stagingName, fileName))
            {
                mapping.Dispose();
                file.Dispose();
                return null;
            }
            return new RingSegment(name, path, file, mapping, header, readOnly: false);
        }
        catch
        {
            mapping?.Dispose();
            file.Dispose();
            throw;
        }
        finally
        {
            directory.UnlinkIfPresent(stagingName);
        }
    }

    /// <summary>
    /// <c>ring gc</c>: removes a staging file a create left behind, and only one that is certainly that: a regular
    /// file of the caller's own (a trusted owner's is not enough), whose creator is dead, holding a header in
    /// progress: empty (the creator died before sizing it), or sized, with the magic still zero or already Ring's
    /// (died before linking). Anything else stays, with a typed error saying why. With checkOnly it judges and
    /// removes nothing.
    /// </summary>
    /// <returns>False when it was gone already.</returns>
    internal static bool UnlinkAbandonedStaging(string path, int creatorPid, RingOpenOptions openOptions, bool checkOnly)
    {
        string fileName = System.IO.Path.GetFileName(path);
        try
        {
            using TrustedDirectory directory = TrustedDirectory.Open(System.IO.Path.GetDirectoryName(path)!, openOptions);
            using FileDescriptorHandle file = directory.OpenFile(fileName, LibC.O_RDONLY, out Posix.FileInfo info, callersOnly: true);
            if (Posix.ProcessExists(creatorPid))
                throw new RingException($"staging file '{path}': its creator, pid {creatorPid}, is still running");
            ulong magic = info.Length < SegmentLayout.HeaderLength ? 0 : SegmentHeader.ReadMagic(file, path);
            string? notAHeader = info.Length is > 0 and < SegmentLayout.HeaderLength ? $"{info.Length} bytes, neither empty nor a whole header"
                : magic is not (0 or SegmentLayout.Magic) ? $"magic 0x{magic:X16}"
                : null;
            if (notAHeader is not null)
                throw new SegmentFormatException("Magic", $"staging file '{path}' does not hold a Ring header in progress: {notAHeader}");
            return checkOnly || directory.UnlinkIfSameFile(fileName, info.Inode);
        }
        catch (SegmentNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Opens the directory of <paramref name="path"/>; a missing one means there is no such segment.</summary>
    private static TrustedDirectory OpenDirectory(string name, string path, RingOpenOptions openOptions)
    {
        try
        {
            return TrustedDirectory.Open(System.IO.Path.GetDirectoryName(path)!, openOptions);
        }
        catch (SegmentNotFoundException)
        {
            throw NotFound(name, path);
        }
    }

    private static SegmentNotFoundException NotFound(string name, string path) => new($"no segment '{name}' at '{path}'");

    private static RingSegment OpenExisting(string name, RingOpenOptions openOptions, bool readOnly)
    {
        ArgumentNullException.ThrowIfNull(openOptions);
        string path = SegmentDirectory.Resolve(name);
        using TrustedDirectory directory = OpenDirectory(name, path, openOptions);
        return OpenExisting(name, path, directory, readOnly);
    }

    private static RingSegment OpenExisting(string name, string path, TrustedDirectory directory, bool readOnly)
    {
        FileDescriptorHandle file;
        Posix.FileInfo info;
        try
        {
            file = directory.OpenFile(System.IO.Path.GetFileName(path), readOnly ? LibC.O_RDONLY : LibC.O_RDWR, out info);
        }
        catch (SegmentNotFoundException)
        {
            throw NotFound(name, path);
        }
        MappingHandle? mapping = null;
        try
        {
            if (info.Length < SegmentLayout.HeaderLength) throw SegmentHeader.TooShort(file, info.Length, path);
            // Map exactly the length seen now; the header must then fit inside it. Nothing read later can
            // index past this mapping.
            mapping = Posix.Map(file, info.Length, writable: !readOnly, path);
            SegmentHeader header = SegmentHeader.ReadFrom(new SharedBuffer(mapping.DangerousGetHandle(), info.Length), info.Length, path);
            return new RingSegment(name, path, file, mapping, header, readOnly);
        }
        catch
        {
            mapping?.Dispose();
            file.Dispose();
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
            : Kind == RingKind.Spsc && _header.Capacity != options.EffectiveCapacity ? $"Capacity: existing {_header.Capacity}, asked for {options.EffectiveCapacity}"
            : _header.MaxMessageLength != options.EffectiveMaxMessageLength ? $"MaxMessageLength: existing {_header.MaxMessageLength}, asked for {options.EffectiveMaxMessageLength}"
            : _header.Capacity != options.EffectiveCapacity ? $"Capacity: existing {_header.Capacity}, asked for {options.EffectiveCapacity}"
            : null;
        if (field is null) return;
        Dispose();
        throw new SegmentFormatException(field[..field.IndexOf(':')], $"segment '{Path}' exists with other options: {field}.");
    }

    /// <summary>
    /// Every entry in use, with liveness from the kernel: a query through a fresh descriptor (one of our own
    /// would not report our own locks as held).
    /// </summary>
    private List<ParticipantStatus> ReadParticipants()
    {
        using FileDescriptorHandle probe = ReopenFile(LibC.O_RDONLY);
        List<ParticipantStatus> participants = [];
        for (int index = 0; index < SegmentLayout.ParticipantCapacity; index++)
        {
            long entry = SegmentLayout.ParticipantEntryOffset(index);
            if (Buffer.ReadInt32Acquire(entry + SegmentLayout.EntryStateOffset) == 0) continue; // pairs with ParticipantLease.Register's release
            participants.Add(new ParticipantStatus(
                Buffer.ReadInt32(entry + SegmentLayout.EntryPidOffset),
                (RingRole)(Buffer.ReadInt32(entry + SegmentLayout.EntryRolesOffset) & (int)(RingRole.Producer | RingRole.Consumer)),
                FromUnixNs(Buffer.ReadInt64(entry + SegmentLayout.EntryAttachNsOffset)) ?? DateTimeOffset.UnixEpoch,
                Posix.IsByteLocked(probe, entry))
            {
                Index = index,
            });
        }
        return participants;
    }

    private static bool IsStale(List<ParticipantStatus> participants) =>
        participants.Count > 0 && participants.TrueForAll(p => !p.IsAlive);

    /// <summary>True when this attachment is the only live participant (a reset must not pull the file from under anyone).</summary>
    private bool IsOnlyParticipant() =>
        ReadParticipants().TrueForAll(p => !p.IsAlive || p.Index == _attachment?.Index);
}
