using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ring.Stress;

/// <summary>
/// What one stress run found. The accounting, per producer id (each producer incarnation has its own):
/// <list type="bullet">
/// <item><b>committed</b>: for an id its producer finished, the count it recorded after its last commit (exact);
/// for an id whose producer was killed, one past the highest sequence any consumer took (or the recorded count
/// if higher). Every committed message stays in the ring until read, and the run drains the ring, so a
/// committed message of a killed producer is always seen; what it claimed and never committed is invisible
/// by design and is not counted. Cross-check: the ring's own MessagesWritten may exceed this by at most one
/// per killed producer (the library counts just before it publishes).</item>
/// <item><b>verified</b>: taken intact by a consumer whose read call then returned.</item>
/// <item><b>lost_in_delivery</b>: taken by a consumer that was killed before its read returned, and never
/// re-read. MPMC: at-most-once, the ring counts it in LostInDelivery when a producer laps its slot (so the
/// ring's counter may lag ours); also counted here are messages the ring says a dead consumer claimed
/// before its handler ran (ring counter above ours, and missing). At most one per killed consumer.
/// SPSC: the successor re-reads the message (<b>redelivered_after_crash</b>, by design at-least-once);
/// it stays lost-in-delivery only if the kill fell after the ring moved Head and before the ledger recorded
/// the read's completion, so it was in fact delivered intact; the ring's counter stays 0.</item>
/// <item><b>lost</b>: committed and never taken intact (and not explained above): a violation.</item>
/// <item><b>duplicated</b>, <b>reordered</b>, <b>corrupted</b>: see <see cref="ConsumerCounterKind"/>; violations.</item>
/// </list>
/// A broadcast run counts per subscriber instead (see <see cref="BroadcastAudit"/>): committed is the publishers'
/// stream, verified the sum over subscriber incarnations of the messages each got where its stream owed them, lost
/// the messages one skipped with no lap reported.
/// </summary>
public sealed record EngineResult
{
    /// <summary>Phase label.</summary>
    public required string Name { get; init; }
    /// <summary>spsc, mpmc or broadcast.</summary>
    public required string Kind { get; init; }
    /// <summary>threads or processes.</summary>
    public required string Mode { get; init; }
    /// <summary>The wait strategy, as <c>--wait</c> spells it: busy-spin, spin-then-yield, spin-then-block or block.</summary>
    public required string Wait { get; init; }
    /// <summary>Producers at a time.</summary>
    public int Producers { get; init; }
    /// <summary>Consumers at a time.</summary>
    public int Consumers { get; init; }
    /// <summary>Smallest message.</summary>
    public int MinSize { get; init; }
    /// <summary>Largest message.</summary>
    public int MaxSize { get; init; }
    /// <summary>Messages producers set out to send (tickets taken and not given back).</summary>
    public long MessagesSent { get; init; }
    /// <summary>Messages committed (see the class summary).</summary>
    public long MessagesCommitted { get; init; }
    /// <summary>
    /// Messages handed to a verifier, including duplicates, redeliveries, corrupted ones, and ones a consumer was
    /// killed verifying before it could mark them (SPSC re-reads those; they then count once in verified).
    /// </summary>
    public long MessagesReceived { get; init; }
    /// <summary>Committed messages taken intact exactly once whose read completed.</summary>
    public long Verified { get; init; }
    /// <summary>Payload bytes received.</summary>
    public long BytesReceived { get; init; }
    /// <summary>Committed, never taken intact: violation.</summary>
    public long Lost { get; init; }
    /// <summary>Held by a killed consumer and never completed by anyone.</summary>
    public long LostInDelivery { get; init; }
    /// <summary>The ring's own LostInDelivery counter.</summary>
    public long RingLostInDelivery { get; init; }
    /// <summary>SPSC: re-read by the successor of a consumer killed while reading it.</summary>
    public long RedeliveredAfterCrash { get; init; }
    /// <summary>Violation.</summary>
    public long Duplicated { get; init; }
    /// <summary>Violation.</summary>
    public long Corrupted { get; init; }
    /// <summary>Violation.</summary>
    public long Reordered { get; init; }
    /// <summary>The ring's MessagesWritten.</summary>
    public long RingMessagesWritten { get; init; }
    /// <summary>
    /// The ring's MessagesInRing after the drain, when Tail = Head. Reported because for SPSC it is derived from
    /// counters that a kill between counting and publishing leaves off by one, so it need not be 0 here.
    /// </summary>
    public long RingMessagesInRingAfterDrain { get; init; }
    /// <summary>Producer ids (incarnations) used.</summary>
    public int ProducerIds { get; init; }
    /// <summary>SIGKILLs with replacement.</summary>
    public long Kills { get; init; }
    /// <summary>SIGKILLs of consumers.</summary>
    public long ConsumerKills { get; init; }
    /// <summary>SIGKILLs of producers.</summary>
    public long ProducerKills { get; init; }
    /// <summary>SIGSTOP/SIGCONT pauses.</summary>
    public long Pauses { get; init; }
    /// <summary>Kills plus pauses.</summary>
    public long FaultsInjected { get; init; }
    /// <summary>The ring's Recoveries counter.</summary>
    public long Recoveries { get; init; }
    /// <summary>Broadcast: block or overwrite; null for the other kinds.</summary>
    public string? Overflow { get; init; }
    /// <summary>Broadcast: subscriber incarnations that joined (replacements included).</summary>
    public long SubscribersJoined { get; init; }
    /// <summary>Broadcast: those that read to the end of the run; the others were killed.</summary>
    public long SubscribersFinished { get; init; }
    /// <summary>Broadcast: laps reported to subscribers (<see cref="RingLappedException"/>).</summary>
    public long Laps { get; init; }
    /// <summary>Broadcast: the messages those laps reported lost.</summary>
    public long LostToLaps { get; init; }
    /// <summary>Broadcast: summed distance between where a lap's reported loss put the next message and where it was: violation.</summary>
    public long LapsMisreported { get; init; }
    /// <summary>Broadcast: messages from before their join that subscribers starting at Oldest got.</summary>
    public long HistoryDelivered { get; init; }
    /// <summary>Wall time of the sending and draining.</summary>
    public double ElapsedS { get; init; }
    /// <summary>Verified messages per second.</summary>
    public double MsgsPerS { get; init; }
    /// <summary>Every violation, spelled out; empty when the run passed.</summary>
    public required IReadOnlyList<string> Violations { get; init; }
    /// <summary>True when there was no violation.</summary>
    public bool Ok => Violations.Count == 0;

    /// <summary>The one-line human summary (the process runs with the invariant culture: InvariantGlobalization).</summary>
    public string Summary() => Overflow is not null ? BroadcastSummary() : string.Concat(
        $"{(Ok ? "PASS" : "FAIL")} {Name}: {Kind}/{Mode}/{Wait} {Producers}p{Consumers}c {MinSize}..{MaxSize} B: ",
        $"committed {MessagesCommitted:N0}, verified {Verified:N0} ({MsgsPerS:N0}/s over {ElapsedS:0.0} s), lost {Lost}, lost_in_delivery {LostInDelivery} (ring {RingLostInDelivery}), ",
        $"redelivered {RedeliveredAfterCrash}, duplicated {Duplicated}, reordered {Reordered}, corrupted {Corrupted}, kills {Kills}, pauses {Pauses}, recoveries {Recoveries}",
        Ok ? "" : "; " + string.Join("; ", Violations));

    private string BroadcastSummary() => string.Concat(
        $"{(Ok ? "PASS" : "FAIL")} {Name}: {Kind}/{Overflow}/{Mode}/{Wait} 1p{Consumers}s {MinSize}..{MaxSize} B: ",
        $"published {MessagesCommitted:N0}, delivered {Verified:N0} to {SubscribersJoined} subscribers ({SubscribersFinished} to the end; {MsgsPerS:N0}/s over {ElapsedS:0.0} s), ",
        $"laps {Laps} reporting {LostToLaps:N0} lost, history {HistoryDelivered:N0}, skipped {Lost}, misreported {LapsMisreported}, duplicated {Duplicated}, reordered {Reordered}, corrupted {Corrupted}, ",
        $"kills {Kills} ({ProducerKills} publishers), pauses {Pauses}",
        Ok ? "" : "; " + string.Join("; ", Violations));
}

/// <summary>Everything a <c>run</c> prints as JSON: the totals and each phase.</summary>
public sealed class RunReport
{
    /// <summary>True when no phase had a violation.</summary>
    public bool Ok { get; init; }
    /// <summary>Profile name, or "custom".</summary>
    public required string Profile { get; init; }
    /// <summary>Summed over phases.</summary>
    public long MessagesSent { get; init; }
    /// <summary>Summed over phases.</summary>
    public long MessagesCommitted { get; init; }
    /// <summary>Summed over phases.</summary>
    public long MessagesReceived { get; init; }
    /// <summary>Summed over phases.</summary>
    public long Verified { get; init; }
    /// <summary>Summed over phases.</summary>
    public long Lost { get; init; }
    /// <summary>Summed over phases.</summary>
    public long LostInDelivery { get; init; }
    /// <summary>Summed over phases.</summary>
    public long RingLostInDelivery { get; init; }
    /// <summary>Summed over phases.</summary>
    public long RedeliveredAfterCrash { get; init; }
    /// <summary>Summed over phases.</summary>
    public long Duplicated { get; init; }
    /// <summary>Summed over phases.</summary>
    public long Corrupted { get; init; }
    /// <summary>Summed over phases.</summary>
    public long Reordered { get; init; }
    /// <summary>Summed over phases.</summary>
    public long FaultsInjected { get; init; }
    /// <summary>Summed over phases.</summary>
    public long Kills { get; init; }
    /// <summary>Summed over phases.</summary>
    public long Pauses { get; init; }
    /// <summary>Summed over phases.</summary>
    public long Recoveries { get; init; }
    /// <summary>Wall time of the whole run.</summary>
    public double ElapsedS { get; init; }
    /// <summary>Verified over the summed phase times.</summary>
    public double MsgsPerS { get; init; }
    /// <summary>The phases.</summary>
    public required IReadOnlyList<EngineResult> Phases { get; init; }

    /// <summary>Sums the phases.</summary>
    public static RunReport From(string profile, IReadOnlyList<EngineResult> phases, double elapsedS) => new()
    {
        Ok = phases.All(p => p.Ok),
        Profile = profile,
        MessagesSent = phases.Sum(p => p.MessagesSent),
        MessagesCommitted = phases.Sum(p => p.MessagesCommitted),
        MessagesReceived = phases.Sum(p => p.MessagesReceived),
        Verified = phases.Sum(p => p.Verified),
        Lost = phases.Sum(p => p.Lost),
        LostInDelivery = phases.Sum(p => p.LostInDelivery),
        RingLostInDelivery = phases.Sum(p => p.RingLostInDelivery),
        RedeliveredAfterCrash = phases.Sum(p => p.RedeliveredAfterCrash),
        Duplicated = phases.Sum(p => p.Duplicated),
        Corrupted = phases.Sum(p => p.Corrupted),
        Reordered = phases.Sum(p => p.Reordered),
        FaultsInjected = phases.Sum(p => p.FaultsInjected),
        Kills = phases.Sum(p => p.Kills),
        Pauses = phases.Sum(p => p.Pauses),
        Recoveries = phases.Sum(p => p.Recoveries),
        ElapsedS = Math.Round(elapsedS, 3),
        MsgsPerS = Math.Round(phases.Sum(p => p.Verified) / Math.Max(1e-9, phases.Sum(p => p.ElapsedS))),
        Phases = phases,
    };

    /// <summary>Indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, EngineJsonContext.Default.RunReport);

    /// <summary>The one-line summary of the whole run.</summary>
    public string Summary() => string.Concat(
        $"{(Ok ? "PASS" : "FAIL")} stress {Profile}: {Phases.Count} phase(s), ",
        Phases.Any(p => p.Overflow is not null)
            ? $"verified {Verified:N0} deliveries of {MessagesCommitted:N0} committed messages (a broadcast message goes to every subscriber) ({MsgsPerS:N0}/s), "
            : $"verified {Verified:N0} of {MessagesCommitted:N0} committed ({MsgsPerS:N0}/s), ",
        $"lost {Lost}, lost_in_delivery {LostInDelivery} (ring {RingLostInDelivery}), redelivered {RedeliveredAfterCrash}, duplicated {Duplicated}, reordered {Reordered}, corrupted {Corrupted}, ",
        $"faults {FaultsInjected} ({Kills} kills, {Pauses} pauses), recoveries {Recoveries}, {ElapsedS:0.0} s");
}

/// <summary>Source-generated JSON for the run report.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(RunReport))]
public sealed partial class EngineJsonContext : JsonSerializerContext;
