namespace Ring.Tests;

/// <summary>
/// Small rings of either kind in a private directory, for tests of the API layered over the ring (channels, async
/// enumeration) that need a ring to fill quickly but not its exact layout.
/// </summary>
public sealed class SmallRings : IDisposable
{
    private readonly TempSegmentDirectory _segments = new();

    /// <summary>A new ring of 1 KiB of records (SPSC) or 16 slots (MPMC) whose largest message is <paramref name="maxMessageLength"/> bytes.</summary>
    public RingSegment Create(RingKind kind, int maxMessageLength = 64) => RingSegment.Create(_segments.NewName(kind.ToString()), kind == RingKind.Spsc
        ? new RingOptions { Kind = kind, Capacity = 1024, MaxMessageLength = maxMessageLength }
        : new RingOptions { Kind = kind, SlotCount = 16, MaxMessageLength = maxMessageLength });

    public void Dispose() => _segments.Dispose();
}
