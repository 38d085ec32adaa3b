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
    public static RingWriter CreateWriter(RingSegment segment, WaitStrategy wait) => wait switch
    {
        WaitStrategy.BusySpin => CreateWriter<BusySpinPolicy, SharedBuffer>(segment, segment.Buffer),
        WaitStrategy.SpinThenYield => CreateWriter<SpinThenYieldPolicy, SharedBuffer>(segment, segment.Buffer),
        WaitStrategy.SpinThenBlock => CreateWriter<SpinThenBlockPolicy, SharedBuffer>(segment, segment.Buffer),
        WaitStrategy.Block => CreateWriter<BlockPolicy, SharedBuffer>(segment, segment.Buffer),
        _ => throw UnknownStrategy(wait),
    };

    public static RingReader CreateReader(RingSegment segment, WaitStrategy wait) => wait switch
    {
        WaitStrategy.BusySpin => CreateReader<BusySpinPolicy, SharedBuffer>(segment, segment.Buffer),
        WaitStrategy.SpinThenYield => CreateReader<SpinThenYieldPolicy, SharedBuffer>(segment, segment.Buffer),
        WaitStrategy.SpinThenBlock => CreateReader<SpinThenBlockPolicy, SharedBuffer>(segment, segment.Buffer),
        WaitStrategy.Block => CreateReader<BlockPolicy, SharedBuffer>(segment, segment.Buffer),
        _ => throw UnknownStrategy(wait),
    };

    /// <summary>A producer end over the given memory operations: the segment's own buffer, or a test's instrumented view of it.</summary>
    public static RingWriter CreateWriter<TPolicy, TMemory>(RingSegment segment, TMemory memory)
        where TPolicy : struct, IWaitPolicy
        where TMemory : struct, ISharedMemory =>
        Attach<RingWriter, TMemory>(segment, RingRole.Producer, memory, static (segment, lease, memory) => segment.Kind == RingKind.Spsc
            ? new SpscWriter<TPolicy, TMemory>(segment, lease, memory)
            : new MpmcWriter<TPolicy, TMemory>(segment, lease, memory));

    /// <summary>A consumer end over the given memory operations: the segment's own buffer, or a test's instrumented view of it.</summary>
    public static RingReader CreateReader<TPolicy, TMemory>(RingSegment segment, TMemory memory)
        where TPolicy : struct, IWaitPolicy
        where TMemory : struct, ISharedMemory =>
        Attach<RingReader, TMemory>(segment, RingRole.Consumer, memory, static (segment, lease, memory) => segment.Kind == RingKind.Spsc
            ? new SpscReader<TPolicy, TMemory>(segment, lease, memory)
            : new MpmcReader<TPolicy, TMemory>(segment, lease, memory));

    private static TEndpoint Attach<TEndpoint, TMemory>(RingSegment segment, RingRole role, TMemory memory, Func<RingSegment, ParticipantLease<TMemory>, TMemory, TEndpoint> create)
        where TEndpoint : IDisposable
        where TMemory : struct, ISharedMemory
    {
        segment.ThrowIfUnusable();
        // An SPSC ring's producer and consumer roles are exclusive; MPMC takes any number of either.
        ParticipantLease<TMemory> lease = ParticipantLease<TMemory>.Register(segment, role, exclusiveRole: segment.Kind == RingKind.Spsc, memory);
        TEndpoint endpoint;
        try
        {
            endpoint = create(segment, lease, memory);
        }
        catch
        {
            lease.Dispose();
            throw;
        }
        return segment.Track(endpoint); // from here the endpoint owns the lease
    }

    private static ArgumentOutOfRangeException UnknownStrategy(WaitStrategy wait) => new(nameof(wait), wait, "Unknown wait strategy.");
}
