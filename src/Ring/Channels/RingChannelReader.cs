using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Ring.Channels;

/// <summary>
/// A <see cref="RingReader"/> as a <see cref="ChannelReader{T}"/> (<see cref="RingReader.AsChannelReader()"/>). It is
/// the reader's only user while it is used: one call at a time, as for the reader itself.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Completion"/> completes when a read through this adapter finds the end: <c>TryRead</c> returning false,
/// <c>WaitToReadAsync</c>, <c>ReadAsync</c> or <c>ReadAllAsync</c> observing the ring completed and drained. A ring
/// has no end of its own to push to a task (its end is a state of shared memory that only a read looks at), and
/// watching it from here would take a second async wait on a reader that allows one, so an adapter nobody reads from
/// never completes. A peer loss (<see cref="PeerLoss.Complete"/>) faults it with <see cref="RingPeerLostException"/>.
/// </para>
/// <para>
/// The end is final, as a channel's is: once observed, every read reports it, even if a successor producer attaches
/// after a peer loss (the reader itself goes on with the successor; this adapter's <c>Completion</c> cannot un-fault).
/// </para>
/// <para>
/// No <c>TryPeek</c> (<c>CanPeek</c> is false): a ring hands out a message only by consuming it. No <c>Count</c>
/// (<c>CanCount</c> is false): the ring's count of messages in it is a scan of its slots (MPMC) or a difference of
/// statistics counters that drifts when a participant dies (SPSC), neither cheap nor exact.
/// </para>
/// </remarks>
internal sealed class RingChannelReader<T, TFormat>(RingReader reader, TFormat format) : ChannelReader<T>
    where TFormat : struct, IRingItemReader<T>
{
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private RingCompletedException? _end;

    public override Task Completion => _completion.Task;

    public override bool TryRead([MaybeNullWhen(false)] out T item)
    {
        if (_end is null)
        {
            if (format.TryRead(reader, out item)) return true;
            if (reader.IsCompleted) ObserveEnd();
        }
        item = default;
        return false;
    }

    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        if (_end is not null) return EndOfWaits();
        ValueTask<bool> wait = reader.WaitToReadAsync(cancellationToken);
        if (!wait.IsCompletedSuccessfully) return WaitToReadSlowAsync(wait);
        if (wait.Result) return new ValueTask<bool>(true);
        ObserveEnd();
        return EndOfWaits();
    }

    public override ValueTask<T> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<T>(cancellationToken);
        return TryRead(out T? item) ? new ValueTask<T>(item) : ReadSlowAsync(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitToReadSlowAsync(ValueTask<bool> wait)
    {
        if (await wait.ConfigureAwait(false)) return true;
        ObserveEnd();
        return await EndOfWaits().ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<T> ReadSlowAsync(CancellationToken cancellationToken)
    {
        while (_end is null && await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (TryRead(out T? item)) return item;
        }
        ObserveEnd();
        // As a channel's ReadAsync: ChannelClosedException, carrying why (a channel carries its completion's error).
        throw new ChannelClosedException(_end.Message, _end);
    }

    /// <summary>As a channel's WaitToReadAsync once it is done: false after a normal end, the error after a failed one.</summary>
    private ValueTask<bool> EndOfWaits() =>
        _end is RingPeerLostException lost ? ValueTask.FromException<bool>(lost) : new ValueTask<bool>(false);

    [MemberNotNull(nameof(_end))]
    private void ObserveEnd()
    {
        _end ??= reader.Ended();
        if (_end is RingPeerLostException lost) _completion.TrySetException(lost);
        else _completion.TrySetResult();
    }
}
