using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Ring.Tests;

/// <param name="SlotCount">Slots in the ring, a power of two from 2 to 64.</param>
/// <param name="MaxMessageOption">RingOptions.MaxMessageLength, the slot's payload size (0 = the 240-byte default).</param>
public sealed record MpmcModelScenario(int SlotCount, int MaxMessageOption, ModelOp[] Ops)
{
    public int MaxMessageLength => MaxMessageOption == 0 ? RingOptions.DefaultSlotPayload : MaxMessageOption;

    public override string ToString()
    {
        StringBuilder text = new($"SlotCount={SlotCount} MaxMessageLength={MaxMessageOption} ({Ops.Length} ops): ");
        text.AppendJoin(", ", Ops);
        return text.ToString();
    }
}

public static class MpmcModelScenarioArbitrary
{
    public static Arbitrary<MpmcModelScenario> Scenarios() => Arb.From(Generate(), Shrink);

    private static Gen<MpmcModelScenario> Generate() =>
        from log2 in Gen.Choose(1, 6)
        let slots = 1 << log2
        from maxOption in Gen.Frequency(
            (1, Gen.Constant(0)),
            (3, Gen.Choose(1, 300)),
            (3, Gen.Choose(1, 24)))
        let max = maxOption == 0 ? RingOptions.DefaultSlotPayload : maxOption
        from writeWeight in Gen.Choose(1, 6)
        from count in Gen.Sized(size => Gen.Choose(0, 20 + 3 * size))
        from ops in Gen.ArrayOf(Op(max, writeWeight), count)
        select new MpmcModelScenario(slots, maxOption, ops);

    private static Gen<ModelOp> Op(int max, int writeWeight)
    {
        Gen<int> size = Gen.Frequency(
            (4, Gen.Choose(0, max)),
            (1, Gen.Constant(max)),
            (2, Gen.Choose(0, Math.Min(max, 24))));
        return Gen.Frequency(
            (3 * writeWeight, size.Select(s => new ModelOp(ModelOpKind.Write, s, 0))),
            (writeWeight, size.Select(s => new ModelOp(ModelOpKind.ClaimCommit, s, 0))),
            (writeWeight, from s in size from shorter in Gen.Choose(0, s) select new ModelOp(ModelOpKind.ClaimCommitShorter, s, shorter)),
            (writeWeight, size.Select(s => new ModelOp(ModelOpKind.ClaimAbort, s, 0))),
            (4, Gen.Constant(new ModelOp(ModelOpKind.Read, 0, 0))),
            (1, Gen.Constant(new ModelOp(ModelOpKind.ReadShortDestination, 0, 0))),
            (2, Gen.Constant(new ModelOp(ModelOpKind.ReadHandler, 0, 0))),
            (2, Gen.Choose(1, 8).Select(limit => new ModelOp(ModelOpKind.ReadBatch, 0, limit))));
    }

    /// <summary>Shorter operation lists first (halves, quarters, single ops), then fewer slots, then smaller sizes.</summary>
    private static IEnumerable<MpmcModelScenario> Shrink(MpmcModelScenario scenario)
    {
        ModelOp[] ops = scenario.Ops;
        for (int chunk = ops.Length / 2; chunk >= 1; chunk /= 2)
        {
            for (int start = 0; start + chunk <= ops.Length; start += chunk)
                yield return scenario with { Ops = [.. ops[..start], .. ops[(start + chunk)..]] };
        }
        if (scenario.SlotCount > 2) yield return scenario with { SlotCount = scenario.SlotCount / 2 };
        for (int i = 0; i < ops.Length; i++)
        {
            ModelOp op = ops[i];
            if (op.Size > 0 && op.Kind is not ModelOpKind.ClaimCommitShorter)
                yield return scenario with { Ops = [.. ops[..i], op with { Size = op.Size / 2 }, .. ops[(i + 1)..]] };
        }
    }
}

/// <summary>
/// Model-based property for the MPMC ring, one writer and one reader on one thread: random sequences of
/// non-blocking calls against a <see cref="Queue{T}"/> of slots. A slot holds a committed message or the skip
/// record of an aborted claim: an aborted claim has moved the tail, so its slot stays taken until a reader
/// passes it (readers pass skip records on their way to the next message, never past the message limit of a
/// batch). The ring must return exactly the model's messages, refuse a write exactly when the model's
/// <c>SlotCount</c> slots are all taken, and report the model's occupancy and counters.
/// </summary>
public sealed class MpmcModelPropertyTests : IDisposable
{
    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Property(MaxTest = 1000, Arbitrary = [typeof(MpmcModelScenarioArbitrary)])]
    public void Operations_RandomSequence_MatchTheSlotQueueModel(MpmcModelScenario scenario)
    {
        string name = _dir.NewName("mpmc-model");
        try
        {
            using RingSegment segment = RingSegment.Create(name, new RingOptions
            {
                Kind = RingKind.Mpmc,
                SlotCount = scenario.SlotCount,
                MaxMessageLength = scenario.MaxMessageOption,
            });
            using RingWriter writer = segment.CreateWriter();
            using RingReader reader = segment.CreateReader();
            Bounded.Run(() => Run(scenario, segment, writer, reader));
        }
        finally
        {
            RingSegment.Unlink(name);
        }
    }

    [Fact]
    public void Model_HandPickedSkipSequence_MatchesTheRing()
    {
        // A fixed case through the same runner: aborts that fill the ring with skip records (writes refused
        // though no message is in it), a batch that stops before a trailing skip, a too-short destination
        // behind a skip, a zero-length message, a shorter commit, many laps of a 2-slot ring.
        ModelOp abort = new(ModelOpKind.ClaimAbort, 5, 0);
        ModelOp read = new(ModelOpKind.Read, 0, 0);
        ModelOp[] ops =
        [
            abort, abort, new(ModelOpKind.Write, 3, 0), read, read,
            new(ModelOpKind.Write, 8, 0), abort, new(ModelOpKind.ReadBatch, 0, 1), new(ModelOpKind.Write, 0, 0),
            new(ModelOpKind.ReadShortDestination, 0, 0), new(ModelOpKind.ReadShortDestination, 0, 0),
            abort, new(ModelOpKind.Write, 8, 0), new(ModelOpKind.ReadShortDestination, 0, 0), new(ModelOpKind.ReadHandler, 0, 0),
            new(ModelOpKind.ClaimCommitShorter, 8, 2), new(ModelOpKind.ClaimCommit, 8, 0), new(ModelOpKind.ReadBatch, 0, 8),
            .. Enumerable.Repeat<ModelOp[]>([new(ModelOpKind.Write, 1, 0), abort, read, read, abort, new(ModelOpKind.ReadHandler, 0, 0)], 20).SelectMany(o => o),
        ];
        MpmcModelScenario scenario = new(2, 8, ops);
        string name = _dir.NewName("mpmc-model");
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Kind = RingKind.Mpmc, SlotCount = 2, MaxMessageLength = 8 });
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();

        Bounded.Run(() => Run(scenario, segment, writer, reader));
    }

    private static void Run(MpmcModelScenario scenario, RingSegment segment, RingWriter writer, RingReader reader)
    {
        SlotModel model = new(scenario.SlotCount);
        int max = scenario.MaxMessageLength;
        Assert.Equal(max, writer.MaxMessageLength);
        Assert.Equal(max, reader.MaxMessageLength);
        int stride = SegmentLayout.SlotStrideFor(max);
        byte[] buffer = new byte[max];
        long seed = 0;

        for (int index = 0; index < scenario.Ops.Length; index++)
        {
            ModelOp op = scenario.Ops[index];
            string at = $"op #{index} {op} from {model}";
            switch (op.Kind)
            {
                case ModelOpKind.Write:
                {
                    byte[] message = Payload.Make(seed++, op.Size);
                    bool fits = model.HasFreeSlot;
                    bool written = writer.TryWrite(message);
                    Assert.True(fits == written, $"{at}: TryWrite returned {written}, the model says {fits}");
                    if (fits) model.Commit(message);
                    else model.FullEvents++;
                    break;
                }
                case ModelOpKind.ClaimCommit:
                case ModelOpKind.ClaimCommitShorter:
                case ModelOpKind.ClaimAbort:
                {
                    bool fits = model.HasFreeSlot;
                    bool claimed = writer.TryClaim(op.Size, out Span<byte> claim);
                    Assert.True(fits == claimed, $"{at}: TryClaim returned {claimed}, the model says {fits}");
                    if (!claimed)
                    {
                        Assert.True(claim.IsEmpty, $"{at}: a refused claim handed out {claim.Length} bytes");
                        model.FullEvents++;
                        break;
                    }
                    Assert.True(claim.Length == op.Size, $"{at}: the claim spans {claim.Length} bytes");
                    byte[] message = Payload.Make(seed++, op.Size);
                    message.CopyTo(claim);
                    if (op.Kind == ModelOpKind.ClaimAbort)
                    {
                        writer.Abort();
                        model.Skip();
                    }
                    else if (op.Kind == ModelOpKind.ClaimCommit)
                    {
                        writer.Commit();
                        model.Commit(message);
                    }
                    else
                    {
                        writer.Commit(op.Arg);
                        model.Commit(message[..op.Arg]);
                    }
                    break;
                }
                case ModelOpKind.Read:
                {
                    bool read = reader.TryRead(buffer, out int length);
                    CheckRead(model, at, read, buffer.AsSpan(0, read ? length : 0));
                    break;
                }
                case ModelOpKind.ReadShortDestination:
                {
                    byte[]? next = model.PassSkips();
                    if (next is { Length: > 0 })
                    {
                        Assert.Throws<ArgumentException>(() => reader.TryRead(new byte[next.Length - 1], out _));
                    }
                    else
                    {
                        // Nothing to be too short for: an empty destination fits an empty message.
                        bool read = reader.TryRead(Span<byte>.Empty, out int length);
                        CheckRead(model, at, read, ReadOnlySpan<byte>.Empty);
                        Assert.Equal(0, length);
                    }
                    break;
                }
                case ModelOpKind.ReadHandler:
                {
                    byte[]? seen = null;
                    bool read = reader.TryRead(m => seen = m.ToArray());
                    Assert.True(read == (seen is not null), $"{at}: TryRead(handler) returned {read} but the handler ran: {seen is not null}");
                    CheckRead(model, at, read, seen);
                    break;
                }
                case ModelOpKind.ReadBatch:
                {
                    List<byte[]> seen = [];
                    int handled = reader.ReadBatch(m => seen.Add(m.ToArray()), op.Arg);
                    Assert.True(seen.Count == handled, $"{at}: ReadBatch returned {handled} but called the handler {seen.Count} times");
                    List<byte[]> expected = [];
                    while (expected.Count < op.Arg && model.Take() is { } message) expected.Add(message);
                    Assert.True(handled == expected.Count, $"{at}: ReadBatch handled {handled}, the model has {expected.Count}");
                    if (handled == 0) model.EmptyEvents++;
                    for (int i = 0; i < handled; i++)
                    {
                        if (!seen[i].AsSpan().SequenceEqual(expected[i]))
                            Assert.Fail($"{at}: batch message {i} is [{Convert.ToHexString(seen[i])}], the model has [{Convert.ToHexString(expected[i])}]");
                    }
                    break;
                }
                default:
                    throw new InvalidOperationException($"unknown op {op}");
            }

            // Stat costs a few dozen syscalls: after each of the first ops, then every 16th and the last. Its
            // counters are cumulative, so a miscount shows up at the next check too.
            if (index < 8 || index % 16 == 0 || index == scenario.Ops.Length - 1) CheckStatus(segment.GetStatus(), model, stride, at);
        }

        // Whatever is left comes out in order, and then the ring is empty, skip records included.
        while (model.HasMessage)
        {
            bool read = reader.TryRead(buffer, out int length);
            CheckRead(model, "draining", read, buffer.AsSpan(0, read ? length : 0));
        }
        Assert.False(reader.TryRead(buffer, out _), "the ring holds more messages than the model");
        model.Take();
        model.EmptyEvents++;
        CheckStatus(RingSegment.Stat(segment.Name), model, stride, "drained");
        Assert.Equal(0, model.Occupied);
    }

    private static void CheckStatus(SegmentStatus status, SlotModel model, int stride, string at)
    {
        Assert.True(status.MessagesInRing == model.Messages, $"{at}: Stat says {status.MessagesInRing} messages to read, the model {model.Messages} (and {model.Occupied - model.Messages} skips)");
        Assert.True(status.BytesInRing == (long)model.Occupied * stride, $"{at}: Stat says {status.BytesInRing} bytes in the ring, the model {model.Occupied} slots of {stride}");
        Assert.True(
            (status.MessagesWritten, status.BytesWritten, status.MessagesRead, status.BytesRead, status.FullEvents, status.EmptyEvents)
            == (model.MessagesWritten, model.BytesWritten, model.MessagesRead, model.BytesRead, model.FullEvents, model.EmptyEvents),
            $"{at}: Stat counts written {status.MessagesWritten}/{status.BytesWritten} B, read {status.MessagesRead}/{status.BytesRead} B, "
            + $"full {status.FullEvents}, empty {status.EmptyEvents}; the model {model.MessagesWritten}/{model.BytesWritten} B, "
            + $"{model.MessagesRead}/{model.BytesRead} B, full {model.FullEvents}, empty {model.EmptyEvents}");
    }

    /// <summary>A single read (TryRead or TryRead(handler)): the model's next message, or an empty ring.</summary>
    private static void CheckRead(SlotModel model, string at, bool read, ReadOnlySpan<byte> message)
    {
        byte[]? predicted = model.Take();
        Assert.True(read == (predicted is not null), $"{at}: read returned {read}, the model {(predicted is null ? "has no message" : "has one")}");
        if (predicted is null)
        {
            model.EmptyEvents++;
            return;
        }
        if (!message.SequenceEqual(predicted))
            Assert.Fail($"{at}: read {message.Length} bytes [{Convert.ToHexString(message)}], the model has {predicted.Length} bytes [{Convert.ToHexString(predicted)}]");
    }

    /// <summary>The ring's taken slots in order: a committed message, or null for an aborted claim's skip record.</summary>
    private sealed class SlotModel(int slotCount)
    {
        private readonly Queue<byte[]?> _slots = new();

        public int Occupied => _slots.Count;

        /// <summary>What a reader can get: the taken slots that are not skips.</summary>
        public int Messages => _slots.Count(s => s is not null);

        public bool HasFreeSlot => _slots.Count < slotCount;

        public bool HasMessage => _slots.Any(s => s is not null);

        public long MessagesWritten { get; private set; }
        public long BytesWritten { get; private set; }
        public long MessagesRead { get; private set; }
        public long BytesRead { get; private set; }
        public long FullEvents { get; set; }
        public long EmptyEvents { get; set; }

        public void Commit(byte[] message)
        {
            _slots.Enqueue(message);
            MessagesWritten++;
            BytesWritten += message.Length;
        }

        public void Skip() => _slots.Enqueue(null);

        /// <summary>What a reader does on its way to the next message: frees the skip records in front of it. Returns that message, left in place.</summary>
        public byte[]? PassSkips()
        {
            while (_slots.TryPeek(out byte[]? front) && front is null) _slots.Dequeue();
            return _slots.TryPeek(out byte[]? next) ? next : null;
        }

        /// <summary>Passes the skip records in front and takes the next message, if there is one.</summary>
        public byte[]? Take()
        {
            byte[]? next = PassSkips();
            if (next is null) return null;
            _slots.Dequeue();
            MessagesRead++;
            BytesRead += next.Length;
            return next;
        }

        public override string ToString() =>
            $"model[{_slots.Count}/{slotCount} slots taken, {_slots.Count(s => s is null)} of them skips]";
    }
}
