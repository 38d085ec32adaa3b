using Ring.Broadcast;
using Ring.Mpmc;
using Ring.Spsc;

namespace Ring;

/// <summary>
/// Builds writers and readers: the wait strategy becomes a policy type argument (so the JIT compiles one wait
/// loop per strategy with the choice folded in), the ring kind picks the protocol, and the endpoint gets its
/// participant lease and is remembered by the segment.
/// </summary>
internal static class EndpointFactory
{
    public static RingWriter CreateWriter(RingSegment segment, WaitStrategy wait, PeerLoss peerLoss) => wait switch
    {
        WaitStrategy.BusySpin => CreateWriter<BusySpinPolicy, SharedBuffer>(segment, segment.Buffer, peerLoss),
        WaitStrategy.SpinThenYield => CreateWriter<SpinThenYieldPolicy, SharedBuffer>(segment, segment.Buffer, peerLoss),
        WaitStrategy.SpinThenBlock => CreateWriter<SpinThenBlockPolicy, SharedBuffer>(segment, segment.Buffer, peerLoss),
        WaitStrategy.Block => CreateWriter<BlockPolicy, SharedBuffer>(segment, segment.Buffer, peerLoss),
        _ => throw UnknownStrategy(wait),
    };

    public static RingReader CreateReader(RingSegment segment, WaitStrategy wait, PeerLoss peerLoss, SubscribeFrom from = SubscribeFrom.Tail) => wait switch
    {
        WaitStrategy.BusySpin => CreateReader<BusySpinPolicy, SharedBuffer>(segment, segment.Buffer, peerLoss, from),
        WaitStrategy.SpinThenYield => CreateReader<SpinThenYieldPolicy, SharedBuffer>(segment, segment.Buffer, peerLoss, from),
        WaitStrategy.SpinThenBlock => CreateReader<SpinThenBlockPolicy, SharedBuffer>(segment, segment.Buffer, peerLoss, from),
        WaitStrategy.Block => CreateReader<BlockPolicy, SharedBuffer>(segment, segment.Buffer, peerLoss, from),
        _ => throw UnknownStrategy(wait),
    };

    /// <summary>A producer end over the given memory operations: the segment's own buffer, or a test's instrumented view of it.</summary>
    public static RingWriter CreateWriter<TPolicy, TMemory>(RingSegment segment, TMemory memory, PeerLoss peerLoss = PeerLoss.Wait)
        where TPolicy : struct, IWaitPolicy
        where TMemory : struct, ISharedMemory
    {
        ValidatePeerLoss(peerLoss);
        return Attach<RingWriter, TMemory>(segment, RingRole.Producer, memory, (segment, lease, memory) => segment.Kind switch
        {
            RingKind.Spsc => new SpscWriter<TPolicy, TMemory>(segment, lease, memory, peerLoss),
            RingKind.Broadcast => new BroadcastWriter<TPolicy, TMemory>(segment, lease, memory),
            _ => new MpmcWriter<TPolicy, TMemory>(segment, lease, memory, peerLoss),
        });
    }

    /// <summary>
    /// A consumer end over the given memory operations: the segment's own buffer, or a test's instrumented view of it.
    /// <paramref name="from"/> is where a broadcast subscriber starts; the other kinds have one stream to continue.
    /// </summary>
    public static RingReader CreateReader<TPolicy, TMemory>(RingSegment segment, TMemory memory, PeerLoss peerLoss = PeerLoss.Wait, SubscribeFrom from = SubscribeFrom.Tail)
        where TPolicy : struct, IWaitPolicy
        where TMemory : struct, ISharedMemory
    {
        ValidatePeerLoss(peerLoss);
        return Attach<RingReader, TMemory>(segment, RingRole.Consumer, memory, (segment, lease, memory) => segment.Kind switch
        {
            RingKind.Spsc => new SpscReader<TPolicy, TMemory>(segment, lease, memory, peerLoss),
            RingKind.Broadcast => new BroadcastReader<TPolicy, TMemory>(segment, lease, memory, peerLoss, from),
            _ => new MpmcReader<TPolicy, TMemory>(segment, lease, memory, peerLoss),
        });
    }

    private static TEndpoint Attach<TEndpoint, TMemory>(RingSegment segment, RingRole role, TMemory memory, Func<RingSegment, ParticipantLease<TMemory>, TMemory, TEndpoint> create)
        where TEndpoint : IDisposable
        where TMemory : struct, ISharedMemory
    {
        segment.ThrowIfUnusable();
        // An SPSC ring's producer and consumer roles are exclusive, a broadcast ring's producer role too; MPMC takes any number of either.
        bool exclusive = segment.Kind == RingKind.Spsc || (segment.Kind == RingKind.Broadcast && role == RingRole.Producer);
        ParticipantLease<TMemory> lease = ParticipantLease<TMemory>.Register(segment, role, exclusiveRole: exclusive, memory);
        TEndpoint endpoint;
        try
        {
            // Before the endpoint's first publish, fenced: a sleeper that registers and then finds the flag unset is seen
            // by every waiter check this endpoint makes (PublishOrdering).
            if (TMemory.HasStoreBuffer && PublishOrdering.WithoutFence) memory.CompareExchangeInt32(SegmentLayout.MembarrierPublishersOffset, 1, 0);
            endpoint = create(segment, lease, memory);
            // After the lease is held: a peer that sees the count also finds this endpoint alive, until it is not.
            memory.FetchAddInt64(role == RingRole.Producer ? SegmentLayout.ProducerAttachmentsOffset : SegmentLayout.ConsumerAttachmentsOffset, 1);
        }
        catch
        {
            lease.Dispose();
            throw;
        }
        return segment.Track(endpoint); // from here the endpoint owns the lease
    }

    private static ArgumentOutOfRangeException UnknownStrategy(WaitStrategy wait) => new(nameof(wait), wait, "Unknown wait strategy.");

    private static void ValidatePeerLoss(PeerLoss peerLoss)
    {
        if (!Enum.IsDefined(peerLoss)) throw new ArgumentOutOfRangeException(nameof(peerLoss), peerLoss, "Unknown peer-loss rule.");
    }
}
