namespace Ring;

/// <summary>Deliberate protocol errors the integrity tests must catch; see <see cref="ISharedMemory.Mutation"/>.</summary>
internal enum ProtocolMutation
{
    None,

    /// <summary>A waiter registers on the eventcount and sleeps without re-checking its condition.</summary>
    SkipRecheckBeforeSleep,

    /// <summary>The SPSC producer computes the bytes in use modulo the capacity, so a full ring looks empty.</summary>
    UsedBytesModuloCapacity,

    /// <summary>
    /// The SPSC producer publishes the tail with a release store and no fence, so its load of the readers' waiter
    /// count can pass the store: a reader registering at that moment sleeps through the message. Invisible to a
    /// sequentially consistent scheduler; the lost-wake-up detector on real cores must catch it.
    /// </summary>
    PublishTailWithoutFence,

    /// <summary>The SPSC consumer's counterpart of <see cref="PublishTailWithoutFence"/>: the head, against a writer waiting for room.</summary>
    PublishHeadWithoutFence,

    /// <summary>
    /// A reader reports the end of the stream as soon as it has seen the completion, without first reading the
    /// messages committed before it.
    /// </summary>
    CompletedBeforeDrained,

    /// <summary>The broadcast publisher under Block never looks at the subscribers' cursors: it reuses space they have not read.</summary>
    PublisherIgnoresGate,

    /// <summary>
    /// The SPSC producer stores the tail as each record enters a batch, before the record's header and payload: the
    /// record is visible unpublished and half-written.
    /// </summary>
    BatchTailBeforeRecord,
}
