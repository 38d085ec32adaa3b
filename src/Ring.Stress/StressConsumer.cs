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
        long start = Stopwatch.GetTimestamp();
        try
        {
            while (!verifier.IsComplete)
            {
                if (!reader.TryRead(buffer, out int length, timeout, cancellationToken))
                {
                    long gaveUpAt = Stopwatch.GetTimestamp();
                    if (!reader.TryRead(buffer, out length))
                    {
                        error = StoppedError(timeout, verifier);
                        break;
                    }
                    if (length >= StressMessage.PrefixLength
                        && Stopwatch.GetElapsedTime(StressMessage.ReadTimestamp(buffer), gaveUpAt) > timeout / 2)
                    {
                        lostWakeups++;
                    }
                }
                timeout = settings.ReadTimeout;
                verifier.Accept(buffer.AsSpan(0, length), Stopwatch.GetTimestamp());
                pacer?.AfterMessage(!verifier.IsComplete);
            }
            if (verifier.IsComplete && reader.TryRead(buffer, out int extra))
            {
                verifier.Accept(buffer.AsSpan(0, extra), Stopwatch.GetTimestamp()); // a duplicate, or garbage
            }
        }
        catch (RingException e)
        {
            error = $"{e.GetType().Name}: {e.Message}";
        }
        return Result(verifier, lostWakeups, start, pacer, error);
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
                    if (!reader.TryRead(handler))
                    {
                        error = StoppedError(timeout, verifier);
                        break;
                    }
                    if (lastSent != 0 && Stopwatch.GetElapsedTime(lastSent, gaveUpAt) > timeout / 2) lostWakeups++;
                }
                timeout = settings.ReadTimeout;
                pacer?.AfterMessage(!verifier.IsComplete);
            }
            if (verifier.IsComplete) reader.TryRead(handler); // anything more is a duplicate, or garbage
        }
        catch (RingException e)
        {
            error = $"{e.GetType().Name}: {e.Message}";
        }
        return Result(verifier, lostWakeups, start, pacer, error);
    }

    private static string StoppedError(TimeSpan timeout, MessageVerifier verifier) =>
        $"no message for {timeout.TotalMilliseconds:0} ms after {verifier.Delivered} of {verifier.ExpectedMessages} were delivered: the producer stopped";

    private static WorkerResult Result(MessageVerifier verifier, long lostWakeups, long start, BurstPacer? pacer, string? error) => new()
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
        Error = error,
    };
}
