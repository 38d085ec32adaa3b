using System.Diagnostics;

namespace Ring;

/// <summary>
/// An endpoint's watch on the other end under <see cref="PeerLoss.Complete"/>: once a peer has attached (the
/// segment's attachment counter for that role is non-zero) and none is alive any more, the peer is lost. A successor
/// that attaches later ends the loss at the next look, so the endpoint goes on with it. Looking costs a scan of the
/// participant table with a lock query per peer, so it is done at most every <see cref="Interval"/>, and only on
/// the slow path (an empty ring for a reader, a full one for a writer). A look that finds the peers lost when the
/// last one did not is logged to the segment's logger: once per loss, however many calls see it.
/// </summary>
internal struct PeerWatch(PeerLoss mode, RingRole peer, RingSegment segment)
{
    /// <summary>
    /// Together with a sleeper's bounded sleep (<see cref="SleepLimit"/>) this is how soon a death is noticed: a
    /// clean detach wakes the sleepers at once, a death is seen at the next look.
    /// </summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    /// <summary>Longest sleep of an endpoint that watches its peers, so a death is seen within ~250 ms.</summary>
    public static readonly TimeSpan SleepLimit = TimeSpan.FromMilliseconds(100);

    private long _lastLook;

    public readonly bool IsWatching => mode == PeerLoss.Complete;

    /// <summary>Why the peers are lost, as the last look found; null while they are not.</summary>
    public string? Reason { get; private set; }

    /// <summary>Whether every peer is gone; looks again only when the last look is <see cref="Interval"/> old, else repeats it.</summary>
    public bool CheckLost<TMemory>(TMemory memory, ParticipantLease<TMemory> lease) where TMemory : struct, ISharedMemory
    {
        if (mode != PeerLoss.Complete) return false;
        long now = memory.GetTimestamp();
        if (_lastLook != 0 && Stopwatch.GetElapsedTime(_lastLook, now) < Interval) return Reason is not null;
        _lastLook = now;
        string? reason = Look(memory, lease);
        if (reason is not null && Reason is null) segment.Logger?.PeerLost(segment.Name, peer == RingRole.Producer ? "reader" : "writer", reason);
        Reason = reason;
        return reason is not null;
    }

    private readonly string? Look<TMemory>(TMemory memory, ParticipantLease<TMemory> lease) where TMemory : struct, ISharedMemory
    {
        int attachmentsOffset = peer == RingRole.Producer ? SegmentLayout.ProducerAttachmentsOffset : SegmentLayout.ConsumerAttachmentsOffset;
        if (memory.ReadInt64Acquire(attachmentsOffset) <= 0) return null; // pairs with the attach's atomic add: no peer was ever here
        if (lease.LiveParticipants(peer, out int deadPid) > 0) return null;
        string who = peer == RingRole.Producer ? "producer" : "consumer";
        return deadPid != 0 ? $"every {who} is gone: pid {deadPid} died" : $"every {who} is gone: the last one detached";
    }

    /// <summary>The reason for an end this watch reported; a look that found the peers back (a race) still says what it saw.</summary>
    public readonly string ReasonOrGone => Reason ?? $"every {(peer == RingRole.Producer ? "producer" : "consumer")} was gone";

    public readonly TimeSpan LimitSleep(TimeSpan limit) => IsWatching && limit > SleepLimit ? SleepLimit : limit;
}
