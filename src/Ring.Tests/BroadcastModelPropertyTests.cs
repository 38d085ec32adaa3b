using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Ring.Tests;

/// <summary>One non-blocking call on a broadcast ring, as the property generates it.</summary>
public enum BroadcastOpKind
{
    Publish,
    Read,
    ReadBatch,
    SubscribeAtTail,
    SubscribeAtOldest,
    Unsubscribe,
}

/// <param name="Arg">Publish: the payload length; reads and unsubscribe: which live subscriber (modulo their number).</param>
/// <param name="Limit">ReadBatch: the batch limit.</param>
public readonly record struct BroadcastOp(BroadcastOpKind Kind, int Arg, int Limit)
{
    public override string ToString() => Kind switch
    {
        BroadcastOpKind.ReadBatch => $"{Kind}({Arg}, {Limit})",
        BroadcastOpKind.SubscribeAtTail or BroadcastOpKind.SubscribeAtOldest => Kind.ToString(),
        _ => $"{Kind}({Arg})",
    };
}

public sealed record BroadcastScenario(long Capacity, int MaxMessageLength, BroadcastOverflow Overflow, BroadcastOp[] Ops)
{
    public override string ToString()
    {
        StringBuilder text = new($"Capacity={Capacity} MaxMessageLength={MaxMessageLength} {Overflow} ({Ops.Length} ops): ");
        text.AppendJoin(", ", Ops);
        return text.ToString();
    }
}

public static class BroadcastScenarioArbitrary
{
    public static Arbitrary<BroadcastScenario> Scenarios() => Arb.From(Generate(), Shrink);

    private static Gen<BroadcastScenario> Generate() =>
        from log2 in Gen.Choose(6, 11)
        let capacity = 1L << log2
        let limit = SegmentLayout.BroadcastMaxMessageLengthFor(capacity)
        from max in Gen.Frequency((2, Gen.Constant(limit)), (1, Gen.Choose(0, limit)))
        from overflow in Gen.Elements(BroadcastOverflow.Block, BroadcastOverflow.Overwrite)
        from publishWeight in Gen.Choose(1, 8)
        from count in Gen.Sized(size => Gen.Choose(0, 20 + 3 * size))
        from ops in Gen.ArrayOf(Op(max, publishWeight), count)
        select new BroadcastScenario(capacity, max, overflow, ops);

    private static Gen<BroadcastOp> Op(int max, int publishWeight)
    {
        Gen<int> subscriber = Gen.Choose(0, 7);
        return Gen.Frequency(
            (3 * publishWeight, Gen.Choose(0, max).Select(size => new BroadcastOp(BroadcastOpKind.Publish, size, 0))),
            (6, subscriber.Select(s => new BroadcastOp(BroadcastOpKind.Read, s, 0))),
            (2, from s in subscriber from limit in Gen.Choose(1, 8) select new BroadcastOp(BroadcastOpKind.ReadBatch, s, limit)),
            (1, Gen.Constant(new BroadcastOp(BroadcastOpKind.SubscribeAtTail, 0, 0))),
            (1, Gen.Constant(new BroadcastOp(BroadcastOpKind.SubscribeAtOldest, 0, 0))),
            (1, subscriber.Select(s => new BroadcastOp(BroadcastOpKind.Unsubscribe, s, 0))));
    }

    private static IEnumerable<BroadcastScenario> Shrink(BroadcastScenario scenario)
    {
        BroadcastOp[] ops = scenario.Ops;
        for (int chunk = ops.Length / 2; chunk >= 1; chunk /= 2)
        {
            for (int start = 0; start + chunk <= ops.Length; start += chunk)
                yield return scenario with { Ops = [.. ops[..start], .. ops[(start + chunk)..]] };
        }
    }
}

/// <summary>
/// Model-based property: random publishes, reads, batches, joins and leaves by several subscribers on one thread,
/// against a model of the byte ring (16-byte headers, 8-byte alignment, padding to the end, R = newTail − capacity,
/// Oldest the first record at or above R). Block: a publish is refused exactly when it would overwrite a record a
/// subscriber has not read (from its join tail on), and no subscriber that joined at the tail loses anything.
/// Overwrite: never refused; every subscriber's messages are the published sequence minus exactly the ranges its
/// <see cref="RingLappedException"/>s reported.
/// </summary>
public sealed class BroadcastModelPropertyTests : IDisposable
{
    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Property(MaxTest = 500, Arbitrary = [typeof(BroadcastScenarioArbitrary)])]
    public void Operations_RandomSequence_MatchTheBroadcastModel(BroadcastScenario scenario)
    {
        string name = _dir.NewName("model");
        try
        {
            using RingSegment segment = RingSegment.Create(name, new RingOptions
            {
                Kind = RingKind.Broadcast,
                Capacity = scenario.Capacity,
                MaxMessageLength = scenario.MaxMessageLength,
                Overflow = scenario.Overflow,
            });
            using RingWriter writer = segment.CreateWriter();
            Bounded.Run(() => new Run(scenario, segment, writer).Execute());
        }
        finally
        {
            RingSegment.Unlink(name);
        }
    }

    [Fact]
    public void Model_HandPickedLapAcrossPadding_MatchesTheRing()
    {
        // 64 bytes, 16-byte records of empty messages and a 24-byte one: padding at the end, a lapped subscriber, a
        // late joiner from Oldest, a refused publish under Block.
        foreach (BroadcastOverflow overflow in new[] { BroadcastOverflow.Block, BroadcastOverflow.Overwrite })
        {
            BroadcastScenario scenario = new(64, 0, overflow,
            [
                new(BroadcastOpKind.Publish, 0, 0), new(BroadcastOpKind.Publish, 0, 0), new(BroadcastOpKind.Read, 0, 0),
                new(BroadcastOpKind.Publish, 0, 0), new(BroadcastOpKind.Publish, 0, 0), new(BroadcastOpKind.Publish, 0, 0),
                new(BroadcastOpKind.SubscribeAtOldest, 0, 0), new(BroadcastOpKind.Publish, 0, 0), new(BroadcastOpKind.Read, 0, 0),
                new(BroadcastOpKind.ReadBatch, 1, 8), new(BroadcastOpKind.Read, 0, 0), new(BroadcastOpKind.ReadBatch, 0, 8),
            ]);
            string name = _dir.NewName("hand");
            using RingSegment segment = RingSegment.Create(name, new RingOptions { Kind = RingKind.Broadcast, Capacity = 64, Overflow = overflow });
            using RingWriter writer = segment.CreateWriter();
            new Run(scenario, segment, writer).Execute();
        }
    }

    /// <summary>A record in the model's byte ring: a message (with its sequence) or a padding record.</summary>
    private readonly record struct Record(long Start, long End, long Sequence, byte[]? Payload);

    private sealed class Subscriber(RingReader reader, long cursor, long joinTail, long expected)
    {
        public RingReader Reader { get; } = reader;
        public long Cursor { get; set; } = cursor;
        public long JoinTail { get; } = joinTail;
        public long Expected { get; set; } = expected;
        public long PendingLost { get; set; }
    }

    private sealed class Run(BroadcastScenario scenario, RingSegment segment, RingWriter writer)
    {
        private const int MaxSubscribers = 6;
        private readonly List<Record> _records = [];
        private readonly List<Subscriber> _subscribers = [];
        private long _tail;
        private long _reclaim;
        private long _published;

        private bool Overwrite => scenario.Overflow == BroadcastOverflow.Overwrite;

        public void Execute()
        {
            try
            {
                Subscribe(SubscribeFrom.Tail);
                for (int step = 0; step < scenario.Ops.Length; step++)
                {
                    BroadcastOp op = scenario.Ops[step];
                    try
                    {
                        Apply(op);
                    }
                    catch (Exception error) when (error is not Xunit.Sdk.XunitException)
                    {
                        throw new InvalidOperationException($"op {step} {op}: {error.Message}", error);
                    }
                }
            }
            finally
            {
                foreach (Subscriber subscriber in _subscribers) subscriber.Reader.Dispose();
            }
        }

        private void Apply(BroadcastOp op)
        {
            switch (op.Kind)
            {
                case BroadcastOpKind.Publish:
                    Publish(op.Arg);
                    break;
                case BroadcastOpKind.SubscribeAtTail when _subscribers.Count < MaxSubscribers:
                    Subscribe(SubscribeFrom.Tail);
                    break;
                case BroadcastOpKind.SubscribeAtOldest when _subscribers.Count < MaxSubscribers:
                    Subscribe(SubscribeFrom.Oldest);
                    break;
                case BroadcastOpKind.Read when _subscribers.Count > 0:
                    Read(_subscribers[op.Arg % _subscribers.Count]);
                    break;
                case BroadcastOpKind.ReadBatch when _subscribers.Count > 0:
                    ReadBatch(_subscribers[op.Arg % _subscribers.Count], op.Limit);
                    break;
                case BroadcastOpKind.Unsubscribe when _subscribers.Count > 0:
                    Subscriber leaving = _subscribers[op.Arg % _subscribers.Count];
                    leaving.Reader.Dispose();
                    _subscribers.Remove(leaving);
                    break;
            }
        }

        private void Publish(int length)
        {
            long record = SegmentLayout.BroadcastAlignedRecordLength(length);
            long toEnd = scenario.Capacity - (_tail % scenario.Capacity);
            long padding = record <= toEnd ? 0 : toEnd;
            long newTail = _tail + padding + record;
            // Block: the publisher waits for every subscriber's published cursor (its join tail while in the history).
            bool fits = Overwrite || _subscribers.TrueForAll(s => newTail - scenario.Capacity <= Math.Max(s.Cursor, s.JoinTail));
            byte[] payload = Payload.Make(_published, length);

            Assert.True(fits == writer.TryWrite(payload), $"publish of {length} bytes at tail {_tail}: the model says {(fits ? "it fits" : "full")}");
            if (!fits) return;
            if (padding > 0) _records.Add(new Record(_tail, _tail + padding, -1, null));
            _records.Add(new Record(_tail + padding, newTail, _published++, payload));
            // Under Overwrite R runs a sixteenth of the ring ahead of the need, never past the tail before the publish.
            long needed = newTail - scenario.Capacity;
            if (needed > _reclaim) _reclaim = Overwrite ? Math.Min(needed + (scenario.Capacity / 16 & ~(SegmentLayout.RecordAlignment - 1)), _tail) : needed;
            _tail = newTail;
        }

        private void Subscribe(SubscribeFrom from)
        {
            RingReader reader = segment.CreateSubscriber(from);
            Subscriber subscriber = new(reader, _tail, _tail, _published);
            if (from == SubscribeFrom.Oldest && _published > 0)
            {
                Record oldest = _records.First(r => r.Start >= _reclaim);
                subscriber.Cursor = oldest.Start;
                subscriber.Expected = _records.First(r => r.Start >= oldest.Start && r.Payload is not null).Sequence;
            }
            _subscribers.Add(subscriber);
        }

        /// <summary>What the subscriber's next step finds: a message, nothing, or a lap (repositioned, with what it lost).</summary>
        private Record? Next(Subscriber s, out long lost)
        {
            lost = 0;
            if (s.Cursor == _tail) return null;
            if (s.Cursor < _reclaim)
            {
                Assert.True(Overwrite || s.Cursor < s.JoinTail, $"a subscriber the Block publisher waits for was overwritten at {s.Cursor}");
                long oldest = _records.First(r => r.Start >= _reclaim).Start;
                long sequence = _records.First(r => r.Start >= oldest && r.Payload is not null).Sequence;
                lost = sequence - s.Expected;
                s.Cursor = oldest;
                s.Expected = sequence;
                if (lost > 0) return null;
            }
            Record message = _records.First(r => r.Start >= s.Cursor && r.Payload is not null);
            Assert.Equal(s.Expected, message.Sequence);
            return message;
        }

        private void Read(Subscriber s)
        {
            if (ThrowsPending(s, () => s.Reader.TryRead(new byte[scenario.MaxMessageLength], out _))) return;
            Record? next = Next(s, out long lost);
            byte[] buffer = new byte[scenario.MaxMessageLength];
            if (lost > 0)
            {
                Assert.Equal(lost, Assert.Throws<RingLappedException>(() => s.Reader.TryRead(buffer, out _)).LostMessages);
                return;
            }
            bool read = s.Reader.TryRead(buffer, out int length);
            Assert.True(read == next.HasValue, next.HasValue ? $"the subscriber missed message {next.Value.Sequence}" : "the subscriber read a message the model does not have");
            if (next is not { } message) return;
            Assert.Equal(message.Payload, buffer[..length]);
            Take(s, message);
        }

        private void ReadBatch(Subscriber s, int limit)
        {
            if (ThrowsPending(s, () => s.Reader.ReadBatch(_ => { }, limit))) return;
            List<byte[]> expected = [];
            long lost = 0;
            while (expected.Count < limit)
            {
                Record? next = Next(s, out lost);
                if (next is not { } message) break;
                expected.Add(message.Payload!);
                Take(s, message);
            }
            List<byte[]> seen = [];
            if (lost > 0 && expected.Count == 0)
            {
                Assert.Equal(lost, Assert.Throws<RingLappedException>(() => s.Reader.ReadBatch(m => seen.Add(m.ToArray()), limit)).LostMessages);
                return;
            }
            Assert.Equal(expected.Count, s.Reader.ReadBatch(m => seen.Add(m.ToArray()), limit));
            Assert.Equal(expected, seen);
            s.PendingLost = lost; // a lap after the last message a batch handed out is thrown by the next call
        }

        /// <summary>A lap a batch found and left to the next call: that call throws it, whatever it is.</summary>
        private static bool ThrowsPending(Subscriber s, Action call)
        {
            if (s.PendingLost == 0) return false;
            Assert.Equal(s.PendingLost, Assert.Throws<RingLappedException>(call).LostMessages);
            s.PendingLost = 0;
            return true;
        }

        private static void Take(Subscriber s, Record message)
        {
            s.Cursor = message.End;
            s.Expected = message.Sequence + 1;
        }
    }
}
