using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Ring.Channels;

namespace Ring;

/// <summary>Receives one message in place; the span is valid only during the call.</summary>
public delegate void RingMessageHandler(ReadOnlySpan<byte> message);

/// <summary>
/// Receives one message in place along with the caller's state, so a handler needs no closure (and no static fields)
/// to count or collect; the span is valid only during the call.
/// </summary>
public delegate void RingMessageHandler<TState>(ReadOnlySpan<byte> message, ref TState state);

/// <summary>
/// Receives one peeked message in place, its position and the caller's state; the span is valid only during the call,
/// the message stays in the ring until <see cref="RingReader.Release(long)"/> is given <paramref name="position"/>.
/// </summary>
/// <param name="message">The payload, in the segment (or a checked copy where the publisher may overwrite it).</param>
/// <param name="position">
/// Where the message ends in the ring, as a consumer offset names the next record to read: unique to this message in the
/// segment's life, increasing from one message to the next, and the same for a successor that reads it again.
/// </param>
/// <param name="state">The caller's state, by reference.</param>
public delegate void RingPeekHandler<TState>(ReadOnlySpan<byte> message, long position, ref TState state);

/// <summary>
/// The consumer end of a ring. Non-blocking calls never allocate or enter the kernel; the blocking calls wait
/// with the endpoint's <see cref="WaitStrategy"/>, the async ones through the process's async wait service,
/// holding no thread. An instance is used by one thread at a time (a pending async call counts as a call), except
/// <see cref="Dispose"/>, which any thread may call, also while a call is blocked or pending.
/// </summary>
public abstract class RingReader : IDisposable
{
    private readonly MessagePin _pin;

    private protected RingReader(RingSegment segment) => _pin = MessagePin.Of(segment);

    /// <summary>The largest payload one message may carry.</summary>
    public abstract int MaxMessageLength { get; }

    /// <summary>
    /// True once the stream has ended for this reader: the ring is completed and every message committed before the
    /// completion has been read, or (with <see cref="PeerLoss.Complete"/>) every producer is gone and the ring is
    /// drained. Tells an empty ring from an ended one after <c>TryRead</c> returned false.
    /// </summary>
    public abstract bool IsCompleted { get; }

    /// <summary>
    /// Why the stream ends: the completer's reason once the ring is completed (messages may still be left to read), or
    /// who of the producers went how once they are lost; null before either, or when the completer gave no reason.
    /// </summary>
    public abstract string? CompletionReason { get; }

    /// <summary>How many producers are attached and alive now (a scan of the participant table: not for a hot loop).</summary>
    public abstract int ProducersAlive { get; }

    /// <summary>
    /// Copies the next message into <paramref name="destination"/>; false when the ring is empty (or the stream
    /// has ended: see <see cref="IsCompleted"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The destination is shorter than the next message, which stays in the ring.</exception>
    public abstract bool TryRead(Span<byte> destination, out int length);

    /// <summary>
    /// Hands the next message to <paramref name="handler"/> without copying it; false when the ring is empty.
    /// The message counts as consumed even if the handler throws.
    /// </summary>
    public bool TryRead(RingMessageHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return ReadBatch(handler, 1) == 1;
    }

    /// <summary>
    /// Hands up to <paramref name="maxMessages"/> messages to <paramref name="handler"/> in place; returns how
    /// many were handled. An SPSC ring frees their room once, at the end (one store for the batch); an MPMC
    /// ring frees each slot as its handler returns, since other consumers take the positions in between.
    /// </summary>
    public abstract int ReadBatch(RingMessageHandler handler, int maxMessages);

    /// <summary>
    /// <see cref="ReadBatch(RingMessageHandler, int)"/> with state: each handler call gets <paramref name="state"/> by
    /// reference, so a <c>static</c> lambda can count into a struct or fill a caller's buffer without allocating a closure.
    /// </summary>
    public abstract int ReadBatch<TState>(ref TState state, RingMessageHandler<TState> handler, int maxMessages);

    /// <summary>
    /// <see cref="TryRead(RingMessageHandler)"/> with state passed by reference to the handler (see
    /// <see cref="ReadBatch{TState}(ref TState, RingMessageHandler{TState}, int)"/>).
    /// </summary>
    public bool TryRead<TState>(ref TState state, RingMessageHandler<TState> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return ReadBatch(ref state, handler, 1) == 1;
    }

    /// <summary>
    /// Hands up to <paramref name="maxMessages"/> messages to <paramref name="handler"/> in place without giving their
    /// room back: each stays in the ring, and with it the producer's room, until <see cref="Release(long)"/> is given its
    /// position. The next peek goes on after the last message handed out, so several can be outstanding; a reader that
    /// goes away (disposed or killed) with messages unreleased leaves them to the next consumer, which reads them again.
    /// Returns how many were handed out. A message whose handler throws counts as peeked.
    /// </summary>
    /// <remarks>
    /// SPSC and broadcast rings. An MPMC ring cannot: its consumers claim slots one by one, a slot held across a wait
    /// stops every producer at that slot, and the recovery of a dead consumer's held slots counts them lost instead of
    /// handing them out again. A broadcast subscriber holds a <see cref="BroadcastOverflow.Block"/> publisher at its
    /// oldest unreleased message; under <see cref="BroadcastOverflow.Overwrite"/> nothing holds the publisher, and a
    /// successor subscriber starts where <see cref="SubscribeFrom"/> says, not at the unreleased messages.
    /// </remarks>
    /// <exception cref="NotSupportedException">The ring is an MPMC ring.</exception>
    public int PeekBatch<TState>(ref TState state, RingPeekHandler<TState> handler, int maxMessages)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return PeekBatchCore(ref state, handler, maxMessages);
    }

    /// <summary>
    /// Gives back the room of the peeked message at <paramref name="position"/> and of every message peeked before it, in
    /// one store; the producer may overwrite them from then on. The reads (<c>TryRead</c>, <c>ReadBatch</c> and what is
    /// built on them) throw <see cref="InvalidOperationException"/> while a peeked message is unreleased: they give back
    /// room up to where they read, which would release the peeked messages unasked.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="position"/> is not the position of an unreleased peeked message; nothing is released.</exception>
    /// <exception cref="NotSupportedException">The ring is an MPMC ring.</exception>
    public void Release(long position) => ReleaseCore(position);

    private const string PeekUnsupported =
        "Peek and release need an SPSC or broadcast ring: an MPMC slot held across a wait stops its producers, and a dead consumer's held slots are counted lost, not read again.";

    private protected virtual int PeekBatchCore<TState>(ref TState state, RingPeekHandler<TState> handler, int maxMessages) =>
        throw new NotSupportedException(PeekUnsupported);

    private protected virtual void ReleaseCore(long position) => throw new NotSupportedException(PeekUnsupported);

    /// <summary>
    /// Copies the next message into <paramref name="destination"/> if its length is exactly the destination's; false
    /// when the ring is empty.
    /// </summary>
    /// <exception cref="RingMessageTypeException">The next message has another length; it stays in the ring.</exception>
    private protected abstract bool TryReadExactly(Span<byte> destination);

    /// <summary>
    /// Waits until a message is there (true); false when the timeout passes or the stream has ended
    /// (<see cref="IsCompleted"/> tells which).
    /// </summary>
    public abstract bool WaitToRead(TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>Why the stream ended, as the exception a blocking read throws.</summary>
    internal abstract RingCompletedException Ended();

    /// <summary>The clock the endpoint's waits run on (the ring's memory's clock), so a scheduled test's time is virtual throughout.</summary>
    private protected abstract long GetTimestamp();

    /// <summary>
    /// Releases the consumer role and detaches from the segment's mapping; disposing the segment does this too.
    /// A call blocked in this reader on another thread is woken and throws <see cref="ObjectDisposedException"/>
    /// (the task of <see cref="ReadAsync"/> or <c>WaitToReadAsync</c> faults with it); the mapping stays
    /// until that call has left. A <see cref="ReadBatch"/> handler may dispose the reader: the batch ends after
    /// that message. Idempotent and thread-safe.
    /// </summary>
    public abstract void Dispose();

    /// <summary>Reads the next message, waiting up to <paramref name="timeout"/> for one; false on timeout.</summary>
    public bool TryRead(Span<byte> destination, out int length, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ReadOperation read = new(this, destination);
        bool done = TimedRetry.Run(ref read, timeout, cancellationToken);
        length = read.Length;
        return done;
    }

    /// <summary>Reads the next message, waiting as long as it takes; returns its length.</summary>
    /// <exception cref="RingCompletedException">The stream has ended (<see cref="RingPeerLostException"/> when every producer is gone, with <see cref="PeerLoss.Complete"/>).</exception>
    public int Read(Span<byte> destination, CancellationToken cancellationToken = default)
    {
        if (!TryRead(destination, out int length, Timeout.InfiniteTimeSpan, cancellationToken)) throw Ended();
        return length;
    }

    /// <summary>
    /// Waits for a message without holding a thread, as <c>ChannelReader.WaitToReadAsync</c> does: true when a message
    /// is there to read, false when the ring is completed and drained, so <c>while (await reader.WaitToReadAsync(ct))</c>
    /// ends with the stream. A chance, not a promise: another MPMC consumer may take the message first, and
    /// <see cref="TryRead(Span{byte}, out int)"/> then returns false. Completes synchronously, with no allocation and no
    /// system call, when a message is there; otherwise the process's async wait service sleeps on the ring for it
    /// (<see cref="RingSegment.AsyncWaitMechanism"/>), whatever the endpoint's <see cref="WaitStrategy"/>, which only
    /// the blocking calls follow.
    /// </summary>
    /// <remarks>
    /// One async wait may be outstanding per reader; while it is, the reader's other calls must wait for it (except
    /// <see cref="Dispose"/>, which faults it with <see cref="ObjectDisposedException"/>).
    /// </remarks>
    /// <exception cref="OperationCanceledException">The token was cancelled; the wait leaves nothing registered.</exception>
    /// <exception cref="InvalidOperationException">Another async wait is outstanding on this reader.</exception>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) =>
        WaitToReadAsyncCore(Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// Waits for a message without holding a thread, for at most <paramref name="timeout"/>: true when a message is
    /// there, false when the timeout passed first (unlike <see cref="WaitToReadAsync(CancellationToken)"/>, false
    /// here means "timed out"). Otherwise as <see cref="WaitToReadAsync(CancellationToken)"/>.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; the wait leaves nothing registered.</exception>
    /// <exception cref="InvalidOperationException">Another async wait is outstanding on this reader.</exception>
    public ValueTask<bool> WaitToReadAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitToReadAsyncCore(timeout, cancellationToken);

    /// <summary>
    /// Reads the next message into <paramref name="destination"/>, waiting for one without holding a thread, as
    /// <c>ChannelReader.ReadAsync</c> does. Completes synchronously, with no allocation and no system call, when a
    /// message is there; a pending read allocates nothing either once its endpoint has waited before.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; the read leaves nothing registered.</exception>
    /// <exception cref="InvalidOperationException">The ring is completed and drained, or another async wait is outstanding on this reader.</exception>
    public ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<int>(cancellationToken);
        return TryRead(destination.Span, out int length) ? new ValueTask<int>(length) : ReadSlowAsync(destination, cancellationToken);
    }

    /// <summary>The async wait: <see cref="WaitToReadAsync(TimeSpan, CancellationToken)"/>, with Timeout.InfiniteTimeSpan for none.</summary>
    private protected abstract ValueTask<bool> WaitToReadAsyncCore(TimeSpan timeout, CancellationToken cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadSlowAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (await WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (TryRead(destination.Span, out int length)) return length;
        }
        throw Ended();
    }

    /// <summary>
    /// Reads the next message as a <typeparamref name="T"/>: a message of exactly <c>sizeof(T)</c> bytes, as
    /// <see cref="RingWriter.TryWrite{T}(in T)"/> wrote it. False when the ring is empty (<paramref name="value"/> is
    /// then default). Allocates nothing.
    /// </summary>
    /// <exception cref="RingMessageTypeException">
    /// The next message has another length (it stays in the ring: read it as bytes, or with the right type), or the
    /// segment is pinned to another message type.
    /// </exception>
    public bool TryRead<T>(out T value) where T : unmanaged
    {
        _pin.Check<T>();
        value = default;
        return TryReadExactly(MemoryMarshal.AsBytes(new Span<T>(ref value)));
    }

    /// <summary>Reads the next message as a <typeparamref name="T"/>, waiting up to <paramref name="timeout"/> for one; false on timeout.</summary>
    /// <exception cref="RingMessageTypeException">See <see cref="TryRead{T}(out T)"/>.</exception>
    public bool TryRead<T>(out T value, TimeSpan timeout, CancellationToken cancellationToken = default) where T : unmanaged
    {
        _pin.Check<T>();
        value = default;
        ExactReadOperation read = new(this, MemoryMarshal.AsBytes(new Span<T>(ref value)));
        return TimedRetry.Run(ref read, timeout, cancellationToken);
    }

    /// <summary>Reads the next message as a <typeparamref name="T"/>, waiting as long as it takes.</summary>
    /// <exception cref="RingMessageTypeException">See <see cref="TryRead{T}(out T)"/>.</exception>
    /// <exception cref="RingCompletedException">The stream has ended (see <see cref="Read(Span{byte}, CancellationToken)"/>).</exception>
    public T Read<T>(CancellationToken cancellationToken = default) where T : unmanaged
    {
        if (!TryRead(out T value, Timeout.InfiniteTimeSpan, cancellationToken)) throw Ended();
        return value;
    }

    /// <summary>
    /// Reads the next message as a <typeparamref name="T"/>, waiting for one without holding a thread. Completes
    /// synchronously, with no allocation, when a message is there.
    /// </summary>
    /// <exception cref="RingMessageTypeException">See <see cref="TryRead{T}(out T)"/>.</exception>
    /// <exception cref="RingCompletedException">The stream has ended.</exception>
    public ValueTask<T> ReadAsync<T>(CancellationToken cancellationToken = default) where T : unmanaged
    {
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<T>(cancellationToken);
        return TryRead(out T value) ? new ValueTask<T>(value) : ReadSlowAsync<T>(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<T> ReadSlowAsync<T>(CancellationToken cancellationToken) where T : unmanaged
    {
        while (await WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (TryRead(out T value)) return value;
        }
        throw Ended();
    }

    /// <summary>
    /// This reader as a <see cref="ChannelReader{T}"/> of byte messages, for code written against
    /// <c>System.Threading.Channels</c>. Each item is a copy of its message in a new array of its own (one allocation
    /// per message); <see cref="AsChannelReader{T}"/> and <see cref="ReadAllAsync(CancellationToken)"/> read without one.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Each call makes a new adapter, which takes this reader's one-call-at-a-time rule: use one adapter, and not the
    /// reader beside it. <c>TryRead</c>, <c>WaitToReadAsync</c>, <c>ReadAsync</c> and <c>ReadAllAsync</c> behave as a
    /// bounded channel's: <c>WaitToReadAsync</c> is false and <c>ReadAsync</c> throws <see cref="ChannelClosedException"/>
    /// once the ring is completed and drained, and <see cref="ChannelReader{T}.Completion"/> then completes. A peer loss
    /// under <see cref="PeerLoss.Complete"/> is a failed end: <c>Completion</c> faults with
    /// <see cref="RingPeerLostException"/>, <c>WaitToReadAsync</c> throws it, and the <see cref="ChannelClosedException"/> of
    /// <c>ReadAsync</c> carries it (after a normal end, the <see cref="RingCompletedException"/> with the reason).
    /// </para>
    /// <para>
    /// <c>Completion</c> learns of the end only through a read of this adapter (a <c>TryRead</c> that finds the ring
    /// ended, or a <c>WaitToReadAsync</c>, <c>ReadAsync</c> or <c>ReadAllAsync</c> that waits into it): the end is a state
    /// of shared memory, and nothing watches it for an adapter nobody reads from. Once observed, the end is final for
    /// the adapter, as a channel's is, even if a successor producer attaches after a peer loss.
    /// <c>CanPeek</c> and <c>CanCount</c> are false: a ring hands out a message only by consuming it, and its count of
    /// messages is neither cheap nor exact (a scan of the slots, or statistics that drift when a participant dies).
    /// </para>
    /// </remarks>
    public ChannelReader<ReadOnlyMemory<byte>> AsChannelReader() =>
        new RingChannelReader<ReadOnlyMemory<byte>, CopiedBytes>(this, default);

    /// <summary>
    /// This reader as a <see cref="ChannelReader{T}"/> of <typeparamref name="T"/> values, one message of
    /// <c>sizeof(T)</c> bytes each (see <see cref="TryRead{T}(out T)"/>). <c>TryRead</c>, and <c>WaitToReadAsync</c> and
    /// <c>ReadAsync</c> when a message is there, allocate nothing. Otherwise as <see cref="AsChannelReader()"/>.
    /// </summary>
    /// <exception cref="RingMessageTypeException">From the adapter's reads: see <see cref="TryRead{T}(out T)"/>.</exception>
    public ChannelReader<T> AsChannelReader<T>() where T : unmanaged =>
        new RingChannelReader<T, UnmanagedItems<T>>(this, default);

    /// <summary>
    /// Every message until the stream ends, for <c>await foreach</c>. Each enumeration reads into one buffer of
    /// <see cref="MaxMessageLength"/> bytes that it allocates at its start and reuses: an item is valid only until the
    /// loop moves on to the next one (copy what must outlive it); no allocation per message after that.
    /// </summary>
    /// <remarks>
    /// Ends when the ring is completed and drained. Waits as <see cref="WaitToReadAsync(CancellationToken)"/> does (one
    /// enumeration at a time, and no other call on this reader meanwhile); the token, or the one given to
    /// <c>WithCancellation</c>, cancels a wait.
    /// </remarks>
    /// <exception cref="RingPeerLostException">With <see cref="PeerLoss.Complete"/>: every producer is gone and the ring is drained.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled while the enumeration waited.</exception>
    public IAsyncEnumerable<ReadOnlyMemory<byte>> ReadAllAsync(CancellationToken cancellationToken = default) =>
        ReadAll<ReadOnlyMemory<byte>, ReusedBuffer>(static reader => new ReusedBuffer(new byte[reader.MaxMessageLength]), cancellationToken);

    /// <summary>
    /// Every message as a <typeparamref name="T"/> until the stream ends, for <c>await foreach</c>; no allocation per
    /// message. Otherwise as <see cref="ReadAllAsync(CancellationToken)"/>.
    /// </summary>
    /// <exception cref="RingMessageTypeException">See <see cref="TryRead{T}(out T)"/>.</exception>
    /// <exception cref="RingPeerLostException">With <see cref="PeerLoss.Complete"/>: every producer is gone and the ring is drained.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled while the enumeration waited.</exception>
    public IAsyncEnumerable<T> ReadAllAsync<T>(CancellationToken cancellationToken = default) where T : unmanaged =>
        ReadAll<T, UnmanagedItems<T>>(static _ => default, cancellationToken);

    /// <summary>
    /// Reads through a channel adapter of its own, made with the enumeration (so is the format's buffer): it ends at the
    /// end of the stream and throws the peer loss its <c>WaitToReadAsync</c> throws.
    /// </summary>
    private async IAsyncEnumerable<TItem> ReadAll<TItem, TFormat>(Func<RingReader, TFormat> format,
        [EnumeratorCancellation] CancellationToken cancellationToken)
        where TFormat : struct, IRingItemReader<TItem>
    {
        RingChannelReader<TItem, TFormat> channel = new(this, format(this));
        while (await channel.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (channel.TryRead(out TItem? item)) yield return item;
        }
    }

    private readonly ref struct ExactReadOperation(RingReader reader, Span<byte> destination) : IRetryable
    {
        private readonly Span<byte> _destination = destination;

        public bool TryOnce() => reader.TryReadExactly(_destination);

        public bool WaitForChance(TimeSpan timeout, CancellationToken cancellationToken) => reader.WaitToRead(timeout, cancellationToken);

        public long GetTimestamp() => reader.GetTimestamp();
    }

    private ref struct ReadOperation(RingReader reader, Span<byte> destination) : IRetryable
    {
        private readonly Span<byte> _destination = destination;

        public int Length;

        public bool TryOnce() => reader.TryRead(_destination, out Length);

        public readonly bool WaitForChance(TimeSpan timeout, CancellationToken cancellationToken) => reader.WaitToRead(timeout, cancellationToken);

        public readonly long GetTimestamp() => reader.GetTimestamp();
    }
}
