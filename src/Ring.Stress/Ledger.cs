using System.IO.MemoryMappedFiles;

namespace Ring.Stress;

/// <summary>
/// The side channel of a stress run: a memory-mapped file, separate from the ring under test, through which
/// producers and consumers (threads or processes) report what they did. Everything a participant records is
/// a store into a MAP_SHARED mapping, so it survives the participant's SIGKILL at any instruction — unlike a
/// result line printed at the end, which a killed worker never prints.
/// <para>
/// Layout (8-byte words): a header; one 64-byte slot per producer id (committed count, finished flag); one per
/// consumer incarnation (its counters); then one delivery bitmap per producer id, two bits per sequence:
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
    private const int ConsumerWords = 8;

    // Header word indices.
    private const int MagicWord = 0, StopProducersWord = 1, StopConsumersWord = 2, BudgetWord = 3, ProducerIdsWord = 4,
        ConsumerSlotsWord = 5, SequencesWord = 6, TicketsWord = 7, NextProducerWord = 8, NextConsumerWord = 9;

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
}
