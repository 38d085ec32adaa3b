using System.Diagnostics;

namespace Ring;

/// <summary>
/// An endpoint's watch on the other end under <see cref="PeerLoss.Complete"/>: once a peer has attached (the
/// segment's attachment counter for that role is non-zero) and none is alive any more, the peer is lost, for good.
/// Looking costs a scan of the participant table with a lock query per peer, so it is done at most every
/// <see cref="Interval"/>, and only on the slow path (an empty ring for a reader, a full one for a writer).
/// </summary>
internal struct PeerWatch(PeerLoss mode, RingRole peer)
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

    /// <summary>Why the peer is lost, once it is; null until then.</summary>
    public string? Reason { get; private set; }

    public readonly bool IsLost => Reason is not null;

    /// <summary>True once every peer is gone; looks again only when the last look is <see cref="Interval"/> old.</summary>
    public bool CheckLost<TMemory>(TMemory memory, ParticipantLease<TMemory> lease) where TMemory : struct, ISharedMemory
    {
        if (mode != PeerLoss.Complete) return false;
        if (Reason is not null) return true;
        long now = memory.GetTimestamp();
        if (_lastLook != 0 && Stopwatch.GetElapsedTime(_lastLook, now) < Interval) return false;
        _lastLook = now;
        int attachmentsOffset = peer == RingRole.Producer ? SegmentLayout.ProducerAttachmentsOffset : SegmentLayout.ConsumerAttachmentsOffset;
        if (memory.ReadInt64Acquire(attachmentsOffset) <= 0) return false; // pairs with the attach's atomic add: no peer was ever here
        if (lease.LiveParticipants(peer, out int deadPid) > 0) return false;
        string who = peer == RingRole.Producer ? "producer" : "consumer";
        Reason = deadPid != 0 ? $"every {who} is gone: pid {deadPid} died" : $"every {who} is gone: the last one detached";
        return true;
    }

    public readonly TimeSpan LimitSleep(TimeSpan limit) => IsWatching && limit > SleepLimit ? SleepLimit : limit;
}
