namespace Ring;

/// <summary>The ring implementation a segment holds.</summary>
public enum RingKind
{
    /// <summary>One producer process, one consumer process, variable-length records.</summary>
    Spsc = 1,
}

/// <summary>The roles a process can hold on a ring; an attachment may hold both.</summary>
[Flags]
public enum RingRole
{
    /// <summary>Attached, neither writing nor reading.</summary>
    None = 0,

    /// <summary>Writes messages.</summary>
    Producer = 1,

    /// <summary>Reads messages.</summary>
    Consumer = 2,
}

/// <summary>What a new segment holds; validated by <c>Create</c> and compared by <c>OpenOrCreate</c>.</summary>
public sealed record RingOptions
{
    /// <summary>The ring implementation. Default: <see cref="RingKind.Spsc"/>.</summary>
    public RingKind Kind { get; init; } = RingKind.Spsc;

    /// <summary>Bytes of record space: a power of two from 64 B to 1 TiB. Default: 1 MiB.</summary>
    public long Capacity { get; init; } = 1 << 20;

    /// <summary>Largest payload a message may carry, at most <see cref="Capacity"/>/8; 0 means exactly that.</summary>
    public int MaxMessageLength { get; init; }

    /// <summary>Permission bits of the segment file. Default: 0600.</summary>
    public UnixFileMode Mode { get; init; } = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    internal int EffectiveMaxMessageLength => MaxMessageLength == 0 ? SegmentLayout.MaxMessageLengthFor(Capacity) : MaxMessageLength;

    internal void Validate()
    {
        if (!Enum.IsDefined(Kind))
            throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "Unknown ring kind.");
        if (Capacity < SegmentLayout.MinCapacity || Capacity > SegmentLayout.MaxCapacity || (Capacity & (Capacity - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(Capacity), Capacity,
                $"The capacity must be a power of two from {SegmentLayout.MinCapacity} to {SegmentLayout.MaxCapacity} bytes.");
        if (MaxMessageLength < 0 || MaxMessageLength > SegmentLayout.MaxMessageLengthFor(Capacity))
            throw new ArgumentOutOfRangeException(nameof(MaxMessageLength), MaxMessageLength,
                $"The largest message must be from 0 to capacity/{SegmentLayout.MaxMessageDivisor} = {SegmentLayout.MaxMessageLengthFor(Capacity)} bytes (0 picks that).");
        if (((int)Mode & ~0x1FF) != 0)
            throw new ArgumentOutOfRangeException(nameof(Mode), Mode, "Only permission bits (0777) are allowed.");
        if ((Mode & (UnixFileMode.UserRead | UnixFileMode.UserWrite)) != (UnixFileMode.UserRead | UnixFileMode.UserWrite))
            throw new ArgumentOutOfRangeException(nameof(Mode), Mode, "The owner needs read and write permission (0600 at least).");
    }
}
