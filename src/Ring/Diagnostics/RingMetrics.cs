using System.Diagnostics.Metrics;

namespace Ring;

/// <summary>
/// The <c>Ring</c> meter: observable instruments over every segment open in this process, each measurement tagged
/// <c>ring.segment</c> (the name it was opened with) and <c>ring.kind</c> (<c>spsc</c> or <c>mpmc</c>). Nothing is
/// counted on a fast path: the rings already keep these counters in the segment header and in the participant
/// entries, and a collection reads them there. So the values are ring-wide, shared by every process attached to
/// the ring and not this process's share of them, and every process attached reports the same numbers.
/// <para>
/// A segment joins the registry when it is created or opened and leaves it first thing in its <c>Dispose</c>,
/// under the lock a collection holds while it reads, so a callback never reads a segment whose file or mapping
/// is being released. Two segments of one process attached to the same file carry the same tags, so only the
/// first is reported.
/// </para>
/// </summary>
internal static class RingMetrics
{
    public const string MeterName = "Ring";

    private static readonly List<Observed> s_open = [];
    private static readonly Meter s_meter = CreateMeter();

    /// <summary>Reports the segment from now on; its construction has finished.</summary>
    public static void Track(RingSegment segment)
    {
        Observed observed = new(segment);
        lock (s_open) s_open.Add(observed);
    }

    /// <summary>Stops reporting the segment; returns once no collection is reading it.</summary>
    public static void Untrack(RingSegment segment)
    {
        lock (s_open)
        {
            int index = s_open.FindIndex(observed => observed.Segment == segment);
            if (index >= 0) s_open.RemoveAt(index);
        }
    }

    private static Meter CreateMeter()
    {
        Meter meter = new(MeterName);
        Counter(meter, "ring.messages.written", "{message}", "Messages committed to the ring since it was created, by every process.",
            static s => StatusSnapshot.Total(s.Buffer, SegmentLayout.MessagesWrittenOffset, SegmentLayout.EntryMessagesWrittenOffset));
        Counter(meter, "ring.bytes.written", "By", "Payload bytes committed to the ring since it was created, by every process.",
            static s => StatusSnapshot.Total(s.Buffer, SegmentLayout.BytesWrittenOffset, SegmentLayout.EntryBytesWrittenOffset));
        Counter(meter, "ring.messages.read", "{message}", "Messages consumed from the ring since it was created, by every process.",
            static s => StatusSnapshot.Total(s.Buffer, SegmentLayout.MessagesReadOffset, SegmentLayout.EntryMessagesReadOffset));
        Counter(meter, "ring.bytes.read", "By", "Payload bytes consumed from the ring since it was created, by every process.",
            static s => StatusSnapshot.Total(s.Buffer, SegmentLayout.BytesReadOffset, SegmentLayout.EntryBytesReadOffset));
        Counter(meter, "ring.full_events", "{event}", "Writes that found the ring full, by every process.",
            static s => StatusSnapshot.Total(s.Buffer, SegmentLayout.FullEventsOffset, SegmentLayout.EntryFullEventsOffset));
        Counter(meter, "ring.empty_events", "{event}", "Reads that found the ring empty, by every process.",
            static s => StatusSnapshot.Total(s.Buffer, SegmentLayout.EmptyEventsOffset, SegmentLayout.EntryEmptyEventsOffset));
        Counter(meter, "ring.sleeps", "{sleep}", "Times a writer or reader of the ring went to sleep in the kernel, in every process.",
            static s => StatusSnapshot.Sleeps(s.Buffer));
        Counter(meter, "ring.wakes", "{wake}", "FUTEX_WAKE calls made for the ring because someone was asleep, by every process.",
            static s => StatusSnapshot.Wakes(s.Buffer));
        Counter(meter, "ring.recoveries", "{position}", "Positions a dead participant held and another one completed for it.",
            static s => s.Buffer.ReadInt64Acquire(SegmentLayout.RecoveriesOffset));
        Counter(meter, "ring.lost_in_delivery", "{message}", "Messages a consumer took and died before finishing with: never delivered twice.",
            static s => s.Buffer.ReadInt64Acquire(SegmentLayout.LostInDeliveryOffset));
        meter.CreateObservableUpDownCounter("ring.messages.in_ring", () => Observe(StatusSnapshot.MessagesInRing), "{message}",
            "Messages committed and not yet read.");
        meter.CreateObservableUpDownCounter("ring.participants.alive", ObserveParticipants, "{participant}",
            "Writers (ring.role=producer) and readers (ring.role=consumer) attached to the ring and alive, in every process.");
        return meter;
    }

    private static void Counter(Meter meter, string name, string unit, string description, Func<RingSegment, long> read) =>
        meter.CreateObservableCounter(name, () => Observe(read), unit, description);

    private static List<Measurement<long>> Observe(Func<RingSegment, long> read)
    {
        lock (s_open)
        {
            List<Measurement<long>> measurements = new(s_open.Count);
            for (int index = 0; index < s_open.Count; index++)
            {
                if (IsFirstWithItsPath(index)) measurements.Add(new Measurement<long>(read(s_open[index].Segment), s_open[index].Tags));
            }
            return measurements;
        }
    }

    /// <summary>Liveness costs a lock query per participant, so one pass over the table serves both roles.</summary>
    private static List<Measurement<long>> ObserveParticipants()
    {
        lock (s_open)
        {
            List<Measurement<long>> measurements = new(2 * s_open.Count);
            for (int index = 0; index < s_open.Count; index++)
            {
                if (!IsFirstWithItsPath(index)) continue;
                Observed observed = s_open[index];
                int producers = 0, consumers = 0;
                foreach (ParticipantStatus participant in observed.Segment.ReadParticipants())
                {
                    if (!participant.IsAlive) continue;
                    if ((participant.Roles & RingRole.Producer) != 0) producers++;
                    if ((participant.Roles & RingRole.Consumer) != 0) consumers++;
                }
                measurements.Add(new Measurement<long>(producers, observed.ProducerTags));
                measurements.Add(new Measurement<long>(consumers, observed.ConsumerTags));
            }
            return measurements;
        }
    }

    private static bool IsFirstWithItsPath(int index)
    {
        for (int earlier = 0; earlier < index; earlier++)
        {
            if (s_open[earlier].Segment.Path == s_open[index].Segment.Path) return false;
        }
        return true;
    }

    /// <summary>A registered segment and its tag sets, built once.</summary>
    private sealed class Observed(RingSegment segment)
    {
        private static readonly KeyValuePair<string, object?> ProducerRole = new("ring.role", "producer");
        private static readonly KeyValuePair<string, object?> ConsumerRole = new("ring.role", "consumer");

        public RingSegment Segment => segment;

        public KeyValuePair<string, object?>[] Tags { get; } = [SegmentTag(segment), KindTag(segment)];

        public KeyValuePair<string, object?>[] ProducerTags { get; } = [SegmentTag(segment), KindTag(segment), ProducerRole];

        public KeyValuePair<string, object?>[] ConsumerTags { get; } = [SegmentTag(segment), KindTag(segment), ConsumerRole];

        private static KeyValuePair<string, object?> SegmentTag(RingSegment segment) => new("ring.segment", segment.Name);

        private static KeyValuePair<string, object?> KindTag(RingSegment segment) =>
            new("ring.kind", segment.Kind switch { RingKind.Mpmc => "mpmc", RingKind.Broadcast => "broadcast", _ => "spsc" });
    }
}
