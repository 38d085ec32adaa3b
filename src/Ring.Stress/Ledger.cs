using System.IO.MemoryMappedFiles;

namespace Ring.Stress;

/// <summary>
/// The side channel of a stress run: a memory-mapped file, separate from the ring under test, through which
/// producers and consumers (threads or processes) report what they did. Everything a participant records is
/// a store into a MAP_SHARED mapping, so it survives the participant's SIGKILL at any instruction — unlike a
/// result line printed at the end, which a killed worker never prints.
/// <para>
/// Layout (8-byte words): a header; one 64-byte slot per producer id (committed count, finished flag); one per
/// consumer incarnation (its counters, then the fields a broadcast subscriber keeps: <see cref="SubscriberField"/>); then one delivery bitmap per producer id, two bits per sequence:
/// HELD (some consumer's read handler took the message) and DONE (that consumer's read call returned, so the
/// ring released the message). Producer ids are handed out fresh per incarnation (a restarted producer, or
/// one that reached <see cref="SequencesPerId"/> messages, takes a new id), so no id's sequence is ever reused.
/// Files are sparse: only pages of bitmaps actually written cost memory.
/// </para>
/// </summary>
public sealed unsafe class Ledger : IDisposable
{
    /// <summary>Bit pair of one sequence: taken by a read handler.</summary>
    public const ulong Held = 1;

    /// <summary>Bit pair of one sequence: the read that took it completed.</summary>
    public const ulong Done = 2;

    private const long Magic = 0x5245_4447_454C_4752; // "RGLEDGER"
    private const int HeaderWords = 16;
    private const int ProducerWords = 8; // a cache line per producer id: concurrent producers do not share one
    private const int ConsumerWords = 24; // 16 counters, then the subscriber fields: three cache lines, one writer
    private const int SubscriberFieldsStart = 16;

    // Header word indices.
    private const int MagicWord = 0, StopProducersWord = 1, StopConsumersWord = 2, BudgetWord = 3, ProducerIdsWord = 4,
        ConsumerSlotsWord = 5, SequencesWord = 6, TicketsWord = 7, NextProducerWord = 8, NextConsumerWord = 9, PublishedWord = 10;

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly long* _words;

    private Ledger(string path, long length, bool create)
    {
        _file = MemoryMappedFile.CreateFromFile(path, create ? FileMode.CreateNew : FileMode.Open, null, create ? length : 0, MemoryMappedFileAccess.ReadWrite);
        _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.ReadWrite);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _words = (long*)(pointer + _view.PointerOffset);
        Path = path;
    }

    /// <summary>The ledger file.</summary>
    public string Path { get; }

    /// <summary>How many producer ids the ledger has room for.</summary>
    public int ProducerIds => (int)_words[ProducerIdsWord];

    /// <summary>How many consumer incarnations the ledger has room for.</summary>
    public int ConsumerSlots => (int)_words[ConsumerSlotsWord];

    /// <summary>Sequences one producer id may send before its producer moves on to a fresh id.</summary>
    public long SequencesPerId => _words[SequencesWord];

    /// <summary>Creates a new ledger file; <paramref name="budget"/> is the total messages to send (long.MaxValue: until stopped).</summary>
    public static Ledger Create(string path, int producerIds, int consumerSlots, long sequencesPerId, long budget)
    {
        long length = BitmapsStart(producerIds, consumerSlots) * 8 + (long)producerIds * BitmapWords(sequencesPerId) * 8;
        Ledger ledger = new(path, length, create: true);
        ledger._words[ProducerIdsWord] = producerIds;
        ledger._words[ConsumerSlotsWord] = consumerSlots;
        ledger._words[SequencesWord] = sequencesPerId;
        ledger._words[BudgetWord] = budget;
        Volatile.Write(ref ledger._words[MagicWord], Magic);
        return ledger;
    }

    /// <summary>Opens a ledger a coordinator created.</summary>
    public static Ledger Open(string path)
    {
        Ledger ledger = new(path, 0, create: false);
        if (Volatile.Read(ref ledger._words[MagicWord]) != Magic)
        {
            ledger.Dispose();
            throw new InvalidDataException($"{path} is not a stress ledger.");
        }
        return ledger;
    }

    /// <summary>Set by the coordinator: producers stop before their next message.</summary>
    public bool StopProducers
    {
        get => Volatile.Read(ref _words[StopProducersWord]) != 0;
        set => Volatile.Write(ref _words[StopProducersWord], value ? 1 : 0);
    }

    /// <summary>Set by the coordinator once the ring is drained: consumers stop when they find it empty.</summary>
    public bool StopConsumers
    {
        get => Volatile.Read(ref _words[StopConsumersWord]) != 0;
        set => Volatile.Write(ref _words[StopConsumersWord], value ? 1 : 0);
    }

    /// <summary>Messages producers took a ticket for and did not give back: attempted sends.</summary>
    public long Tickets => Volatile.Read(ref _words[TicketsWord]);

    /// <summary>Producer ids handed out so far.</summary>
    public int ProducerIdsUsed => (int)Math.Min(Volatile.Read(ref _words[NextProducerWord]), ProducerIds);

    /// <summary>Consumer slots handed out so far.</summary>
    public int ConsumerSlotsUsed => (int)Math.Min(Volatile.Read(ref _words[NextConsumerWord]), ConsumerSlots);

    /// <summary>
    /// Broadcast: how many messages the publishers have committed, which is also the index (stamped as the stress
    /// sequence) of the next one. Stored by the one publisher after each commit, so it may lag the ring by the one
    /// message a killed publisher committed and never recorded; its successor catches it up from the ring.
    /// </summary>
    public long Published
    {
        get => Volatile.Read(ref _words[PublishedWord]);
        set => Volatile.Write(ref _words[PublishedWord], value);
    }

    /// <summary>Takes the right to send one more message; false once the budget is spent.</summary>
    public bool TakeTicket()
    {
        if (Interlocked.Decrement(ref _words[BudgetWord]) < 0)
        {
            Interlocked.Increment(ref _words[BudgetWord]);
            return false;
        }
        Interlocked.Increment(ref _words[TicketsWord]);
        return true;
    }

    /// <summary>Gives back a ticket whose message was not sent (the producer was told to stop while it waited for room).</summary>
    public void ReturnTicket()
    {
        Interlocked.Decrement(ref _words[TicketsWord]);
        Interlocked.Increment(ref _words[BudgetWord]);
    }

    /// <summary>A fresh producer id, never used before in this run.</summary>
    public int NewProducerId()
    {
        long id = Interlocked.Increment(ref _words[NextProducerWord]) - 1;
        if (id >= ProducerIds) throw new InvalidOperationException($"the ledger has room for {ProducerIds} producer ids; raise it.");
        return (int)id;
    }

    /// <summary>A fresh consumer slot.</summary>
    public int NewConsumerSlot()
    {
        long slot = Interlocked.Increment(ref _words[NextConsumerWord]) - 1;
        if (slot >= ConsumerSlots) throw new InvalidOperationException($"the ledger has room for {ConsumerSlots} consumer incarnations; raise it.");
        return (int)slot;
    }

    /// <summary>Producer <paramref name="id"/> has committed <paramref name="count"/> messages (recorded after each commit).</summary>
    public void SetCommitted(int id, long count) => Volatile.Write(ref ProducerWord(id, 0), count);

    /// <summary>What producer <paramref name="id"/> recorded as committed: exact once it is finished, possibly one short if it was killed.</summary>
    public long Committed(int id) => Volatile.Read(ref ProducerWord(id, 0));

    /// <summary>Producer <paramref name="id"/> will send nothing more under this id, and its committed count is exact.</summary>
    public void Finish(int id) => Volatile.Write(ref ProducerWord(id, 1), 1);

    /// <summary>True when the producer finished the id itself (rather than being killed while it held it).</summary>
    public bool IsFinished(int id) => Volatile.Read(ref ProducerWord(id, 1)) != 0;

    /// <summary>A counter of consumer slot <paramref name="slot"/>; each slot has one writer, so plain increments suffice.</summary>
    public ref long ConsumerCounter(int slot, ConsumerCounterKind kind) =>
        ref _words[HeaderWords + (long)ProducerIds * ProducerWords + (long)slot * ConsumerWords + (int)kind];

    /// <summary>A field of the broadcast subscriber in consumer slot <paramref name="slot"/>; each slot has one writer.</summary>
    public ref long Subscriber(int slot, SubscriberField field) =>
        ref _words[HeaderWords + (long)ProducerIds * ProducerWords + (long)slot * ConsumerWords + SubscriberFieldsStart + (int)field];

    /// <summary>Broadcast subscribers that have joined so far (killed ones included).</summary>
    public int SubscribersJoined()
    {
        int joined = 0;
        for (int slot = 0; slot < ConsumerSlotsUsed; slot++)
        {
            if (Volatile.Read(ref Subscriber(slot, SubscriberField.Joined)) != 0) joined++;
        }
        return joined;
    }

    /// <summary>The sum of one counter over every consumer incarnation so far.</summary>
    public long SumConsumers(ConsumerCounterKind kind)
    {
        long sum = 0;
        for (int slot = 0; slot < ConsumerSlotsUsed; slot++) sum += Volatile.Read(ref ConsumerCounter(slot, kind));
        return sum;
    }

    /// <summary>Sets <paramref name="bits"/> for (id, sequence) atomically; returns the pair as it was before.</summary>
    public ulong Mark(int id, long sequence, ulong bits)
    {
        ref long word = ref BitmapWord(id, sequence, out int shift);
        return ((ulong)Interlocked.Or(ref word, (long)(bits << shift)) >> shift) & 3;
    }

    /// <summary>The bit pair of (id, sequence).</summary>
    public ulong Read(int id, long sequence)
    {
        ref long word = ref BitmapWord(id, sequence, out int shift);
        return ((ulong)Volatile.Read(ref word) >> shift) & 3;
    }

    /// <summary>Unmaps the ledger (the file stays; the coordinator deletes it).</summary>
    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    private ref long ProducerWord(int id, int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)id, (uint)ProducerIds, nameof(id));
        return ref _words[HeaderWords + (long)id * ProducerWords + index];
    }

    private ref long BitmapWord(int id, long sequence, out int shift)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)id, (uint)ProducerIds, nameof(id));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((ulong)sequence, (ulong)SequencesPerId, nameof(sequence));
        shift = (int)(sequence & 31) * 2;
        return ref _words[BitmapsStart(ProducerIds, ConsumerSlots) + id * BitmapWords(SequencesPerId) + (sequence >> 5)];
    }

    private static long BitmapsStart(int producerIds, int consumerSlots) =>
        HeaderWords + (long)producerIds * ProducerWords + (long)consumerSlots * ConsumerWords;

    private static long BitmapWords(long sequencesPerId) => (sequencesPerId + 31) / 32;
}

/// <summary>The counters each consumer incarnation keeps in its ledger slot.</summary>
public enum ConsumerCounterKind
{
    /// <summary>Messages handed to the verifier, intact or not.</summary>
    Received,

    /// <summary>Payload bytes of those.</summary>
    Bytes,

    /// <summary>Not what any producer sent (bad length, checksum, payload or producer id).</summary>
    Corrupted,

    /// <summary>An intact message already taken before, and not a permitted SPSC redelivery.</summary>
    Duplicated,

    /// <summary>An intact message whose sequence is below one this consumer already saw from the same producer id.</summary>
    Reordered,

    /// <summary>SPSC: the message a killed consumer was reading, read again by its successor (at-least-once, by design).</summary>
    Redelivered,

    /// <summary>Broadcast: an intact message that came exactly where the subscriber's stream said it would.</summary>
    Delivered,

    /// <summary>Broadcast: messages a subscriber never got and no lap reported (a jump in the index with no lap before it).</summary>
    Skipped,

    /// <summary>Broadcast: how far the index after a lap was from where the lap's reported loss put it (summed distances).</summary>
    Misreported,

    /// <summary>
    /// Broadcast under Block: a lap where the publisher must wait for the subscriber, i.e. any lap of a subscriber that
    /// joined at the tail, or one that resumed past the join of a subscriber that started in the history.
    /// </summary>
    LappedWhereBlockWaits,

    /// <summary>Broadcast: of the delivered, those published before the subscriber joined (history, from Oldest).</summary>
    History,
}

/// <summary>What a broadcast subscriber records about its join and its stream, beside its counters (−1 where unknown yet).</summary>
public enum SubscriberField
{
    /// <summary>1 + the <see cref="SubscribeFrom"/> it joined with, stored once it has joined; 0 before.</summary>
    Joined,

    /// <summary><see cref="Ledger.Published"/> read just before it joined: every message below it was published before the join.</summary>
    PublishedBeforeJoin,

    /// <summary><see cref="Ledger.Published"/> read just after it joined: the ring had at most one more message then.</summary>
    PublishedAfterJoin,

    /// <summary>Where its stream began as the ring told it: the first index delivered minus the losses reported before it.</summary>
    Start,

    /// <summary>One past the last index delivered.</summary>
    Next,

    /// <summary>Laps reported (<see cref="RingLappedException"/>s caught).</summary>
    Laps,

    /// <summary>The sum of their <see cref="RingLappedException.LostMessages"/>, added when the message after the lap arrives.</summary>
    LostToLaps,

    /// <summary>1 once it stopped on its own at the end of the run (read to the tail after the stop); 0 if it was killed.</summary>
    Finished,
}
