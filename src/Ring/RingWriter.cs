using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Ring.Channels;

namespace Ring;

/// <summary>
/// The producer end of a ring. Non-blocking calls never allocate or enter the kernel; the blocking calls wait
/// with the endpoint's <see cref="WaitStrategy"/>, the async ones through the process's async wait service,
/// holding no thread. An instance is used by one thread at a time (a pending async call counts as a call), except
/// <see cref="Dispose"/>, which any thread may call, also while a call is blocked or pending.
/// </summary>
public abstract class RingWriter : IDisposable
{
    private readonly MessagePin _pin;
    private RingClaim? _claim; // made at the first BeginWrite, reused by every one after

    private protected RingWriter(RingSegment segment) => _pin = MessagePin.Of(segment);

    /// <summary>The longest reason <see cref="TryComplete"/> records, in bytes of UTF-8.</summary>
    public const int MaxCompletionReasonBytes = SegmentLayout.CompletionReasonCapacity;

    /// <summary>The largest payload one message may carry.</summary>
    public abstract int MaxMessageLength { get; }

    /// <summary>True once the ring is completed (by this writer or any other producer): writes throw from then on.</summary>
    public abstract bool IsCompleted { get; }

    /// <summary>
    /// Why writing ended: the completer's reason once the ring is completed (null when it gave none), or (with
    /// <see cref="PeerLoss.Complete"/>) who of the consumers went how once a full ring found them all gone; null before either.
    /// </summary>
    public abstract string? CompletionReason { get; }

    /// <summary>How many consumers are attached and alive now (a scan of the participant table: not for a hot loop).</summary>
    public abstract int ConsumersAlive { get; }

    /// <summary>Copies the message into the ring; false when the ring has no room for it now.</summary>
    /// <exception cref="ArgumentException">The message is longer than <see cref="MaxMessageLength"/>.</exception>
    /// <exception cref="InvalidOperationException">A claim is outstanding.</exception>
    /// <exception cref="RingCompletedException">The ring is completed.</exception>
    public abstract bool TryWrite(ReadOnlySpan<byte> message);

    /// <summary>
    /// Reserves room for a message of <paramref name="length"/> bytes and hands out the span inside the segment
    /// to fill; nothing is visible to readers until <see cref="Commit()"/>. False when the ring is full.
    /// </summary>
    /// <exception cref="RingCompletedException">The ring is completed.</exception>
    public abstract bool TryClaim(int length, out Span<byte> buffer);

    /// <summary>Publishes the claimed message with the length it was claimed with.</summary>
    public abstract void Commit();

    /// <summary>Publishes the first <paramref name="length"/> bytes of the claimed span (at most the claimed length).</summary>
    public abstract void Commit(int length);

    /// <summary>Drops the claim; readers never see it.</summary>
    public abstract void Abort();

    /// <summary>
    /// Waits until a message of <paramref name="length"/> bytes fits (true); false when the timeout passes, the ring
    /// is completed, or (with <see cref="PeerLoss.Complete"/>) the ring is full and every consumer is gone.
    /// </summary>
    public abstract bool WaitToWrite(int length, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// Completes the ring for every process: readers get every message committed before it, then see the end of
    /// the stream; writes throw <see cref="RingCompletedException"/> from then on. MPMC: any producer may complete
    /// the ring, once. Wakes every sleeper of both directions.
    /// </summary>
    /// <param name="reason">Why, for the readers (<see cref="RingReader.CompletionReason"/>): at most <see cref="MaxCompletionReasonBytes"/> bytes of UTF-8; null for none.</param>
    /// <returns>False when the ring was completed already (the first reason recorded stands).</returns>
    /// <exception cref="InvalidOperationException">A claim is outstanding.</exception>
    public abstract bool TryComplete(string? reason = null);

    /// <summary>Completes the ring (see <see cref="TryComplete"/>).</summary>
    /// <exception cref="RingCompletedException">The ring was completed already.</exception>
    public void Complete()
    {
        if (!TryComplete()) throw Ended();
    }

    /// <summary>Completes the ring with a reason its readers see (see <see cref="TryComplete"/>).</summary>
    /// <exception cref="RingCompletedException">The ring was completed already.</exception>
    public void Complete(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        if (!TryComplete(reason)) throw Ended();
    }

    /// <summary>Why writing ended: the completion, or (with <see cref="PeerLoss.Complete"/>) the consumers' loss.</summary>
    internal abstract RingCompletedException Ended();

    /// <summary>The clock the endpoint's waits run on (the ring's memory's clock), so a scheduled test's time is virtual throughout.</summary>
    private protected abstract long GetTimestamp();

    /// <summary>
    /// Releases the producer role and detaches from the segment's mapping; disposing the segment does this too.
    /// A call blocked in this writer on another thread is woken and throws <see cref="ObjectDisposedException"/>
    /// (the task of <see cref="WriteAsync"/> or <c>WaitToWriteAsync</c> faults with it); the mapping stays
    /// until that call has left. An outstanding claim is dropped, and its span must not be used afterwards.
    /// Idempotent and thread-safe.
    /// </summary>
    public abstract void Dispose();

    /// <summary>Writes the message, waiting up to <paramref name="timeout"/> for room; false on timeout.</summary>
    public bool TryWrite(ReadOnlySpan<byte> message, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        WriteOperation write = new(this, message);
        return TimedRetry.Run(ref write, timeout, cancellationToken);
    }

    /// <summary>Writes the message, waiting as long as it takes for room.</summary>
    /// <exception cref="RingCompletedException">The ring is completed; <see cref="RingPeerLostException"/> when, with <see cref="PeerLoss.Complete"/>, it is full and every consumer is gone.</exception>
    public void Write(ReadOnlySpan<byte> message, CancellationToken cancellationToken = default)
    {
        if (!TryWrite(message, Timeout.InfiniteTimeSpan, cancellationToken)) throw Ended();
    }

    /// <summary>
    /// Waits for room for a message of <paramref name="length"/> bytes without holding a thread, as
    /// <c>ChannelWriter.WaitToWriteAsync</c> does: true when it fits now, false when the ring is completed and takes no
    /// more. A chance, not a promise: another MPMC producer may take the room first. Completes synchronously, with no
    /// allocation and no system call, when there is room; otherwise the process's async wait service sleeps on the
    /// ring for it (<see cref="RingSegment.AsyncWaitMechanism"/>), whatever the endpoint's <see cref="WaitStrategy"/>,
    /// which only the blocking calls follow.
    /// </summary>
    /// <remarks>
    /// One async wait may be outstanding per writer; while it is, the writer's other calls must wait for it (except
    /// <see cref="Dispose"/>, which faults it with <see cref="ObjectDisposedException"/>).
    /// </remarks>
    /// <exception cref="OperationCanceledException">The token was cancelled; the wait leaves nothing registered.</exception>
    /// <exception cref="InvalidOperationException">Another async wait is outstanding on this writer, or a claim is.</exception>
    public ValueTask<bool> WaitToWriteAsync(int length, CancellationToken cancellationToken = default) =>
        WaitToWriteAsyncCore(length, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// Waits for room without holding a thread, for at most <paramref name="timeout"/>: true when a message of
    /// <paramref name="length"/> bytes fits, false when the timeout passed first (unlike
    /// <see cref="WaitToWriteAsync(int, CancellationToken)"/>, false here means "timed out"). Otherwise as
    /// <see cref="WaitToWriteAsync(int, CancellationToken)"/>.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; the wait leaves nothing registered.</exception>
    /// <exception cref="InvalidOperationException">Another async wait is outstanding on this writer, or a claim is.</exception>
    public ValueTask<bool> WaitToWriteAsync(int length, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitToWriteAsyncCore(length, timeout, cancellationToken);

    /// <summary>
    /// Writes the message, waiting for room without holding a thread, as <c>ChannelWriter.WriteAsync</c> does.
    /// Completes synchronously, with no allocation and no system call, when there is room; a pending write allocates
    /// nothing either once its endpoint has waited before.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; the write leaves nothing registered.</exception>
    /// <exception cref="InvalidOperationException">The ring is completed, or another async wait is outstanding on this writer.</exception>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled(cancellationToken);
        return TryWrite(message.Span) ? ValueTask.CompletedTask : WriteSlowAsync(message, cancellationToken);
    }

    /// <summary>The async wait: <see cref="WaitToWriteAsync(int, TimeSpan, CancellationToken)"/>, with Timeout.InfiniteTimeSpan for none.</summary>
    private protected abstract ValueTask<bool> WaitToWriteAsyncCore(int length, TimeSpan timeout, CancellationToken cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteSlowAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        while (await WaitToWriteAsync(message.Length, cancellationToken).ConfigureAwait(false))
        {
            if (TryWrite(message.Span)) return;
        }
        throw Ended();
    }

    /// <summary>
    /// Copies <paramref name="value"/> into the ring as one message of <c>sizeof(T)</c> bytes, its in-memory
    /// representation (the same build reads it back with <see cref="RingReader.TryRead{T}(out T)"/>); false when the
    /// ring has no room for it now. Allocates nothing.
    /// </summary>
    /// <exception cref="RingMessageTypeException">The segment is pinned to another message type.</exception>
    /// <exception cref="ArgumentException"><c>sizeof(T)</c> is more than <see cref="MaxMessageLength"/>.</exception>
    /// <exception cref="RingCompletedException">The ring is completed.</exception>
    public bool TryWrite<T>(in T value) where T : unmanaged
    {
        _pin.Check<T>();
        return TryWrite(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));
    }

    internal void CheckMessageType<T>() where T : unmanaged => _pin.Check<T>();

    /// <summary>Writes <paramref name="value"/> as one message, waiting up to <paramref name="timeout"/> for room; false on timeout.</summary>
    /// <exception cref="RingMessageTypeException">The segment is pinned to another message type.</exception>
    public bool TryWrite<T>(in T value, TimeSpan timeout, CancellationToken cancellationToken = default) where T : unmanaged
    {
        _pin.Check<T>();
        return TryWrite(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)), timeout, cancellationToken);
    }

    /// <summary>Writes <paramref name="value"/> as one message, waiting as long as it takes for room.</summary>
    /// <exception cref="RingMessageTypeException">The segment is pinned to another message type.</exception>
    /// <exception cref="RingCompletedException">The ring is completed (see <see cref="Write(ReadOnlySpan{byte}, CancellationToken)"/>).</exception>
    public void Write<T>(in T value, CancellationToken cancellationToken = default) where T : unmanaged
    {
        _pin.Check<T>();
        Write(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)), cancellationToken);
    }

    /// <summary>
    /// Writes <paramref name="value"/> as one message, waiting for room without holding a thread. Completes
    /// synchronously, with no allocation, when there is room.
    /// </summary>
    /// <exception cref="RingMessageTypeException">The segment is pinned to another message type.</exception>
    public ValueTask WriteAsync<T>(T value, CancellationToken cancellationToken = default) where T : unmanaged
    {
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled(cancellationToken);
        return TryWrite(in value) ? ValueTask.CompletedTask : WriteSlowAsync(value, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteSlowAsync<T>(T value, CancellationToken cancellationToken) where T : unmanaged
    {
        while (await WaitToWriteAsync(Unsafe.SizeOf<T>(), cancellationToken).ConfigureAwait(false))
        {
            if (TryWrite(in value)) return;
        }
        throw Ended();
    }

    /// <summary>
    /// Claims room for one message of up to <paramref name="maxLength"/> bytes and hands it out as an
    /// <see cref="System.Buffers.IBufferWriter{T}"/>, so a serializer (<c>Utf8JsonWriter</c>, MemoryPack, MessagePack)
    /// writes the message straight into the ring; <see cref="RingClaim.Commit"/> publishes what was written, disposing
    /// the claim without committing drops it. False when the ring has no room for <paramref name="maxLength"/> bytes now.
    /// </summary>
    /// <remarks>
    /// The writer hands out the same <see cref="RingClaim"/> every time (no allocation after the first): a claim is valid
    /// from here until its <c>Commit</c> or <c>Dispose</c>, and must not be kept beyond that. The writer takes no other
    /// call meanwhile, as with <see cref="TryClaim"/>.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is negative or more than <see cref="MaxMessageLength"/>.</exception>
    /// <exception cref="RingCompletedException">The ring is completed.</exception>
    public bool TryBeginWrite(int maxLength, [NotNullWhen(true)] out RingClaim? claim)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxLength, MaxMessageLength);
        if (!TryClaim(maxLength, out Span<byte> buffer))
        {
            claim = null;
            return false;
        }
        claim = _claim ??= new RingClaim(this);
        claim.Begin(buffer);
        return true;
    }

    /// <summary>
    /// <see cref="TryBeginWrite"/>, waiting as long as it takes for room for <paramref name="maxLength"/> bytes.
    /// </summary>
    /// <exception cref="RingCompletedException">The ring is completed (see <see cref="Write(ReadOnlySpan{byte}, CancellationToken)"/>).</exception>
    public RingClaim BeginWrite(int maxLength, CancellationToken cancellationToken = default)
    {
        RingClaim? claim;
        while (!TryBeginWrite(maxLength, out claim))
        {
            if (!WaitToWrite(maxLength, Timeout.InfiniteTimeSpan, cancellationToken)) throw Ended();
        }
        return claim;
    }

    /// <summary>
    /// This writer as a <see cref="ChannelWriter{T}"/> of byte messages, for code written against
    /// <c>System.Threading.Channels</c>. Each item is copied into the ring as one message.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Each call makes a new adapter, which takes this writer's one-call-at-a-time rule. <c>TryWrite</c> is false when
    /// the ring is full, and once it is completed (where <see cref="TryWrite(ReadOnlySpan{byte})"/> throws), as a
    /// channel's; <c>WriteAsync</c> then throws <see cref="ChannelClosedException"/> carrying the
    /// <see cref="RingCompletedException"/>. <c>WaitToWriteAsync</c> knows no item, so it waits for room for a message
    /// of <see cref="MaxMessageLength"/> bytes (true means any message fits; an SPSC ring may take a short message
    /// sooner, and <c>WriteAsync</c> waits for the item's own length); it is false once the ring is completed, and
    /// throws <see cref="RingPeerLostException"/> when, with <see cref="PeerLoss.Complete"/>, the ring is full and every
    /// consumer is gone.
    /// </para>
    /// <para>
    /// <c>TryComplete(error)</c> completes the ring for every process, with <c>error.Message</c> as the reason (cut to
    /// <see cref="MaxCompletionReasonBytes"/>), or none when <c>error</c> is null, and is false when the ring was
    /// completed already. Unlike a channel, whose readers then fault with <c>error</c>, a ring carries a reason string,
    /// not an exception object: its readers' <c>Completion</c> completes normally, with the reason in
    /// <see cref="RingReader.CompletionReason"/>.
    /// </para>
    /// </remarks>
    public ChannelWriter<ReadOnlyMemory<byte>> AsChannelWriter() =>
        new RingChannelWriter<ReadOnlyMemory<byte>, CopiedBytes>(this, default);

    /// <summary>
    /// This writer as a <see cref="ChannelWriter{T}"/> of <typeparamref name="T"/> values, one message of
    /// <c>sizeof(T)</c> bytes each (see <see cref="TryWrite{T}(in T)"/>); <c>WaitToWriteAsync</c> waits for room for one.
    /// <c>TryWrite</c>, and <c>WaitToWriteAsync</c> and <c>WriteAsync</c> when there is room, allocate nothing.
    /// Otherwise as <see cref="AsChannelWriter()"/>.
    /// </summary>
    /// <exception cref="RingMessageTypeException">From the adapter's writes: the segment is pinned to another message type.</exception>
    public ChannelWriter<T> AsChannelWriter<T>() where T : unmanaged =>
        new RingChannelWriter<T, UnmanagedItems<T>>(this, default);

    /// <summary>
    /// Opens a batch: messages written through it are invisible to readers until <see cref="RingBatch.Publish"/>, which
    /// makes all of them visible with one store (and one wake-up of a sleeping reader) instead of one per message.
    /// Disposing the batch drops what it wrote and did not publish; so does the death of the process. While the batch
    /// is open the writer's other writes, claims and completion throw <see cref="InvalidOperationException"/>; waiting
    /// for room (<see cref="WaitToWrite"/>, <c>WaitToWriteAsync</c>) is allowed once everything written is published.
    /// </summary>
    /// <remarks>
    /// SPSC rings only for now: an MPMC ring publishes each slot on its own sequence, and a run of slots claimed by one
    /// producer would need its recovery to know the whole run (not done); a broadcast publisher would have to move
    /// Reclaim and Oldest for the whole batch before its first record (not done).
    /// </remarks>
    /// <exception cref="NotSupportedException">The ring is not an SPSC ring.</exception>
    /// <exception cref="InvalidOperationException">A claim or another batch is open.</exception>
    /// <exception cref="RingCompletedException">The ring is completed.</exception>
    public RingBatch BeginBatch()
    {
        BeginBatchCore();
        return new RingBatch(this);
    }

    private protected virtual void BeginBatchCore() =>
        throw new NotSupportedException("Batches need an SPSC ring: MPMC and broadcast rings publish each message on its own.");

    /// <summary>Writes a record of the open batch without publishing it; false when the ring has no room for it.</summary>
    internal virtual bool TryAppend(ReadOnlySpan<byte> message) => throw new NotSupportedException();

    /// <summary>Publishes every record the open batch wrote since it was opened or last published, with one tail store.</summary>
    internal virtual void PublishBatch() => throw new NotSupportedException();

    /// <summary>Closes the batch, dropping what it wrote and did not publish.</summary>
    internal virtual void EndBatch() => throw new NotSupportedException();

    private readonly ref struct WriteOperation(RingWriter writer, ReadOnlySpan<byte> message) : IRetryable
    {
        private readonly ReadOnlySpan<byte> _message = message;

        public bool TryOnce() => writer.TryWrite(_message);

        public bool WaitForChance(TimeSpan timeout, CancellationToken cancellationToken) => writer.WaitToWrite(_message.Length, timeout, cancellationToken);

        public long GetTimestamp() => writer.GetTimestamp();
    }
}
