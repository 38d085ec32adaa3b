using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Ring.Tests;

/// <summary>One non-blocking call on the ring, as the property generates it.</summary>
public enum ModelOpKind
{
    Write,
    ClaimCommit,
    ClaimCommitShorter,
    ClaimAbort,
    Read,
    ReadShortDestination,
    ReadHandler,
    ReadBatch,
    BatchPublished,
    BatchDropped,
}

/// <param name="Size">Payload or claim length (0..max).</param>
/// <param name="Arg">The shorter commit length, the read batch limit, or how many messages a write batch holds.</param>
public readonly record struct ModelOp(ModelOpKind Kind, int Size, int Arg)
{
    public override string ToString() => Kind switch
    {
        ModelOpKind.Write or ModelOpKind.ClaimCommit or ModelOpKind.ClaimAbort => $"{Kind}({Size})",
        ModelOpKind.ClaimCommitShorter => $"{Kind}({Size}->{Arg})",
        ModelOpKind.ReadBatch => $"{Kind}({Arg})",
        ModelOpKind.BatchPublished or ModelOpKind.BatchDropped => $"{Kind}({Arg} from {Size})",
        _ => Kind.ToString(),
    };
}

/// <param name="Capacity">Ring capacity, a power of two from 64 B to 64 KiB.</param>
/// <param name="MaxMessageOption">RingOptions.MaxMessageLength (0 = capacity/8).</param>
public sealed record ModelScenario(long Capacity, int MaxMessageOption, ModelOp[] Ops)
{
    public int MaxMessageLength => MaxMessageOption == 0 ? (int)(Capacity / 8) : MaxMessageOption;

    public override string ToString()
    {
        StringBuilder text = new($"Capacity={Capacity} MaxMessageLength={MaxMessageOption} ({Ops.Length} ops): ");
        text.AppendJoin(", ", Ops);
        return text.ToString();
    }
}

public static class ModelScenarioArbitrary
{
    public static Arbitrary<ModelScenario> Scenarios() => Arb.From(Generate(), Shrink);

    private static Gen<ModelScenario> Generate() =>
        from log2 in Gen.Choose(6, 16)
        let capacity = 1L << log2
        let limit = (int)(capacity / 8)
        from maxOption in Gen.Frequency(
            (2, Gen.Constant(0)),
            (3, Gen.Choose(1, limit)),
            (2, Gen.Choose(1, Math.Min(limit, 40))))
        let max = maxOption == 0 ? limit : maxOption
        from writeWeight in Gen.Choose(1, 6)
        from count in Gen.Sized(size => Gen.Choose(0, 20 + 3 * size))
        from ops in Gen.ArrayOf(Op(max, writeWeight), count)
        select new ModelScenario(capacity, maxOption, ops);

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
            (2, Gen.Choose(1, 8).Select(limit => new ModelOp(ModelOpKind.ReadBatch, 0, limit))),
            (writeWeight, from s in size from n in Gen.Choose(1, 6) select new ModelOp(ModelOpKind.BatchPublished, s, n)),
            (1, from s in size from n in Gen.Choose(1, 6) select new ModelOp(ModelOpKind.BatchDropped, s, n)));
    }

    /// <summary>Shorter operation lists first (halves, quarters, single ops), then smaller sizes.</summary>
    private static IEnumerable<ModelScenario> Shrink(ModelScenario scenario)
    {
        ModelOp[] ops = scenario.Ops;
        for (int chunk = ops.Length / 2; chunk >= 1; chunk /= 2)
        {
            for (int start = 0; start + chunk <= ops.Length; start += chunk)
                yield return scenario with { Ops = [.. ops[..start], .. ops[(start + chunk)..]] };
        }
        for (int i = 0; i < ops.Length; i++)
        {
            ModelOp op = ops[i];
            if (op.Size > 0 && op.Kind is not (ModelOpKind.ClaimCommitShorter))
                yield return scenario with { Ops = [.. ops[..i], op with { Size = op.Size / 2 }, .. ops[(i + 1)..]] };
        }
    }
}

/// <summary>
/// Model-based property: random sequences of non-blocking calls against a <see cref="Queue{T}"/> and the SPSC
/// byte accounting (8-byte record header, 8-byte alignment, a padding record to the end when a record does
/// not fit before it). The ring must return exactly the model's messages, refuse a write exactly when the
/// model says it cannot fit, and report the model's message and byte counts.
/// </summary>
public sealed class SpscModelPropertyTests : IDisposable
{
    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Property(MaxTest = 1000, Arbitrary = [typeof(ModelScenarioArbitrary)])]
    public void Operations_RandomSequence_MatchTheQueueModel(ModelScenario scenario)
    {
        string name = _dir.NewName("model");
        try
        {
            using RingSegment segment = RingSegment.Create(name, new RingOptions { Capacity = scenario.Capacity, MaxMessageLength = scenario.MaxMessageOption });
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
    public void Model_HandPickedWrapSequence_MatchesTheRing()
    {
        // A fixed case through the same runner: an aborted claim, padding at the end of the ring, a shorter
        // commit after the wrap, a ring filled to exactly its capacity (writes refused), a too-short destination.
        ModelScenario scenario = new(64, 0,
        [
            new(ModelOpKind.Write, 8, 0), new(ModelOpKind.Write, 8, 0), new(ModelOpKind.Write, 0, 0),
            new(ModelOpKind.Read, 0, 0), new(ModelOpKind.Read, 0, 0),
            new(ModelOpKind.ClaimAbort, 8, 0), new(ModelOpKind.Write, 8, 0), new(ModelOpKind.Write, 8, 0),
            new(ModelOpKind.ClaimCommitShorter, 8, 1), new(ModelOpKind.Write, 8, 0), new(ModelOpKind.Write, 0, 0),
            new(ModelOpKind.ReadBatch, 0, 2), new(ModelOpKind.ReadShortDestination, 0, 0), new(ModelOpKind.ReadHandler, 0, 0),
            new(ModelOpKind.Write, 8, 0), new(ModelOpKind.Write, 8, 0), new(ModelOpKind.Write, 8, 0), new(ModelOpKind.Write, 8, 0),
            new(ModelOpKind.Write, 0, 0), new(ModelOpKind.ReadBatch, 0, 8),
        ]);
        string name = _dir.NewName("model");
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Capacity = 64 });
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();

        Bounded.Run(() => Run(scenario, segment, writer, reader));
    }

    private static void Run(ModelScenario scenario, RingSegment segment, RingWriter writer, RingReader reader)
    {
        SpscModel model = new(scenario.Capacity);
        int max = scenario.MaxMessageLength;
        Assert.Equal(max, writer.MaxMessageLength);
        byte[] buffer = new byte[max];
        long seed = 0;

        for (int index = 0; index < scenario.Ops.Length; index++)
        {
            ModelOp op = scenario.Ops[index];
            string before = model.ToString(); // the state the op started from, for failure messages
            string at = $"op #{index} {op} from {before}";
            switch (op.Kind)
            {
                case ModelOpKind.Write:
                {
                    byte[] message = Payload.Make(seed++, op.Size);
                    bool fits = model.Fits(op.Size);
                    Assert.True(fits == writer.TryWrite(message), $"{at}: TryWrite returned {!fits}, the model says {fits}");
                    if (fits) model.Append(message, op.Size);
                    break;
                }
                case ModelOpKind.ClaimCommit:
                case ModelOpKind.ClaimCommitShorter:
                case ModelOpKind.ClaimAbort:
                {
                    bool fits = model.Fits(op.Size);
                    bool claimed = writer.TryClaim(op.Size, out Span<byte> claim);
                    Assert.True(fits == claimed, $"{at}: TryClaim returned {claimed}, the model says {fits}");
                    if (!claimed)
                    {
                        Assert.True(claim.IsEmpty, $"{at}: a refused claim handed out {claim.Length} bytes");
                        break;
                    }
                    Assert.True(claim.Length == op.Size, $"{at}: the claim spans {claim.Length} bytes");
                    byte[] message = Payload.Make(seed++, op.Size);
                    message.CopyTo(claim);
                    if (op.Kind == ModelOpKind.ClaimAbort)
                    {
                        writer.Abort();
                    }
                    else if (op.Kind == ModelOpKind.ClaimCommit)
                    {
                        writer.Commit();
                        model.Append(message, op.Size);
                    }
                    else
                    {
                        writer.Commit(op.Arg);
                        model.Append(message[..op.Arg], op.Size);
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
                    if (model.Count > 0 && model.Peek().Length > 0)
                    {
                        int needed = model.Peek().Length;
                        Assert.Throws<ArgumentException>(() => reader.TryRead(new byte[needed - 1], out _));
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
                    int expectedCount = Math.Min(op.Arg, model.Count);
                    int handled = reader.ReadBatch(m => seen.Add(m.ToArray()), op.Arg);
                    Assert.True(handled == expectedCount, $"{at}: ReadBatch handled {handled}, the model has {expectedCount}");
                    Assert.True(seen.Count == handled, $"{at}: ReadBatch returned {handled} but called the handler {seen.Count} times");
                    foreach (byte[] message in seen) CheckRead(model, at, true, message);
                    break;
                }
                case ModelOpKind.BatchPublished:
                case ModelOpKind.BatchDropped:
                {
                    // A dropped batch must leave the ring as it was: its room is computed on a copy of the model.
                    bool publish = op.Kind == ModelOpKind.BatchPublished;
                    SpscModel target = publish ? model : model.Clone();
                    long writtenBefore = segment.GetStatus().MessagesWritten;
                    using (RingBatch batch = writer.BeginBatch())
                    {
                        for (int j = 0; j < op.Arg; j++)
                        {
                            int size = (op.Size + j) % (max + 1);
                            byte[] message = Payload.Make(seed++, size);
                            bool fits = target.Fits(size);
                            Assert.True(fits == batch.TryWrite(message), $"{at}: batch message {j} ({size} B): TryWrite returned {!fits}, the model says {fits}");
                            if (fits) target.Append(message, size);
                        }
                        Assert.True(segment.GetStatus().MessagesWritten == writtenBefore, $"{at}: messages were counted before the batch was published");
                        if (publish) batch.Publish();
                    }
                    break;
                }
                default:
                    throw new InvalidOperationException($"unknown op {op}");
            }

            // Stat costs a dozen syscalls: after each of the first ops, then every 16th and the last. Its
            // counters are cumulative, so a miscount shows up at the next check too.
            if (index < 8 || index % 16 == 0 || index == scenario.Ops.Length - 1) CheckStatus(segment.GetStatus(), model, at);
        }

        // Whatever is left comes out in order, and then the ring is empty.
        while (model.Count > 0)
        {
            bool read = reader.TryRead(buffer, out int length);
            CheckRead(model, "draining", read, buffer.AsSpan(0, read ? length : 0));
        }
        Assert.False(reader.TryRead(buffer, out _), "the ring holds more messages than the model");
        CheckStatus(RingSegment.Stat(segment.Name), model, "drained");
    }

    private static void CheckStatus(SegmentStatus status, SpscModel model, string at)
    {
        Assert.True(status.MessagesInRing == model.Count, $"{at}: Stat says {status.MessagesInRing} messages in the ring, the model {model.Count}");
        Assert.True(status.BytesInRing == model.BytesInRing, $"{at}: Stat says {status.BytesInRing} bytes in the ring, the model {model.BytesInRing}");
    }

    private static void CheckRead(SpscModel model, string at, bool read, ReadOnlySpan<byte> message)
    {
        bool expected = model.Count > 0;
        Assert.True(read == expected, $"{at}: read returned {read}, the model has {model.Count} messages");
        if (!read) return;
        byte[] predicted = model.Take();
        if (!message.SequenceEqual(predicted))
            Assert.Fail($"{at}: read {message.Length} bytes [{Convert.ToHexString(message)}], the model has {predicted.Length} bytes [{Convert.ToHexString(predicted)}]");
    }

    /// <summary>
    /// The queue of committed messages plus the producer's and consumer's byte positions, advanced exactly as
    /// the SPSC record format does (see SpscWriter.TryReserve).
    /// </summary>
    private sealed class SpscModel(long capacity)
    {
        private readonly Queue<(byte[] Message, long End)> _messages = new();
        private long _tail;
        private long _head;

        public int Count => _messages.Count;

        public long BytesInRing => _tail - _head;

        public byte[] Peek() => _messages.Peek().Message;

        /// <summary>How far the tail moves for a record of this payload: the record, plus padding to the end if it does not fit there.</summary>
        private long Advance(int payload)
        {
            long record = Aligned(payload);
            long toEnd = capacity - (_tail & (capacity - 1));
            return record <= toEnd ? record : toEnd + record;
        }

        public bool Fits(int payload) => Advance(payload) <= capacity - (_tail - _head);

        /// <summary>Appends a committed message whose room was reserved for <paramref name="reserved"/> payload bytes.</summary>
        public void Append(byte[] message, int reserved)
        {
            // A shorter commit gives back the aligned difference; any padding reserved for the claim stays.
            _tail += Advance(reserved) - (Aligned(reserved) - Aligned(message.Length));
            _messages.Enqueue((message, _tail));
        }

        public SpscModel Clone()
        {
            SpscModel copy = new(capacity) { _tail = _tail, _head = _head };
            foreach ((byte[] Message, long End) entry in _messages) copy._messages.Enqueue(entry);
            return copy;
        }

        public byte[] Take()
        {
            (byte[] message, long end) = _messages.Dequeue();
            _head = end;
            return message;
        }

        public override string ToString() =>
            $"model[{Count} messages, head {_head}, tail {_tail}, {BytesInRing}/{capacity} bytes used, tail index {_tail & (capacity - 1)}]";

        private static long Aligned(int payload) => (8 + payload + 7) & ~7L;
    }
}
