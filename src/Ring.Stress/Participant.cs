using System.Diagnostics;

namespace Ring.Stress;

/// <summary>
/// What stands between the ring and the verifier in a consumer: the real one passes each message on
/// untouched; tests inject a broken one (dropping or duplicating messages) to prove that a stress run can fail.
/// </summary>
public interface IDeliveryFilter
{
    /// <summary>Hands <paramref name="message"/> to <paramref name="verify"/> (or, when broken, does not, or does twice).</summary>
    void Deliver(ReadOnlySpan<byte> message, RingMessageHandler verify);
}

/// <summary>The identity filter.</summary>
public sealed class PassThroughFilter : IDeliveryFilter
{
    /// <summary>The one instance.</summary>
    public static readonly PassThroughFilter Instance = new();

    /// <inheritdoc/>
    public void Deliver(ReadOnlySpan<byte> message, RingMessageHandler verify) => verify(message);
}

/// <summary>What every participant of one run agrees on.</summary>
public sealed record ParticipantSettings
{
    /// <summary>The ring's kind: decides whether a re-read after a consumer's death is allowed (SPSC) or a duplicate (MPMC).</summary>
    public required RingKind Kind { get; init; }

    /// <summary>Seed of sizes and payloads.</summary>
    public required ulong Seed { get; init; }

    /// <summary>Smallest message (at least the 24-byte prefix).</summary>
    public required int MinSize { get; init; }

    /// <summary>Largest message.</summary>
    public required int MaxSize { get; init; }

    /// <summary>How endpoints wait.</summary>
    public required WaitStrategy Wait { get; init; }
}

/// <summary>
/// The producer and consumer loops of a stress run, the same in a thread and in a worker process; everything
/// they observe goes into the <see cref="Ledger"/>.
/// </summary>
public static class Participant
{
    /// <summary>How long one wait lasts before a participant re-checks the ledger's stop flags.</summary>
    internal static readonly TimeSpan PollSlice = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Sends until the ledger's budget is spent or <see cref="Ledger.StopProducers"/> is set. Each message is
    /// claimed, encoded in place and committed (zero-copy, so a SIGKILL can land between claim and commit),
    /// then its count recorded in the ledger. After <see cref="Ledger.SequencesPerId"/> messages the producer
    /// finishes its id and takes a fresh one, as a restarted producer does.
    /// </summary>
    public static void Produce(RingWriter writer, Ledger ledger, ParticipantSettings settings)
    {
        int id = ledger.NewProducerId();
        long sequence = 0;
        while (!ledger.StopProducers && ledger.TakeTicket())
        {
            int size = StressMessage.SizeFor(settings.Seed, id, sequence, settings.MinSize, settings.MaxSize);
            if (!TryClaimUntilStopped(writer, ledger, size, out Span<byte> claimed)) break;
            StressMessage.Encode(claimed, settings.Seed, id, sequence, Stopwatch.GetTimestamp());
            writer.Commit();
            ledger.SetCommitted(id, ++sequence);
            if (sequence == ledger.SequencesPerId)
            {
                ledger.Finish(id);
                id = ledger.NewProducerId();
                sequence = 0;
            }
        }
        ledger.Finish(id);
    }

    /// <summary>
    /// Claims room for a message of <paramref name="size"/> bytes, waiting for it in slices so a stop is seen; false
    /// (with the ticket given back: nothing was sent) once <see cref="Ledger.StopProducers"/> is set first.
    /// </summary>
    internal static bool TryClaimUntilStopped(RingWriter writer, Ledger ledger, int size, out Span<byte> claimed)
    {
        while (!writer.TryClaim(size, out claimed))
        {
            if (ledger.StopProducers)
            {
                ledger.ReturnTicket();
                return false;
            }
            writer.WaitToWrite(size, PollSlice);
        }
        return true;
    }

    /// <summary>
    /// Reads until <see cref="Ledger.StopConsumers"/> is set and the ring is empty, checking each message
    /// (through <paramref name="filter"/>) and marking it in the ledger: HELD inside the read handler, DONE
    /// once the read call returned. A message already HELD is a duplicate, except the very first message an
    /// SPSC consumer reads when it was left HELD-not-DONE: that is the one its killed predecessor was reading,
    /// which SPSC redelivers by design (Head moves only after a read completes).
    /// </summary>
    public static void Consume(RingReader reader, Ledger ledger, ParticipantSettings settings, IDeliveryFilter? filter = null)
    {
        filter ??= PassThroughFilter.Instance;
        int slot = ledger.NewConsumerSlot();
        long[] last = new long[ledger.ProducerIds];
        Array.Fill(last, -1);
        bool first = true;
        int pendingId = -1;
        long pendingSequence = -1;
        RingMessageHandler verify = message =>
        {
            ledger.ConsumerCounter(slot, ConsumerCounterKind.Received)++;
            ledger.ConsumerCounter(slot, ConsumerCounterKind.Bytes) += message.Length;
            if (!StressMessage.IsIntact(message, settings.Seed, settings.MinSize, settings.MaxSize, out int id, out long sequence)
                || id >= ledger.ProducerIds
                || sequence >= ledger.SequencesPerId)
            {
                ledger.ConsumerCounter(slot, ConsumerCounterKind.Corrupted)++;
                return;
            }
            ulong before = ledger.Mark(id, sequence, Ledger.Held);
            if ((before & Ledger.Held) != 0)
            {
                bool redelivery = settings.Kind == RingKind.Spsc && first && (before & Ledger.Done) == 0;
                ledger.ConsumerCounter(slot, redelivery ? ConsumerCounterKind.Redelivered : ConsumerCounterKind.Duplicated)++;
            }
            else if (sequence <= last[id])
            {
                ledger.ConsumerCounter(slot, ConsumerCounterKind.Reordered)++;
            }
            if (sequence > last[id]) last[id] = sequence;
            first = false;
            pendingId = id;
            pendingSequence = sequence;
        };
        RingMessageHandler handler = message => filter.Deliver(message, verify);
        while (true)
        {
            if (reader.TryRead(handler))
            {
                if (pendingId >= 0) ledger.Mark(pendingId, pendingSequence, Ledger.Done);
                pendingId = -1;
                continue;
            }
            if (ledger.StopConsumers) break;
            reader.WaitToRead(PollSlice);
        }
    }
}
