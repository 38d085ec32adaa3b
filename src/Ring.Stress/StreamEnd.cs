namespace Ring.Stress;

/// <summary>How a worker's stream ended: the words of <see cref="WorkerResult.Completion"/>.</summary>
public static class StreamEnd
{
    /// <summary>The ring was completed (<see cref="RingWriter.Complete()"/>).</summary>
    public const string Completed = "completed";

    /// <summary>Every process at the other end was gone (<see cref="PeerLoss.Complete"/>).</summary>
    public const string PeerLost = "peer-lost";

    /// <summary>The word for the end <paramref name="ended"/> reports.</summary>
    public static string Of(RingCompletedException ended)
    {
        ArgumentNullException.ThrowIfNull(ended);
        return ended is RingPeerLostException ? PeerLost : Completed;
    }

    /// <summary>"completed: REASON", "peer-lost: REASON", or the word alone when there is no reason.</summary>
    public static string Describe(RingCompletedException ended)
    {
        ArgumentNullException.ThrowIfNull(ended);
        return ended.Reason is null ? Of(ended) : $"{Of(ended)}: {ended.Reason}";
    }
}
