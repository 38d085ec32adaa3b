using System.Diagnostics;

namespace Ring.Stress;

/// <summary>The producer side of a stress run: writes messages 0..N-1 with blocking writes.</summary>
public static class StressProducer
{
    /// <summary>
    /// Writes <see cref="WorkerSettings.Messages"/> messages, paced in bursts if the settings say so, with
    /// blocking writes that give up after <see cref="WorkerSettings.WriteTimeout"/>. Each message is stamped
    /// just before its blocking write, so time spent waiting for room counts as
    /// delivery latency: a writer that misses its wake-up and is rescued by the bounded sleep shows up at
    /// the consumer as a ~1 s latency. The loop reuses one buffer and allocates nothing.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled while the writer waited for room.</exception>
    public static WorkerResult Run(RingWriter writer, WorkerSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.MaxSize > writer.MaxMessageLength)
            throw new ArgumentOutOfRangeException(nameof(settings), settings.MaxSize, $"max-size {settings.MaxSize} exceeds the segment's largest message, {writer.MaxMessageLength} bytes.");
        byte[] buffer = new byte[settings.MaxSize];
        BurstPacer? pacer = settings.CreatePacer();
        long messages = settings.Messages;
        long written = 0;
        long bytes = 0;
        string? error = null;
        long start = Stopwatch.GetTimestamp();
        try
        {
            for (long sequence = 0; sequence < messages; sequence++)
            {
                Span<byte> message = buffer.AsSpan(0, StressMessage.SizeFor(settings.Seed, sequence, settings.MinSize, settings.MaxSize));
                StressMessage.Encode(message, settings.Seed, sequence, Stopwatch.GetTimestamp());
                if (!writer.TryWrite(message, settings.WriteTimeout, cancellationToken))
                {
                    error = $"no room for {settings.WriteTimeout.TotalMilliseconds:0} ms after {written} of {messages} were written: the consumer stopped";
                    break;
                }
                written++;
                bytes += message.Length;
                pacer?.AfterMessage(sequence + 1 < messages);
            }
        }
        catch (RingException e)
        {
            error = $"{e.GetType().Name}: {e.Message}";
        }
        return new WorkerResult
        {
            Role = "producer",
            Messages = written,
            Bytes = bytes,
            ElapsedS = Math.Round(Stopwatch.GetElapsedTime(start).TotalSeconds, 3),
            Pauses = pacer?.Pauses ?? 0,
            Error = error,
        };
    }
}
