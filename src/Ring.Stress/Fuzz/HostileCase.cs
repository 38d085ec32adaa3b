using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Ring.Mpmc;

namespace Ring.Stress.Fuzz;

/// <summary>
/// One fuzz case: a live segment holding committed messages is corrupted the way a hostile process could
/// (random bytes; record and slot lengths huge, negative or unaligned; padding past the end; sequences with
/// flag bits; head past tail, tail − head beyond the capacity), then fresh endpoints call every read and write
/// entry point. Every random choice comes from the case seed and is drawn before the first call on the
/// corrupted ring, so the seed alone replays the case.
/// </summary>
internal sealed class HostileCase
{
    /// <summary>The timeout of most timed calls: they must end by it, whatever the ring holds.</summary>
    public static readonly TimeSpan ShortTimeout = TimeSpan.FromMilliseconds(1);

    /// <summary>An MPMC timed call now and then waits past the stuck threshold, so the dead-claimer recovery runs on hostile values.</summary>
    public static readonly TimeSpan StuckTimeout = MpmcProtocol.StuckThreshold * 2;

    private const double StuckTimeoutShare = 0.03;

    private static readonly WaitStrategy[] Strategies = Enum.GetValues<WaitStrategy>();

    private readonly CaseRandom _random;
    private readonly List<string> _description = [];
    private readonly List<PlannedCall> _calls = [];
    private RingSegment? _segment;
    private WaitStrategy _writerWait;
    private WaitStrategy _readerWait;

    private HostileCase(RingKind kind, ulong seed)
    {
        Kind = kind;
        Seed = seed;
        _random = new CaseRandom(seed);
    }

    public RingKind Kind { get; }

    public ulong Seed { get; }

    /// <summary>What the case did, one step a line, for a failure report.</summary>
    public string Description => string.Join(Environment.NewLine, _description);

    /// <summary>How long the calls on the corrupted ring may wait in all: the sum of their timeouts.</summary>
    public TimeSpan CallBudget => _calls.Aggregate(TimeSpan.Zero, (sum, call) => sum + call.Timeout);

    private SharedBuffer Mapping => _segment!.Buffer;

    /// <summary>The ring's size in its positions' unit: bytes (SPSC) or slots (MPMC).</summary>
    private long Scale => Kind == RingKind.Spsc ? _segment!.Capacity : _segment!.SlotCount;

    /// <summary>
    /// Runs the case in <paramref name="directory"/>: builds and corrupts the segment, then calls
    /// <paramref name="callsStarting"/> with <see cref="CallBudget"/> just before the first call on it.
    /// </summary>
    public static CaseResult Run(RingKind kind, ulong seed, string directory, Action<TimeSpan> callsStarting)
    {
        HostileCase fuzz = new(kind, seed);
        OutcomeTally tally = new() { Cases = 1 };
        string path = Path.Combine(directory, $"fuzz-{kind.ToString().ToLowerInvariant()}-{seed:x16}");
        try
        {
            using (fuzz._segment = fuzz.CreateAndFill(path))
            {
                fuzz.Corrupt();
                fuzz.PlanCalls();
                callsStarting(fuzz.CallBudget);
                fuzz.CallEverything(tally);
            }
            return new CaseResult(fuzz, tally, null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new CaseResult(fuzz, tally, e is FuzzViolation ? e.Message : $"untyped exception: {e}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private RingSegment CreateAndFill(string path)
    {
        RingOptions options;
        if (Kind == RingKind.Spsc)
        {
            long capacity = 64L << _random.Next(7);
            int longest = SegmentLayout.MaxMessageLengthFor(capacity);
            options = new RingOptions { Capacity = capacity, MaxMessageLength = _random.Chance(0.5) ? longest : 1 + _random.Next(longest) };
        }
        else
        {
            options = new RingOptions { Kind = RingKind.Mpmc, SlotCount = 2 << _random.Next(6), MaxMessageLength = _random.Pick(1, 8, 13, 32, 100) };
        }
        RingSegment segment = RingSegment.Create(path, options);
        try
        {
            using RingWriter writer = segment.CreateWriter();
            using RingReader reader = segment.CreateReader();
            long room = Kind == RingKind.Spsc ? segment.Capacity / 8 : segment.SlotCount;
            int steps = _random.Next((int)room * 3);
            byte[] payload = new byte[segment.MaxMessageLength];
            for (int i = 0; i < steps; i++)
            {
                if (_random.Chance(0.4)) reader.TryRead(payload, out _);
                else if (_random.Chance(0.1) && writer.TryClaim(_random.Next(payload.Length + 1), out _)) writer.Abort();
                else writer.TryWrite(payload.AsSpan(0, _random.Next(payload.Length + 1)));
            }
            for (int i = 1 + _random.Next(4); i > 0 && writer.TryWrite(payload.AsSpan(0, _random.Next(payload.Length + 1))); i--) { }
            (long head, long tail) = Positions(segment.Buffer);
            _description.Add($"{Kind} capacity {segment.Capacity}, {segment.SlotCount} slots, max message {segment.MaxMessageLength}: {steps} fill steps, head {head}, tail {tail}");
            return segment;
        }
        catch
        {
            segment.Dispose();
            throw;
        }
    }

    private static (long Head, long Tail) Positions(SharedBuffer mapping) =>
        (mapping.ReadInt64Acquire(SegmentLayout.HeadOffset), mapping.ReadInt64Acquire(SegmentLayout.TailOffset)); // pair with the endpoints' fenced stores, all made on this thread

    private void Corrupt()
    {
        for (int corruptions = 1 + _random.Next(4); corruptions > 0; corruptions--)
        {
            (long head, long tail) = Positions(Mapping);
            switch (_random.Next(10))
            {
                case < 3:
                    CorruptAnywhere();
                    break;
                case < 5:
                    bool moveTail = _random.Chance(0.5);
                    Poke64(moveTail ? SegmentLayout.TailOffset : SegmentLayout.HeadOffset, EdgeValue(_random.Chance(0.5) ? tail : head, Scale), moveTail ? "tail" : "head");
                    break;
                default:
                    if (Kind == RingKind.Spsc) CorruptRecord(head, tail);
                    else CorruptSlot(head, tail);
                    break;
            }
        }
    }

    /// <summary>Random bytes in the data region, the position and counter block, or the eventcounts; or one of their words set to an edge value.</summary>
    private void CorruptAnywhere()
    {
        (long start, long end) = _random.Next(5) switch
        {
            < 3 => (SegmentLayout.DataOffset, SegmentLayout.DataOffset + _segment!.Capacity),
            3 => (SegmentLayout.TailOffset, SegmentLayout.ReadersEventOffset),
            _ => (SegmentLayout.ReadersEventOffset, SegmentLayout.RoleTableOffset),
        };
        if (_random.Chance(0.5))
        {
            long word = start + _random.Next((int)((end - start) / sizeof(long))) * sizeof(long);
            Poke64(word, EdgeValue(Mapping.ReadInt64(word), Scale), "word");
            return;
        }
        long offset = start + _random.Next((int)(end - start));
        byte[] bytes = new byte[Math.Min(1 + _random.Next(32), end - offset)];
        _random.Fill(bytes);
        Mapping.CopyIn(offset, bytes);
        _description.Add($"{bytes.Length} random bytes at 0x{offset:x}");
    }

    /// <summary>A record header's length or type: impossible, or near what it was; a padding type where none belongs.</summary>
    private void CorruptRecord(long head, long tail)
    {
        long record = SegmentLayout.DataOffset + (RecordNear(head, tail) & (_segment!.Capacity - 1) & ~(SegmentLayout.RecordAlignment - 1));
        if (_random.Chance(0.5))
        {
            long at = record + SegmentLayout.RecordLengthOffset;
            Poke32(at, EdgeLength(Mapping.ReadInt32(at), _segment.Capacity), "record length");
        }
        else
        {
            Poke32(record + SegmentLayout.RecordTypeOffset,
                _random.Pick(SegmentLayout.RecordTypePadding, SegmentLayout.RecordTypePadding, SegmentLayout.RecordTypeMessage, 0, 3, -1, (int)_random.NextUInt64()), "record type");
        }
    }

    /// <summary>Usually a committed record's position, else any position; the caller aligns it so the header it writes stays in the region.</summary>
    private long RecordNear(long head, long tail)
    {
        long mask = _segment!.Capacity - 1;
        if (_random.Chance(0.2)) return _random.Next((int)_segment.Capacity);
        List<long> records = [head];
        for (long position = head; position < tail && records.Count < 64;) // an earlier corruption may have broken the chain: a bounded walk
        {
            long header = Mapping.ReadInt64(SegmentLayout.DataOffset + (position & mask & ~(SegmentLayout.RecordAlignment - 1)));
            position += (int)(header >> 32) == SegmentLayout.RecordTypePadding
                ? _segment.Capacity - (position & mask)
                : SegmentLayout.AlignedRecordLength((int)header);
            records.Add(position);
        }
        return records[_random.Next(records.Count)];
    }

    /// <summary>A slot near the head or tail: its length, or a sequence some valid history could leave there or not quite, often with flag bits.</summary>
    private void CorruptSlot(long head, long tail)
    {
        long position = (_random.Chance(0.5) ? head : tail) + _random.Next(3) - 1;
        long slot = SegmentLayout.DataOffset + (position & (_segment!.SlotCount - 1)) * _segment.SlotStride;
        if (_random.Chance(0.25))
        {
            long at = slot + SegmentLayout.SlotLengthOffset;
            Poke32(at, EdgeLength(Mapping.ReadInt32(at), _segment.MaxMessageLength), "slot length");
            return;
        }
        long slots = _segment.SlotCount;
        long sequence = _random.Pick(position, position + 1, position - slots, position + 1 - slots, position + slots, position + 1 + slots, position + 2, position - 1, 0, (long)_random.NextUInt64());
        if (_random.Chance(0.3)) sequence |= MpmcProtocol.SkipFlag;
        if (_random.Chance(0.1)) sequence |= long.MinValue;
        Poke64(slot + SegmentLayout.SlotSequenceOffset, sequence, $"slot sequence (position {position})");
    }

    private void Poke64(long offset, long value, string what)
    {
        Mapping.WriteInt64(offset, value);
        _description.Add($"{what} at 0x{offset:x} := {value} (0x{value:x})");
    }

    private void Poke32(long offset, int value, string what)
    {
        Mapping.WriteInt32(offset, value);
        _description.Add($"{what} at 0x{offset:x} := {value}");
    }

    /// <summary>A value near <paramref name="anchor"/> on the scale of the ring, or an extreme one.</summary>
    private long EdgeValue(long anchor, long scale) => _random.Next(16) switch
    {
        0 => anchor + 1,
        1 => anchor - 1,
        2 => anchor + 8,
        3 => anchor - 8,
        4 => anchor + scale,
        5 => anchor - scale,
        6 => anchor + scale + 8,
        7 => anchor + 2 * scale,
        8 => anchor | MpmcProtocol.SkipFlag,
        9 => anchor | long.MinValue,
        10 => -8,
        11 => long.MinValue,
        12 => long.MaxValue,
        13 => 0,
        14 => anchor + _random.Next(7) + 1,
        _ => (long)_random.NextUInt64(),
    };

    /// <summary>A length near <paramref name="current"/> or the maximum, or an extreme one.</summary>
    private int EdgeLength(int current, long scale) => _random.Pick(-1, -8, int.MinValue, int.MaxValue, _segment!.MaxMessageLength, _segment.MaxMessageLength + 1,
        _segment.MaxMessageLength + 8, 0, 3, current + 1, current + 8, current + 16, (int)Math.Min(scale, int.MaxValue), (int)_random.NextUInt64());

    private void PlanCalls()
    {
        _writerWait = _random.Pick(Strategies);
        _readerWait = _random.Pick(Strategies);
        int max = _segment!.MaxMessageLength;
        for (int count = 4 + _random.Next(7); count > 0; count--)
        {
            CallKind kind = (CallKind)_random.Next(Enum.GetValues<CallKind>().Length);
            bool timed = kind is CallKind.TimedTryRead or CallKind.TimedTryWrite;
            TimeSpan timeout = !timed ? TimeSpan.Zero : Kind == RingKind.Mpmc && _random.Chance(StuckTimeoutShare) ? StuckTimeout : ShortTimeout;
            int length = kind is CallKind.TryRead or CallKind.TimedTryRead && _random.Chance(0.7) ? max : _random.Next(max + 1);
            // A handler may play the hostile process mid-read: it moves the tail or head under the reader.
            (int moved, long by) = kind is CallKind.ReadBatch or CallKind.TryReadInPlace && _random.Chance(0.3)
                ? (_random.Pick(SegmentLayout.TailOffset, SegmentLayout.HeadOffset), _random.Pick(-1L, 1L, -8L, 8L, -16L, -Scale, Scale + 8))
                : (0, 0L);
            _calls.Add(new PlannedCall(kind, length, 1 + _random.Next(8), timeout, moved, by));
        }
        _description.Add($"writer {_writerWait}, reader {_readerWait}; calls: {string.Join(", ", _calls)}");
    }

    private void CallEverything(OutcomeTally tally)
    {
        using RingWriter? writer = Attach(() => _segment!.CreateWriter(_writerWait), tally);
        using RingReader? reader = Attach(() => _segment!.CreateReader(_readerWait), tally);
        foreach (PlannedCall call in _calls)
        {
            if (call.Kind >= CallKind.TryWrite ? writer is null : reader is null) continue;
            tally.Calls++;
            try
            {
                tally.Count(Call(call, reader, writer));
            }
            catch (RingCorruptedException e)
            {
                tally.CountCorrupted(e.Rule);
            }
            catch (RingCompletedException)
            {
                tally.Count(CallOutcome.Completed);
            }
            catch (ArgumentException e) when (e.ParamName == "destination" && call.Kind is CallKind.TryRead or CallKind.TimedTryRead)
            {
                tally.Count(CallOutcome.ArgumentError); // the documented too-short destination
            }
        }
    }

    /// <summary>Attaching reads the positions (SPSC): a corrupted one refuses the endpoint, with a typed error counted as a call.</summary>
    private static T? Attach<T>(Func<T> create, OutcomeTally tally) where T : class
    {
        try
        {
            return create();
        }
        catch (RingCorruptedException e)
        {
            tally.Calls++;
            tally.CountCorrupted(e.Rule);
            return null;
        }
    }

    private CallOutcome Call(PlannedCall call, RingReader? reader, RingWriter? writer)
    {
        byte[] buffer = new byte[call.Length];
        bool done;
        switch (call.Kind)
        {
            case CallKind.TryRead:
                done = reader!.TryRead(buffer, out int length);
                if (done) CheckLength(length, buffer.Length);
                break;
            case CallKind.TimedTryRead:
                done = reader!.TryRead(buffer, out int waited, call.Timeout);
                if (done) CheckLength(waited, buffer.Length);
                break;
            case CallKind.ReadBatch:
                int handled = reader!.ReadBatch(Handler(call), call.Count);
                if ((uint)handled > (uint)call.Count) throw new FuzzViolation($"ReadBatch({call.Count}) returned {handled}");
                done = handled > 0;
                break;
            case CallKind.TryReadInPlace:
                done = reader!.TryRead(Handler(call));
                break;
            case CallKind.TryWrite:
                done = writer!.TryWrite(buffer);
                break;
            case CallKind.TimedTryWrite:
                done = writer!.TryWrite(buffer, call.Timeout);
                break;
            default:
                done = writer!.TryClaim(call.Length, out Span<byte> claim);
                if (!done) break;
                CheckHandedOut(claim, call.Length, "claimed span");
                claim.Fill(0xA5);
                if (call.Kind == CallKind.ClaimAbort) writer.Abort();
                else writer.Commit(call.Kind == CallKind.ClaimCommit ? call.Length : call.Length / 2);
                break;
        }
        return done ? CallOutcome.Delivered : CallOutcome.False;
    }

    /// <summary>Checks each message handed out in place; the first one moves the counter the call planned to move.</summary>
    private RingMessageHandler Handler(PlannedCall call)
    {
        bool moved = call.MoveOffset == 0;
        return message =>
        {
            CheckHandedOut(message, _segment!.MaxMessageLength, "message handed to a handler");
            if (moved) return;
            moved = true;
            Mapping.WriteInt64(call.MoveOffset, Mapping.ReadInt64(call.MoveOffset) + call.MoveBy);
        };
    }

    private void CheckLength(int length, int destination)
    {
        if ((uint)length > (uint)Math.Min(destination, _segment!.MaxMessageLength))
            throw new FuzzViolation($"a read returned length {length} for a {destination}-byte destination (max message {_segment.MaxMessageLength})");
    }

    /// <summary>A span the ring handed out must lie inside the mapping and be no longer than it may be.</summary>
    private void CheckHandedOut(ReadOnlySpan<byte> span, int maxLength, string what)
    {
        SharedBuffer mapping = Mapping;
        long offset = Unsafe.ByteOffset(ref MemoryMarshal.GetReference(mapping.Span(0, 0)), ref MemoryMarshal.GetReference(span));
        if (offset < SegmentLayout.DataOffset || offset + span.Length > mapping.Length || span.Length > maxLength)
            throw new FuzzViolation($"{what} of {span.Length} bytes at mapping offset {offset} is outside the data region 0x{SegmentLayout.DataOffset:x}..{mapping.Length} or longer than {maxLength}");
    }

    private enum CallKind
    {
        TryRead,
        TimedTryRead,
        ReadBatch,
        TryReadInPlace,
        TryWrite, // from here on, the writer's calls
        TimedTryWrite,
        ClaimCommit,
        ClaimCommitShorter,
        ClaimAbort,
    }

    /// <param name="MoveOffset">Nonzero: the handler of a read in place adds <paramref name="MoveBy"/> to the counter there.</param>
    private readonly record struct PlannedCall(CallKind Kind, int Length, int Count, TimeSpan Timeout, int MoveOffset, long MoveBy)
    {
        private string Move => MoveOffset == 0 ? "" : $", handler moves {(MoveOffset == SegmentLayout.TailOffset ? "tail" : "head")} by {MoveBy}";

        public override string ToString() => Kind switch
        {
            CallKind.ReadBatch => $"ReadBatch({Count}{Move})",
            CallKind.TryReadInPlace => $"TryReadInPlace({Move})",
            CallKind.TimedTryRead or CallKind.TimedTryWrite => $"{Kind}({Length} B, {Timeout.TotalMilliseconds} ms)",
            _ => $"{Kind}({Length} B)",
        };
    }
}

/// <summary>The outcome of one case: its tally, and what went wrong (null when nothing did).</summary>
internal sealed record CaseResult(HostileCase Case, OutcomeTally Tally, string? Failure);

/// <summary>A call on a corrupted ring broke a promise that holds whatever the segment holds.</summary>
internal sealed class FuzzViolation(string message) : Exception(message);

/// <summary>SplitMix64: every value of a case from its seed.</summary>
internal sealed class CaseRandom(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15;
        return StressMessage.Mix(_state);
    }

    /// <summary>Uniform in 0..<paramref name="bound"/> − 1 (0 when the bound is not positive).</summary>
    public int Next(int bound) => bound <= 0 ? 0 : (int)(NextUInt64() % (ulong)bound);

    public bool Chance(double probability) => (NextUInt64() >> 11) * (1.0 / (1UL << 53)) < probability;

    public T Pick<T>(params ReadOnlySpan<T> choices) => choices[Next(choices.Length)];

    public void Fill(Span<byte> bytes)
    {
        foreach (ref byte b in bytes) b = (byte)NextUInt64();
    }
}
