using System.Buffers.Binary;
using System.Text;
using Ring.Integrity;

namespace Ring.Tests.Integrity;

/// <summary>
/// One publisher and two or three subscribers through the step scheduler, under seeded random schedules: every
/// memory operation of every endpoint (payload copies in two halves, joins included) is a point where another may
/// run. Per subscriber the audit checks that every message it got is intact and in order, that what it skipped is
/// exactly what its <see cref="RingLappedException"/>s reported, that a subscriber that joined at the tail of a Block
/// ring skipped nothing, and that it read to the end once the ring was completed. A publisher that ignores the
/// gate must be caught.
/// </summary>
public sealed class BroadcastInterleavingTests : IDisposable
{
    /// <summary>Per shape (publisher and 2 or 3 subscribers), split between Block and Overwrite: the CI budget of the other shapes.</summary>
    private static int SchedulesPerShape => InterleavingPropertyTests.SchedulesPerShape * Soak.Scale;
    private const int Messages = 14;
    private const long Capacity = 256; // 24-byte payloads at most: records of 24 to 40 bytes, the ring wraps twice or more

    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(2, BroadcastOverflow.Block)]
    [InlineData(2, BroadcastOverflow.Overwrite)]
    [InlineData(3, BroadcastOverflow.Block)]
    [InlineData(3, BroadcastOverflow.Overwrite)]
    public void ScheduledRuns_OnePublisherSeveralSubscribers_EachGetsTheStreamLessExactlyItsReportedLaps(int subscribers, BroadcastOverflow overflow)
    {
        int first = overflow == BroadcastOverflow.Block ? 0 : SchedulesPerShape / 2;
        long laps = 0;
        for (int seed = first; seed < first + SchedulesPerShape / 2; seed++)
        {
            string? failure = Run<CorrectRing>(seed, subscribers, overflow, out long lapsOfTheRun);
            Assert.True(failure is null, $"seed {seed}, {subscribers} subscribers, {overflow}: {failure}");
            laps += lapsOfTheRun;
        }
        // The schedules must reach what they are about: under Overwrite, subscribers that fall behind and are told so.
        if (overflow == BroadcastOverflow.Overwrite) Assert.True(laps > 0, "no schedule lapped a subscriber");
    }

    [Fact]
    public void ScheduledRuns_PublisherIgnoresTheGate_AreCaught()
    {
        int caught = Enumerable.Range(0, 300).Count(seed => Run<BroadcastIgnoresGateRing>(seed, 2, BroadcastOverflow.Block, out _) is not null);

        Assert.True(caught > 0, "the audit passed a publisher that overwrites what its subscribers have not read, through 300 schedules");
    }

    /// <summary>One scheduled run; null when it passed, else what went wrong.</summary>
    private string? Run<TVariant>(int seed, int subscribers, BroadcastOverflow overflow, out long laps) where TVariant : struct, IRingVariant
    {
        string name = _dir.NewName("interleaved");
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Kind = RingKind.Broadcast, Capacity = Capacity, Overflow = overflow });
        StepScheduler scheduler = new([], seed, ScheduledRun.MaxSteps, _ => null); // no endpoint sleeps: every wait spins
        ScheduledMemory<TVariant> memory = new(segment.Buffer, scheduler);
        using RingWriter writer = segment.CreateWriter<BusySpinPolicy, ScheduledMemory<TVariant>>(memory);
        Log[] logs = [.. Enumerable.Range(0, subscribers).Select(index => new Log(index == 0 ? SubscribeFrom.Oldest : SubscribeFrom.Tail))];
        List<Action> bodies = [() => Publish(writer)];
        bodies.AddRange(logs.Select(log => (Action)(() => Subscribe(segment, memory, log))));

        scheduler.Run(bodies);

        RingSegment.Unlink(name);
        laps = logs.Sum(log => log.Laps);
        if (scheduler.Failure is { } failure) return failure;
        StringBuilder problems = new();
        foreach (Log log in logs) log.Audit(overflow, problems);
        return problems.Length == 0 ? null : problems.ToString();
    }

    private static void Publish(RingWriter writer)
    {
        byte[] message = new byte[writer.MaxMessageLength];
        for (long seq = 0; seq < Messages; seq++)
        {
            int length = Encode(seq, message);
            while (!writer.TryWrite(message.AsSpan(0, length)))
            {
                // Block: the slowest subscriber has not read far enough yet; every try is steps the others run between.
            }
        }
        writer.Complete();
    }

    private static void Subscribe<TVariant>(RingSegment segment, ScheduledMemory<TVariant> memory, Log log) where TVariant : struct, IRingVariant
    {
        using RingReader reader = segment.CreateReader<BusySpinPolicy, ScheduledMemory<TVariant>>(memory, PeerLoss.Wait, log.From);
        byte[] buffer = new byte[reader.MaxMessageLength];
        while (true)
        {
            try
            {
                if (reader.TryRead(buffer, out int length)) log.Add(buffer.AsSpan(0, length));
                else if (reader.IsCompleted) return;
            }
            catch (RingLappedException lapped)
            {
                log.Lapped(lapped.LostMessages);
            }
        }
    }

    /// <summary>A message: its sequence, then bytes derived from it; 8 to 24 bytes long.</summary>
    private static int Encode(long seq, Span<byte> message)
    {
        int length = 8 + (int)(seq * 7 % 17);
        BinaryPrimitives.WriteInt64LittleEndian(message, seq);
        Payload.Fill(seq, message[8..length]);
        return length;
    }

    /// <summary>What one subscriber saw, in order: message sequences, and laps as the negative of what they lost.</summary>
    private sealed class Log(SubscribeFrom from)
    {
        private readonly List<long> _events = [];
        private readonly List<string> _torn = [];

        public SubscribeFrom From { get; } = from;

        public int Laps => _events.Count(e => e < 0);

        public void Add(ReadOnlySpan<byte> message)
        {
            long seq = message.Length >= 8 ? BinaryPrimitives.ReadInt64LittleEndian(message) : -1;
            byte[] expected = new byte[24];
            if (seq < 0 || seq >= Messages || Encode(seq, expected) != message.Length || !message.SequenceEqual(expected.AsSpan(0, message.Length)))
                _torn.Add($"a message of {message.Length} bytes that is none published (sequence {seq})");
            _events.Add(seq);
        }

        public void Lapped(long lost) => _events.Add(-lost);

        public void Audit(BroadcastOverflow overflow, StringBuilder problems)
        {
            string who = $"the {From} subscriber";
            foreach (string torn in _torn) problems.Append($"{who} got {torn}; ");
            long last = -1;
            long reported = 0;
            foreach (long e in _events)
            {
                if (e < 0)
                {
                    if (overflow == BroadcastOverflow.Block && From == SubscribeFrom.Tail) problems.Append($"{who} of a Block ring was lapped ({-e} lost); ");
                    reported += -e;
                    continue;
                }
                if (last >= 0 && e - last - 1 != reported)
                    problems.Append($"{who} went from {last} to {e} with {reported} lost reported; ");
                last = e;
                reported = 0;
            }
            if (last >= 0 && last != Messages - 1) problems.Append($"{who} saw the end after message {last} of {Messages}; ");
            if (reported != 0) problems.Append($"{who} was told of {reported} lost messages it never skipped; ");
        }
    }
}
