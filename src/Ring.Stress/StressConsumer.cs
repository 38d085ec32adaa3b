using System.Diagnostics;

namespace Ring.Stress;

/// <summary>The consumer side of a stress run: reads N messages from each producer with blocking reads and checks each.</summary>
public static class StressConsumer
{
    /// <summary>
    /// Reads until all <see cref="WorkerSettings.Messages"/> sequences were delivered intact, or until a read
    /// times out on an empty ring (the producer stopped; what is missing counts as lost). Checks every message
    /// with a <see cref="MessageVerifier"/>, and the wake-ups:
    /// <para>
    /// A blocking read that times out is followed at once by a non-blocking one. If that finds a message that
    /// was sent more than half the timeout before the read gave up, the message sat in the ring while the
    /// reader slept: a LOST WAKE-UP. (A message sent in the last instants of the wait may simply have lost the
    /// race with the deadline, so it does not count; the half-timeout margin also covers a producer preempted
    /// between stamping and publishing.) A lost wake-up rescued by the bounded sleep before the timeout
    /// shows up instead as a delivery latency near that sleep, which is why the maximum latency is reported.
    /// </para>
    /// After the last message one more non-blocking read checks that nothing follows. The loop reuses one
    /// buffer and allocates nothing.
    /// <para>
    /// A stream may end (<see cref="RingReader.IsCompleted"/>): the ring completed, or with
    /// <see cref="PeerLoss.Complete"/> every producer gone. Ended after the last message, that is a clean end; ended
    /// before it, what is missing counts as lost, as for a producer that stopped. With
    /// <see cref="WorkerSettings.Complete"/> the consumer waits up to the read timeout after the last message for the
    /// ring to be completed (with <see cref="WorkerSettings.CompleteReason"/>, if given) and fails if it is not.
    /// </para>
    /// <para>
    /// With <see cref="WorkerSettings.ZeroCopy"/> (or any fault plan) each message is read in place by a handler
    /// (<see cref="RingReader.TryRead(RingMessageHandler)"/>), and a <c>mid-read</c> <see cref="FaultPlan"/>
    /// signals the process inside the handler of its N-th message, announcing it on <paramref name="log"/>
    /// (standard error by default).
    /// </para>
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled while the reader waited.</exception>
    public static WorkerResult Run(RingReader reader, WorkerSettings settings, CancellationToken cancellationToken = default, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(settings);
        MessageVerifier verifier = new(settings.Messages, settings.Seed, settings.MinSize, settings.MaxSize, settings.Producers);
        if (settings.ZeroCopy || settings.Faults.Count != 0)
            return RunInPlace(reader, settings, verifier, log ?? Console.Error, cancellationToken);
        byte[] buffer = new byte[reader.MaxMessageLength];
        BurstPacer? pacer = settings.CreatePacer();
        TimeSpan timeout = settings.FirstReadTimeout ?? settings.ReadTimeout;
        long lostWakeups = 0;
        string? error = null;
        RingCompletedException? ended = null;
        long start = Stopwatch.GetTimestamp();
        try
        {
            while (!verifier.IsComplete)
            {
                if (!reader.TryRead(buffer, out int length, timeout, cancellationToken))
                {
                    long gaveUpAt = Stopwatch.GetTimestamp();
                    if (reader.TryRead(buffer, out length))
                    {
                        if (length >= StressMessage.PrefixLength
                            && Stopwatch.GetElapsedTime(StressMessage.ReadTimestamp(buffer), gaveUpAt) > timeout / 2)
                        {
                            lostWakeups++;
                        }
                    }
                    else if (!reader.IsCompleted)
                    {
                        error = StoppedError(timeout, verifier);
                        break;
                    }
                    else if ((ended = TakeTheEnd(reader, buffer, out length, timeout, cancellationToken)) is not null)
                    {
                        break;
                    }
                }
                timeout = settings.ReadTimeout;
                verifier.Accept(buffer.AsSpan(0, length), Stopwatch.GetTimestamp());
                pacer?.AfterMessage(!verifier.IsComplete);
            }
            if (verifier.IsComplete) ended = AfterTheLast(reader, settings, buffer, message => verifier.Accept(message, Stopwatch.GetTimestamp()), cancellationToken);
        }
        catch (RingException e)
        {
            error = $"{e.GetType().Name}: {e.Message}";
        }
        return Result(verifier, lostWakeups, start, pacer, ended, error ?? EndError(settings, verifier, ended));
    }

    /// <summary>The zero-copy loop: the same checks as the copying one, each message verified in place.</summary>
    private static WorkerResult RunInPlace(RingReader reader, WorkerSettings settings, MessageVerifier verifier, TextWriter log,
        CancellationToken cancellationToken)
    {
        IReadOnlyList<FaultPlan> faults = settings.Faults;
        BurstPacer? pacer = settings.CreatePacer();
        TimeSpan timeout = settings.FirstReadTimeout ?? settings.ReadTimeout;
        long lostWakeups = 0;
        long read = 0;
        long lastSent = 0;
        string? error = null;
        RingCompletedException? ended = null;
        byte[]? scratch = null; // for the end of the stream only
        RingMessageHandler handler = message =>
        {
            read++;
            if (faults.Count != 0 && FaultPlan.AnyDue(faults, FaultPoint.MidRead, read))
            {
                string what = message.Length >= StressMessage.PrefixLength
                    ? $"message {read} (producer {StressMessage.ReadProducer(message)}, sequence {StressMessage.ReadSequence(message)})"
                    : $"message {read} ({message.Length} bytes)";
                FaultPlan.HitAll(faults, FaultPoint.MidRead, read, log, what);
            }
            lastSent = message.Length >= StressMessage.PrefixLength ? StressMessage.ReadTimestamp(message) : 0;
            verifier.Accept(message, Stopwatch.GetTimestamp());
        };
        long start = Stopwatch.GetTimestamp();
        try
        {
            while (!verifier.IsComplete)
            {
                if (!reader.TryRead(handler))
                {
                    if (reader.WaitToRead(timeout, cancellationToken)) continue; // another consumer may take it first: try again
                    long gaveUpAt = Stopwatch.GetTimestamp();
                    if (reader.TryRead(handler))
                    {
                        if (lastSent != 0 && Stopwatch.GetElapsedTime(lastSent, gaveUpAt) > timeout / 2) lostWakeups++;
                    }
                    else if (!reader.IsCompleted)
                    {
                        error = StoppedError(timeout, verifier);
                        break;
                    }
                    else
                    {
                        scratch ??= new byte[reader.MaxMessageLength];
                        if ((ended = TakeTheEnd(reader, scratch, out int length, timeout, cancellationToken)) is not null) break;
                        handler(scratch.AsSpan(0, length));
                    }
                }
                timeout = settings.ReadTimeout;
                pacer?.AfterMessage(!verifier.IsComplete);
            }
            if (verifier.IsComplete) ended = AfterTheLast(reader, settings, scratch ?? new byte[reader.MaxMessageLength], handler, cancellationToken);
        }
        catch (RingException e)
        {
            error = $"{e.GetType().Name}: {e.Message}";
        }
        return Result(verifier, lostWakeups, start, pacer, ended, error ?? EndError(settings, verifier, ended));
    }

    /// <summary>
    /// After the last message: anything more is a duplicate, or garbage, handed to <paramref name="accept"/>. Returns
    /// the end of the stream if it has come; with <see cref="WorkerSettings.Complete"/> it waits up to the read
    /// timeout for it.
    /// </summary>
    private static RingCompletedException? AfterTheLast(RingReader reader, WorkerSettings settings, byte[] buffer, RingMessageHandler accept,
        CancellationToken cancellationToken)
    {
        TimeSpan wait = settings.Complete ? settings.ReadTimeout : TimeSpan.Zero;
        if (reader.TryRead(buffer, out int length, wait, cancellationToken))
        {
            accept(buffer.AsSpan(0, length));
            return null;
        }
        if (!reader.IsCompleted) return null;
        RingCompletedException? ended = TakeTheEnd(reader, buffer, out length, settings.ReadTimeout, cancellationToken);
        if (ended is null) accept(buffer.AsSpan(0, length));
        return ended;
    }

    /// <summary>
    /// The reader says the stream has ended (<see cref="RingReader.IsCompleted"/>). Only the exception of a blocking
    /// read tells which end (completion or the producers' loss) with its reason, and that read does not wait: nothing
    /// is left to wait for. Null, with a message in <paramref name="buffer"/>, when one came after all (a producer
    /// attached after the others were lost).
    /// </summary>
    private static RingCompletedException? TakeTheEnd(RingReader reader, byte[] buffer, out int length, TimeSpan bound, CancellationToken cancellationToken)
    {
        using CancellationTokenSource limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(bound);
        try
        {
            length = reader.Read(buffer, limit.Token);
            return null;
        }
        catch (RingCompletedException ended)
        {
            length = 0;
            return ended;
        }
    }

    /// <summary>What is wrong with how the stream ended, if anything: too early, not at all, or not as expected.</summary>
    private static string? EndError(WorkerSettings settings, MessageVerifier verifier, RingCompletedException? ended)
    {
        if (ended is not null && !verifier.IsComplete)
            return $"the stream ended ({StreamEnd.Describe(ended)}) after {verifier.Delivered} of {verifier.ExpectedMessages} were delivered";
        if (!settings.Complete) return null;
        if (ended is null) return $"the ring was not completed within {settings.ReadTimeout.TotalMilliseconds:0} ms of the last message";
        if (ended is RingPeerLostException) return $"the stream ended without a completion: {ended.Reason}";
        if (settings.CompleteReason is { } expected && ended.Reason != expected)
            return $"the ring was completed with the reason {Quote(ended.Reason)}, not {Quote(expected)}";
        return null;
    }

    private static string Quote(string? reason) => reason is null ? "none" : $"'{reason}'";

    private static string StoppedError(TimeSpan timeout, MessageVerifier verifier) =>
        $"no message for {timeout.TotalMilliseconds:0} ms after {verifier.Delivered} of {verifier.ExpectedMessages} were delivered: the producer stopped";

    private static WorkerResult Result(MessageVerifier verifier, long lostWakeups, long start, BurstPacer? pacer, RingCompletedException? ended, string? error) => new()
    {
        Role = "consumer",
        Messages = verifier.Received,
        Bytes = verifier.Bytes,
        Lost = verifier.Lost,
        Duplicated = verifier.Duplicated,
        Reordered = verifier.Reordered,
        Corrupted = verifier.Corrupted,
        LostWakeups = lostWakeups,
        MaxLatencyUs = verifier.MaxLatencyMicroseconds,
        ElapsedS = Math.Round(Stopwatch.GetElapsedTime(start).TotalSeconds, 3),
        Pauses = pacer?.Pauses ?? 0,
        Completion = ended is null ? null : StreamEnd.Of(ended),
        CompletionReason = ended?.Reason,
        Error = error,
    };
}
