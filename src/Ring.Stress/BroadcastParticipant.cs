using System.Diagnostics;

namespace Ring.Stress;

/// <summary>
/// The publisher and subscriber loops of a broadcast stress run, in a thread or a worker process. One stream runs
/// through every publisher incarnation: each message is stamped with its index in it (the stress sequence), and with
/// the producer id of the incarnation that published it (which keys its payload). So every subscriber can check its
/// whole stream on its own, message by message, and leave in the <see cref="Ledger"/> only what the audit reconciles.
/// </summary>
public static class BroadcastParticipant
{
    /// <summary>
    /// Publishes until the budget is spent or <see cref="Ledger.StopProducers"/> is set, claim-encode-commit, then
    /// records <see cref="Ledger.Published"/>. A successor starts at the ring's own count of messages written: the
    /// ledger's count, or one more when its predecessor was killed between a commit and the ledger store (anything
    /// else is a violation, thrown: the ring and the publishers disagree on how many messages there are).
    /// </summary>
    public static void Publish(RingSegment segment, RingWriter writer, Ledger ledger, ParticipantSettings settings)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(settings);
        int id = ledger.NewProducerId();
        long recorded = ledger.Published;
        long index = segment.GetStatus().MessagesWritten; // read after the writer attached: it recounts the records a predecessor left
        bool predecessorKilled = id > 0 && !ledger.IsFinished(id - 1);
        if (index < recorded || index > recorded + (predecessorKilled ? 1 : 0))
        {
            ledger.Finish(id);
            throw new InvalidOperationException(
                $"publisher {id} took over a ring that counts {index} messages written; the publishers before it recorded {recorded} (the last one {(predecessorKilled ? "killed" : "finished")})");
        }
        ledger.Published = index;
        long count = 0;
        while (!ledger.StopProducers && ledger.TakeTicket())
        {
            int size = StressMessage.SizeFor(settings.Seed, id, index, settings.MinSize, settings.MaxSize);
            if (!Participant.TryClaimUntilStopped(writer, ledger, size, out Span<byte> claimed)) break;
            StressMessage.Encode(claimed, settings.Seed, id, index, Stopwatch.GetTimestamp());
            writer.Commit();
            ledger.Published = ++index;
            ledger.SetCommitted(id, ++count);
        }
        ledger.Finish(id);
    }

    /// <summary>
    /// Joins <paramref name="segment"/> from <paramref name="from"/> and reads until <see cref="Ledger.StopConsumers"/>
    /// is set and a read then finds nothing (the publishers have stopped before, so that is the tail). Every message
    /// goes through <paramref name="filter"/> to the check: intact (length, CRC-32, payload regenerated from the seed,
    /// producer id and index), and exactly at the index the stream owes it — one past the previous, plus what the laps
    /// reported since. Anything else is counted as the violation it is (<see cref="ConsumerCounterKind"/>). A
    /// <paramref name="slow"/> subscriber pauses a millisecond or two every few hundred messages, so an Overwrite
    /// publisher laps it.
    /// </summary>
    public static void Subscribe(RingSegment segment, SubscribeFrom from, Ledger ledger, ParticipantSettings settings, IDeliveryFilter? filter = null, bool slow = false)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(settings);
        filter ??= PassThroughFilter.Instance;
        int slot = ledger.NewConsumerSlot();
        ledger.Subscriber(slot, SubscriberField.Start) = -1;
        ledger.Subscriber(slot, SubscriberField.Next) = -1;
        long before = ledger.Published;
        using RingReader reader = segment.CreateSubscriber(from, settings.Wait);
        long after = ledger.Published;
        ledger.Subscriber(slot, SubscriberField.PublishedBeforeJoin) = before;
        ledger.Subscriber(slot, SubscriberField.PublishedAfterJoin) = after;
        Volatile.Write(ref ledger.Subscriber(slot, SubscriberField.Joined), 1 + (long)from);
        // Under Block only history (below the join) may be lapped; a subscriber from the tail has none.
        bool lapAllowedOnlyBelowJoin = segment.Overflow == BroadcastOverflow.Block;
        long historyEnd = from == SubscribeFrom.Oldest ? after + 1 : long.MinValue;
        BurstPacer? pacer = slow ? new BurstPacer(new IntRange(64, 256), new IntRange(1, 2), settings.Seed ^ (ulong)slot) : null;
        long next = -1;
        long lostSinceDelivery = 0;
        int lastProducer = -1;
        RingMessageHandler verify = message =>
        {
            ledger.ConsumerCounter(slot, ConsumerCounterKind.Received)++;
            ledger.ConsumerCounter(slot, ConsumerCounterKind.Bytes) += message.Length;
            if (!StressMessage.IsIntact(message, settings.Seed, settings.MinSize, settings.MaxSize, out int producer, out long index)
                || producer >= ledger.ProducerIds)
            {
                ledger.ConsumerCounter(slot, ConsumerCounterKind.Corrupted)++;
                return;
            }
            if (next >= 0 && index < next)
            {
                ledger.ConsumerCounter(slot, index == next - 1 ? ConsumerCounterKind.Duplicated : ConsumerCounterKind.Reordered)++;
                return;
            }
            if (producer < lastProducer) ledger.ConsumerCounter(slot, ConsumerCounterKind.Reordered)++; // an older publisher's message after a newer one's
            if (next < 0)
            {
                ledger.Subscriber(slot, SubscriberField.Start) = index - lostSinceDelivery;
            }
            else if (index != next + lostSinceDelivery)
            {
                if (lostSinceDelivery == 0) ledger.ConsumerCounter(slot, ConsumerCounterKind.Skipped) += index - next;
                else ledger.ConsumerCounter(slot, ConsumerCounterKind.Misreported) += Math.Abs(index - (next + lostSinceDelivery));
            }
            if (lostSinceDelivery != 0)
            {
                if (lapAllowedOnlyBelowJoin && index > historyEnd) ledger.ConsumerCounter(slot, ConsumerCounterKind.LappedWhereBlockWaits)++;
                ledger.Subscriber(slot, SubscriberField.LostToLaps) += lostSinceDelivery;
                lostSinceDelivery = 0;
            }
            next = index + 1;
            lastProducer = producer;
            ledger.Subscriber(slot, SubscriberField.Next) = next;
            ledger.ConsumerCounter(slot, ConsumerCounterKind.Delivered)++;
            if (index < before) ledger.ConsumerCounter(slot, ConsumerCounterKind.History)++;
        };
        RingMessageHandler handler = message => filter.Deliver(message, verify);
        while (true)
        {
            // Read before acting on the stop: a read that found nothing before the last publish must not end the stream.
            bool stopping = ledger.StopConsumers;
            try
            {
                if (reader.TryRead(handler))
                {
                    pacer?.AfterMessage(more: true);
                    continue;
                }
            }
            catch (RingLappedException lapped)
            {
                ledger.Subscriber(slot, SubscriberField.Laps)++;
                lostSinceDelivery += lapped.LostMessages;
                continue;
            }
            if (stopping) break;
            reader.WaitToRead(Participant.PollSlice);
        }
        Volatile.Write(ref ledger.Subscriber(slot, SubscriberField.Finished), 1);
    }
}
