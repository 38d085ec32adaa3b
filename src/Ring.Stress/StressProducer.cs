using System.Diagnostics;

namespace Ring.Stress;

/// <summary>The producer side of a stress run: writes messages 0..N-1 with blocking writes.</summary>
public static class StressProducer
{
    /// <summary>
    /// Writes <see cref="WorkerSettings.Messages"/> messages as producer <see cref="WorkerSettings.ProducerId"/>,
    /// paced in bursts if the settings say so, with blocking writes that give up after
    /// <see cref="WorkerSettings.WriteTimeout"/>. Each message is stamped just before its blocking write, so time
    /// spent waiting for room counts as delivery latency: a writer that misses its wake-up and is rescued by
    /// the bounded sleep shows up at the consumer as a ~1 s latency. The loop reuses one buffer and allocates nothing.
    /// <para>
    /// With <see cref="WorkerSettings.ZeroCopy"/> (or any fault plan) each message is
    /// claimed with <see cref="RingWriter.TryClaim"/>, encoded in place (stamped after the claim) and committed;
    /// each <see cref="FaultPlan"/> in <see cref="WorkerSettings.Faults"/> signals the process at its point,
    /// announcing it on <paramref name="log"/> (standard error by default).
    /// </para>
    /// <para>
    /// With <see cref="WorkerSettings.Complete"/> the producer completes the ring after its last message, with
    /// <see cref="WorkerSettings.CompleteReason"/>. A stream that ends before the last message (another producer
    /// completed the ring, or with <see cref="PeerLoss.Complete"/> every consumer is gone and the ring is full) is
    /// reported with <see cref="WorkerResult.Completion"/> and its reason, and as an error: messages were left unwritten.
    /// </para>
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled while the writer waited for room.</exception>
    public static WorkerResult Run(RingWriter writer, WorkerSettings settings, CancellationToken cancellationToken = default, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.MaxSize > writer.MaxMessageLength)
            throw new ArgumentOutOfRangeException(nameof(settings), settings.MaxSize, $"max-size {settings.MaxSize} exceeds the segment's largest message, {writer.MaxMessageLength} bytes.");
        byte[] buffer = new byte[settings.MaxSize];
        BurstPacer? pacer = settings.CreatePacer();
        IReadOnlyList<FaultPlan> faults = settings.Faults;
        bool zeroCopy = settings.ZeroCopy || faults.Count != 0;
        log ??= Console.Error;
        int producer = settings.ProducerId;
        long messages = settings.Messages;
        long written = 0;
        long bytes = 0;
        string? error = null;
        string? completion = null;
        string? completionReason = null;
        long start = Stopwatch.GetTimestamp();
        RingBatch? batch = null;
        int unpublished = 0;
        try
        {
            if (settings.Batch > 0) batch = writer.BeginBatch();
            for (long sequence = 0; sequence < messages; sequence++)
            {
                int size = StressMessage.SizeFor(settings.Seed, producer, sequence, settings.MinSize, settings.MaxSize);
                bool ok = batch is { } open
                    ? TryAppend(writer, open, settings, buffer.AsSpan(0, size), sequence, ref unpublished, cancellationToken)
                    : zeroCopy
                    ? TryClaimAndCommit(writer, settings, log, buffer, size, sequence, cancellationToken)
                    : TryWrite(writer, settings, buffer.AsSpan(0, size), sequence, cancellationToken);
                if (!ok)
                {
                    error = $"no room for {settings.WriteTimeout.TotalMilliseconds:0} ms after {written} of {messages} were written: the consumer stopped";
                    break;
                }
                written++;
                bytes += size;
                if (faults.Count != 0) FaultPlan.HitAll(faults, FaultPoint.AfterCommit, written, log, Describe(producer, sequence));
                pacer?.AfterMessage(sequence + 1 < messages);
            }
            batch?.Publish();
            batch?.Dispose();
            batch = null;
            if (error is null && settings.Complete) (completion, completionReason) = (StreamEnd.Completed, Complete(writer, settings.CompleteReason));
        }
        catch (RingCompletedException e)
        {
            (completion, completionReason) = (StreamEnd.Of(e), e.Reason);
            error = $"the stream ended ({StreamEnd.Describe(e)}) after {written} of {messages} were written";
        }
        catch (RingException e)
        {
            error = $"{e.GetType().Name}: {e.Message}";
        }
        finally
        {
            batch?.Dispose(); // an error left messages unpublished: they are dropped, and not counted as written
        }
        return new WorkerResult
        {
            Role = "producer",
            Messages = written,
            Bytes = bytes,
            ElapsedS = Math.Round(Stopwatch.GetElapsedTime(start).TotalSeconds, 3),
            Pauses = pacer?.Pauses ?? 0,
            Completion = completion,
            CompletionReason = completionReason,
            Error = error,
        };
    }

    /// <summary>
    /// Completes the ring and returns the reason that stands: a ring some other producer completed first is completed
    /// all the same, with that one's reason (which only the exception of <see cref="RingWriter.Complete()"/> carries
    /// to a writer).
    /// </summary>
    private static string? Complete(RingWriter writer, string? reason)
    {
        try
        {
            if (reason is null) writer.Complete();
            else writer.Complete(reason);
            return reason;
        }
        catch (RingCompletedException first)
        {
            return first.Reason;
        }
    }

    private static bool TryWrite(RingWriter writer, WorkerSettings settings, Span<byte> message, long sequence, CancellationToken cancellationToken)
    {
        StressMessage.Encode(message, settings.Seed, settings.ProducerId, sequence, Stopwatch.GetTimestamp());
        long start = Stopwatch.GetTimestamp();
        if (writer.TryWrite(message, settings.WriteTimeout, cancellationToken)) return true;
        if (Stopwatch.GetElapsedTime(start) < settings.WriteTimeout) // false before the timeout: the stream has ended
        {
            WriteOrThrowTheEnd(writer, message, settings.WriteTimeout, cancellationToken);
            return true;
        }
        return false;
    }

    /// <summary>
    /// Writes the message into the open batch, publishing every <see cref="WorkerSettings.Batch"/> messages. A full
    /// ring publishes what is pending first (a reader cannot free room it cannot see), then waits for room as
    /// <see cref="TryWrite"/> does. The message is stamped before the wait, so the wait counts as latency.
    /// </summary>
    private static bool TryAppend(RingWriter writer, RingBatch batch, WorkerSettings settings, Span<byte> message, long sequence,
        ref int unpublished, CancellationToken cancellationToken)
    {
        StressMessage.Encode(message, settings.Seed, settings.ProducerId, sequence, Stopwatch.GetTimestamp());
        long deadline = Stopwatch.GetTimestamp() + (long)(settings.WriteTimeout.TotalSeconds * Stopwatch.Frequency);
        while (!batch.TryWrite(message))
        {
            batch.Publish();
            unpublished = 0;
            long remaining = deadline - Stopwatch.GetTimestamp();
            if (remaining <= 0) return false;
            if (writer.WaitToWrite(message.Length, Stopwatch.GetElapsedTime(0, remaining), cancellationToken)) continue;
            if (deadline - Stopwatch.GetTimestamp() <= 0) return false;
            // The stream has ended: a plain write says how, and a writer takes one only with its batch closed.
            batch.Dispose();
            WriteOrThrowTheEnd(writer, message, settings.WriteTimeout, cancellationToken);
            writer.BeginBatch(); // room came after all: the caller's batch (a handle on this writer's) is open again
            return true;
        }
        if (++unpublished == settings.Batch)
        {
            batch.Publish();
            unpublished = 0;
        }
        return true;
    }

    /// <summary>
    /// A wait for room ended before its timeout: the ring is completed, or (with <see cref="PeerLoss.Complete"/>) it
    /// is full and every consumer is gone. Only the exception of a blocking write tells a writer which, with the
    /// library's reason, and that write does not wait: both ends are final. Should room have come meanwhile, it writes
    /// the message, which is what the caller wanted anyway.
    /// </summary>
    /// <exception cref="RingCompletedException">The stream has ended (a <see cref="RingPeerLostException"/> for the consumers' loss).</exception>
    private static void WriteOrThrowTheEnd(RingWriter writer, ReadOnlySpan<byte> message, TimeSpan bound, CancellationToken cancellationToken)
    {
        using CancellationTokenSource limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(bound);
        writer.Write(message, limit.Token);
    }

    /// <summary>Claims room for the message (waiting up to the write timeout), encodes it in place and commits it, passing the fault points on the way.</summary>
    private static bool TryClaimAndCommit(RingWriter writer, WorkerSettings settings, TextWriter log, byte[] scratch,
        int size, long sequence, CancellationToken cancellationToken)
    {
        IReadOnlyList<FaultPlan> faults = settings.Faults;
        long number = sequence + 1;
        if (faults.Count != 0) FaultPlan.HitAll(faults, FaultPoint.BeforeClaim, number, log, Describe(settings.ProducerId, sequence));
        long deadline = Stopwatch.GetTimestamp() + (long)(settings.WriteTimeout.TotalSeconds * Stopwatch.Frequency);
        Span<byte> claimed;
        while (!writer.TryClaim(size, out claimed))
        {
            long remaining = deadline - Stopwatch.GetTimestamp();
            if (remaining <= 0) return false;
            if (writer.WaitToWrite(size, Stopwatch.GetElapsedTime(0, remaining), cancellationToken)) continue;
            if (deadline - Stopwatch.GetTimestamp() <= 0) return false;
            // The wait ended before its deadline: the stream has ended.
            Span<byte> message = scratch.AsSpan(0, size);
            StressMessage.Encode(message, settings.Seed, settings.ProducerId, sequence, Stopwatch.GetTimestamp());
            WriteOrThrowTheEnd(writer, message, settings.WriteTimeout, cancellationToken);
            return true;
        }
        if (faults.Count != 0)
        {
            FaultPlan.HitAll(faults, FaultPoint.AfterClaim, number, log, Describe(settings.ProducerId, sequence));
            if (FaultPlan.AnyDue(faults, FaultPoint.MidPayload, number))
            {
                // The whole message as it would be, then only its first half into the ring: prefix and part of the payload.
                Span<byte> message = scratch.AsSpan(0, size);
                StressMessage.Encode(message, settings.Seed, settings.ProducerId, sequence, Stopwatch.GetTimestamp());
                message[..(size / 2)].CopyTo(claimed);
                FaultPlan.HitAll(faults, FaultPoint.MidPayload, number, log, Describe(settings.ProducerId, sequence));
            }
        }
        StressMessage.Encode(claimed, settings.Seed, settings.ProducerId, sequence, Stopwatch.GetTimestamp());
        writer.Commit();
        return true;
    }

    private static string Describe(int producer, long sequence) => $"message {sequence + 1} (producer {producer}, sequence {sequence})";
}
