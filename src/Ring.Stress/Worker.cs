namespace Ring.Stress;

/// <summary>
/// One worker process: attaches to an existing segment of either kind, plays one end of its ring (for an
/// MPMC ring, one of several producers or consumers), prints one JSON result line. A coordinator creates the
/// segments, starts workers — and kills them, or lets a <see cref="FaultPlan"/> make them die at a chosen
/// point — and reads their lines. A worker that dies prints nothing.
/// </summary>
public static class Worker
{
    /// <summary>The run finished with no violation.</summary>
    public const int ExitOk = 0;

    /// <summary>The run saw a violation (lost, duplicated, reordered or corrupted messages, a lost wake-up) or stopped on a ring error.</summary>
    public const int ExitViolations = 1;

    /// <summary>The command line was wrong (System.CommandLine's errors, sizes the segment cannot carry, or a fault plan for the other role).</summary>
    public const int ExitUsage = 2;

    /// <summary>The worker could not attach: no such segment, or its role is held by a live process.</summary>
    public const int ExitAttachFailed = 3;

    /// <summary>Runs the worker; the result line goes to <paramref name="output"/>, diagnostics to <paramref name="error"/>.</summary>
    public static int Run(WorkerSettings settings, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        foreach (FaultPlan fault in settings.Faults)
        {
            if (fault.IsProducerPoint == (settings.Role == WorkerRole.Producer)) continue;
            error.WriteLine($"worker: the fault point {fault.PointName} is a {(fault.IsProducerPoint ? "producer" : "consumer")} point; this worker is a {settings.Role.ToString().ToLowerInvariant()}.");
            return ExitUsage;
        }
        RingSegment segment;
        try
        {
            segment = RingSegment.Open(settings.Segment);
        }
        catch (Exception e) when (e is RingException or UnauthorizedAccessException or ArgumentException)
        {
            error.WriteLine($"worker: cannot open segment '{settings.Segment}': {e.Message}");
            return ExitAttachFailed;
        }
        using (segment)
        {
            if (settings.MaxSize > segment.MaxMessageLength)
            {
                error.WriteLine($"worker: --max-size {settings.MaxSize} exceeds the largest message segment '{settings.Segment}' carries ({segment.MaxMessageLength} bytes).");
                return ExitUsage;
            }
            WorkerResult result;
            try
            {
                if (settings.Role == WorkerRole.Producer)
                {
                    using RingWriter writer = segment.CreateWriter(settings.Wait, settings.PeerLoss);
                    result = StressProducer.Run(writer, settings, cancellationToken, error);
                }
                else
                {
                    using RingReader reader = segment.CreateReader(settings.Wait, settings.PeerLoss);
                    result = StressConsumer.Run(reader, settings, cancellationToken, error);
                }
            }
            catch (RingRoleTakenException e)
            {
                error.WriteLine($"worker: {e.Message}");
                return ExitAttachFailed;
            }
            output.WriteLine(result.ToJson());
            output.Flush();
            if (result.Error is not null) error.WriteLine($"worker: {result.Error}");
            return result.HasViolations ? ExitViolations : ExitOk;
        }
    }
}
