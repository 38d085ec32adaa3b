namespace Ring.Stress;

/// <summary>
/// The verdict of a broadcast run, from what each subscriber incarnation left in the <see cref="Ledger"/>. What the
/// ledger can prove, and so what is checked:
/// <list type="bullet">
/// <item>Every subscriber, killed or not, for every message it got: intact, and at the index its stream owed it —
/// one past the previous, plus exactly the losses the laps since reported (a subscriber counts skipped, misreported,
/// duplicated, reordered and corrupted messages as they come; each is a violation). Under Block a lap is a violation
/// too, except one in the history a subscriber from Oldest reads before its join (that history is not waited for).</item>
/// <item>Where a subscriber's stream began: from the tail, within the messages published while it joined (the
/// ledger's count before and after the join, plus the one a publisher may have committed and not recorded yet);
/// from Oldest, not past that.</item>
/// <item>A subscriber that read to the end (it was not killed): it got to the last message published, and the
/// messages it got plus those its laps reported lost are exactly the messages from its start to there. Not for a
/// killed one: its ledger stores may stop between two of them, so only its per-message checks stand.</item>
/// <item>The ring's own count of messages written equals the publishers' count (the last publisher finished).</item>
/// </list>
/// </summary>
public static class BroadcastAudit
{
    /// <summary>Completes <paramref name="outline"/> (the run's settings, faults, time and the counters every kind shares) with the broadcast accounting, adding to <paramref name="violations"/>.</summary>
    public static EngineResult Run(EngineSettings settings, Ledger ledger, SegmentStatus ring, EngineResult outline, List<string> violations)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(ring);
        ArgumentNullException.ThrowIfNull(outline);
        ArgumentNullException.ThrowIfNull(violations);
        bool overwrite = settings.Overflow == BroadcastOverflow.Overwrite;
        long published = ledger.Published;
        if (ring.MessagesWritten != published)
            violations.Add($"the ring counts {ring.MessagesWritten} messages written, the publishers recorded {published}");
        if (published == 0) violations.Add("no message was published");
        long joined = 0, finished = 0, laps = 0, lostToLaps = 0;
        for (int slot = 0; slot < ledger.ConsumerSlotsUsed; slot++)
        {
            long joinedAs = Volatile.Read(ref ledger.Subscriber(slot, SubscriberField.Joined));
            if (joinedAs == 0) continue; // killed before it joined
            joined++;
            SubscribeFrom from = (SubscribeFrom)(joinedAs - 1);
            long before = ledger.Subscriber(slot, SubscriberField.PublishedBeforeJoin);
            long after = ledger.Subscriber(slot, SubscriberField.PublishedAfterJoin);
            long start = ledger.Subscriber(slot, SubscriberField.Start);
            long next = ledger.Subscriber(slot, SubscriberField.Next);
            long lost = ledger.Subscriber(slot, SubscriberField.LostToLaps);
            bool readToTheEnd = Volatile.Read(ref ledger.Subscriber(slot, SubscriberField.Finished)) != 0;
            laps += ledger.Subscriber(slot, SubscriberField.Laps);
            lostToLaps += lost;
            if (readToTheEnd) finished++;
            string who = $"subscriber {slot} (from {(from == SubscribeFrom.Oldest ? "oldest" : "tail")}, joined at {before}..{after} published)";
            if (start < 0)
            {
                // The ring held at most after + 1 messages at the join; from the tail, every later one is owed.
                if (readToTheEnd && published > after + 1) violations.Add($"{who} got nothing of the {published} published");
                continue;
            }
            // A lap before the first message may report one more than was lost when the join read the tail's sequence as a lower bound.
            long earliest = from == SubscribeFrom.Oldest ? 0 : before - (overwrite ? 1 : 0);
            if (start < earliest || start > after + 1) violations.Add($"{who} began its stream at {start}");
            if (!readToTheEnd) continue;
            long delivered = ledger.ConsumerCounter(slot, ConsumerCounterKind.Delivered);
            if (next != published) violations.Add($"{who} read to the end at {next} of {published} published");
            if (delivered + lost != next - start)
                violations.Add($"{who} got {delivered} and was told of {lost} lost, but {next - start} were published from its start {start} to its end");
        }
        long skipped = StressEngine.SumOfViolations(ledger, ConsumerCounterKind.Skipped, "messages skipped with no lap reported", violations);
        long misreported = StressEngine.SumOfViolations(ledger, ConsumerCounterKind.Misreported, "messages between where laps' reported losses put the next message and where it was", violations);
        StressEngine.SumOfViolations(ledger, ConsumerCounterKind.LappedWhereBlockWaits, "laps under Block where the publisher must wait for the subscriber", violations);
        // Pauses and slow subscribers are there to be lapped: a run without a lap proved nothing about the reported losses.
        if (overwrite && (settings.PauseInterval is not null || settings.SlowSubscribers > 0) && laps == 0)
            violations.Add("no subscriber was lapped, so no reported loss was checked");
        return outline with
        {
            Overflow = overwrite ? "overwrite" : "block",
            MessagesCommitted = published,
            Verified = ledger.SumConsumers(ConsumerCounterKind.Delivered),
            Lost = skipped,
            SubscribersJoined = joined,
            SubscribersFinished = finished,
            Laps = laps,
            LostToLaps = lostToLaps,
            LapsMisreported = misreported,
            HistoryDelivered = ledger.SumConsumers(ConsumerCounterKind.History),
            MsgsPerS = Math.Round(ledger.SumConsumers(ConsumerCounterKind.Delivered) / Math.Max(outline.ElapsedS, 1e-9)),
        };
    }
}
