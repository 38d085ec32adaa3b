using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Ring.Channels;

/// <summary>
/// A <see cref="RingWriter"/> as a <see cref="ChannelWriter{T}"/> (<see cref="RingWriter.AsChannelWriter()"/>). It is
/// the writer's only user while it is used: one call at a time, as for the writer itself.
/// </summary>
internal sealed class RingChannelWriter<T, TFormat>(RingWriter writer, TFormat format) : ChannelWriter<T>
    where TFormat : struct, IRingItemWriter<T>
{
    public override bool TryWrite(T item)
    {
        try
        {
            return format.TryWrite(writer, in item);
        }
        catch (RingCompletedException)
        {
            return false; // a channel's TryWrite answers false once it is completed; the ring's throws
        }
    }

    public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default)
    {
        ValueTask<bool> wait = writer.WaitToWriteAsync(format.LongestLength(writer), cancellationToken);
        if (!wait.IsCompletedSuccessfully) return WaitToWriteSlowAsync(wait);
        return wait.Result ? new ValueTask<bool>(true) : EndOfWaits();
    }

    public override ValueTask WriteAsync(T item, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled(cancellationToken);
        return TryWrite(item) ? ValueTask.CompletedTask : WriteSlowAsync(item, cancellationToken);
    }

    /// <summary>
    /// Completes the ring for every process. A ring records a reason string, not an exception object (it crosses
    /// processes), so <paramref name="error"/> travels as its message, cut to what the ring records, and a reader's
    /// <c>Completion</c> completes normally either way.
    /// </summary>
    public override bool TryComplete(Exception? error = null) =>
        writer.TryComplete(error is null ? null : RingCompletion.FitReason(error.Message));

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitToWriteSlowAsync(ValueTask<bool> wait) =>
        await wait.ConfigureAwait(false) || await EndOfWaits().ConfigureAwait(false);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteSlowAsync(T item, CancellationToken cancellationToken)
    {
        // Waits for this item's own length, not the longest: a short message goes in as soon as it fits.
        while (await writer.WaitToWriteAsync(format.LengthOf(in item), cancellationToken).ConfigureAwait(false))
        {
            if (TryWrite(item)) return;
        }
        RingCompletedException end = writer.Ended();
        throw new ChannelClosedException(end.Message, end);
    }

    /// <summary>As a channel's WaitToWriteAsync once it is done: false after a completion, the error after a peer loss.</summary>
    private ValueTask<bool> EndOfWaits() =>
        writer.Ended() is RingPeerLostException lost ? ValueTask.FromException<bool>(lost) : new ValueTask<bool>(false);
}
