namespace Ring;

/// <summary>Receives one message in place; the span is valid only during the call.</summary>
public delegate void RingMessageHandler(ReadOnlySpan<byte> message);

/// <summary>
/// The consumer end of a ring. Non-blocking calls never allocate or enter the kernel; the blocking and
/// async calls wait with the endpoint's <see cref="WaitStrategy"/>. An instance is used by one thread at a
/// time, except <see cref="Dispose"/>, which any thread may call, also while a call is blocked.
/// </summary>
public abstract class RingReader : IDisposable
{
    private protected RingReader() { }

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
    /// Waits until a message is there (true); false when the timeout passes or the stream has ended
    /// (<see cref="IsCompleted"/> tells which).
    /// </summary>
    public abstract bool WaitToRead(TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>Why the stream ended, as the exception a blocking read throws.</summary>
    private protected abstract RingCompletedException Ended();

    /// <summary>The clock the endpoint's waits run on (the ring's memory's clock), so a scheduled test's time is virtual throughout.</summary>
    private protected abstract long GetTimestamp();

    /// <summary>
    /// Releases the consumer role and detaches from the segment's mapping; disposing the segment does this too.
    /// A call blocked in this reader on another thread is woken and throws <see cref="ObjectDisposedException"/>
    /// (the task of <see cref="ReadAsync"/> or <see cref="WaitToReadAsync"/> faults with it); the mapping stays
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
    /// Waits for a message without blocking the caller: completes synchronously when one is there, otherwise
    /// the kernel wait runs on a thread-pool thread.
    /// </summary>
    public ValueTask<bool> WaitToReadAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (WaitToRead(TimeSpan.Zero, cancellationToken)) return new ValueTask<bool>(true);
        return new ValueTask<bool>(Task.Run(() => WaitToRead(timeout, cancellationToken), cancellationToken));
    }

    /// <summary>Reads the next message into <paramref name="destination"/>, waiting asynchronously for one.</summary>
    public ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        return TryRead(destination.Span, out int length) ? new ValueTask<int>(length) : ReadSlowAsync(destination, cancellationToken);
    }

    private async ValueTask<int> ReadSlowAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        int length;
        do
        {
            if (!await WaitToReadAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false)) throw Ended();
        }
        while (!TryRead(destination.Span, out length));
        return length;
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
