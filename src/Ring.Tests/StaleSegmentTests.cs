using System.Diagnostics;
using System.Globalization;
using Ring.Stress;
using Ring.Tooling;

namespace Ring.Tests;

/// <summary>
/// A segment whose participants all died without detaching is stale: Stat reports it, Open says so, and
/// OpenOrCreate replaces it only when asked to and only when nobody is left on it. The dead participant is a
/// real <c>Ring.Stress worker</c> child: it attaches as a producer, fills the ring, blocks waiting for room
/// (its write timeout is a minute) and is then killed with SIGKILL, so the kernel drops its locks the way it
/// does for a crash.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class StaleSegmentTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static readonly RingOptions Spsc = new() { Capacity = 4096 };
    private static readonly RingOptions Mpmc = new() { Kind = RingKind.Mpmc, SlotCount = 16, MaxMessageLength = 64 };

    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static RingOptions OptionsFor(RingKind kind) => kind == RingKind.Mpmc ? Mpmc : Spsc;

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task Stat_EveryParticipantKilled_ReportsStaleWithTheDeadEntries(RingKind kind)
    {
        string name = CreateDetached(kind);
        using ChildProcess child = await StartBlockedProducerAsync(name);
        SegmentStatus alive = RingSegment.Stat(name);

        await KillAsync(child);
        SegmentStatus dead = RingSegment.Stat(name);

        Assert.False(alive.IsStale);
        Assert.Equal(1, alive.AttachedProcesses);
        Assert.True(dead.IsStale, $"every participant is dead, Stat says not stale.\n{child.Describe()}");
        Assert.Equal(0, dead.AttachedProcesses);
        // The child's attachment and its producer, left behind by the kill.
        Assert.Equal([RingRole.None, RingRole.Producer], dead.Participants.Select(p => p.Roles).Order());
        Assert.All(dead.Participants, p =>
        {
            Assert.Equal(child.Id, p.Pid);
            Assert.False(p.IsAlive);
        });
        Assert.Equal(alive.Participants.Select(p => p.Index).Order(), dead.Participants.Select(p => p.Index).Order());
        // Its messages, and its counters (MPMC: still in its dead entry), are all there.
        Assert.True(dead.MessagesInRing > 0);
        Assert.Equal(alive.MessagesInRing, dead.MessagesInRing);
        Assert.Equal(dead.MessagesInRing, dead.MessagesWritten);
        Assert.True(dead.FullEvents > 0);
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task Open_EveryParticipantKilled_WasStaleAndTheMessagesCanBeRead(RingKind kind)
    {
        string name = CreateDetached(kind);
        using ChildProcess child = await StartBlockedProducerAsync(name);
        await KillAsync(child);
        long messages = RingSegment.Stat(name).MessagesInRing;

        using RingSegment opened = RingSegment.Open(name);
        using RingSegment second = RingSegment.Open(name);

        Assert.True(opened.WasStale, $"the first attach after the kill must see a stale segment.\n{child.Describe()}");
        Assert.False(second.WasStale); // the first attach is alive
        Assert.False(opened.GetStatus().IsStale);
        Assert.Equal(1, opened.GetStatus().AttachedProcesses);
        AssertReadsSequence(opened, 0, messages);
        SegmentStatus status = opened.GetStatus();
        // Taking the dead producer's entry over moved its counters (MPMC) into the totals: nothing lost.
        Assert.Equal((messages, messages, 0L), (status.MessagesWritten, status.MessagesRead, status.MessagesInRing));
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task OpenOrCreate_StaleSegmentWithoutResetStale_KeepsItsMessages(RingKind kind)
    {
        string name = CreateDetached(kind);
        using ChildProcess child = await StartBlockedProducerAsync(name);
        await KillAsync(child);
        SegmentStatus before = RingSegment.Stat(name);

        using RingSegment segment = RingSegment.OpenOrCreate(name, OptionsFor(kind));

        Assert.True(segment.WasStale);
        Assert.Equal(before.CreatedAt, segment.GetStatus().CreatedAt);
        Assert.Equal(before.MessagesInRing, segment.GetStatus().MessagesInRing);
        using RingWriter writer = segment.CreateWriter(); // SPSC: the dead producer's role is free again
        AssertReadsSequence(segment, 0, before.MessagesInRing);
        // A new producer carries on after the dead one's messages.
        Assert.True(writer.TryWrite("after"u8));
        using RingReader reader = segment.CreateReader();
        byte[] buffer = new byte[64];
        Assert.True(reader.TryRead(buffer, out int length));
        Assert.Equal("after"u8.ToArray(), buffer[..length]);
        SegmentStatus status = segment.GetStatus();
        Assert.Equal((before.MessagesInRing + 1, before.MessagesInRing + 1, 0L), (status.MessagesWritten, status.MessagesRead, status.MessagesInRing));
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task OpenOrCreate_StaleSegmentWithResetStale_ReplacesItWithAnEmptySegment(RingKind kind)
    {
        string name = CreateDetached(kind);
        using ChildProcess child = await StartBlockedProducerAsync(name);
        await KillAsync(child);
        SegmentStatus before = RingSegment.Stat(name);
        Assert.True(before.IsStale);

        using RingSegment segment = RingSegment.OpenOrCreate(name, OptionsFor(kind) with { ResetStale = true });

        Assert.False(segment.WasStale);
        SegmentStatus after = segment.GetStatus();
        Assert.True(after.CreatedAt > before.CreatedAt, $"created at {after.CreatedAt:O}, the stale one at {before.CreatedAt:O}: not a new segment");
        Assert.False(after.IsStale);
        Assert.Equal((kind, before.Capacity, before.SlotCount), (after.Kind, after.Capacity, after.SlotCount));
        Assert.Equal((0L, 0L, 0L, 0L, 0L), (after.MessagesInRing, after.MessagesWritten, after.MessagesRead, after.FullEvents, after.Recoveries));
        ParticipantStatus me = Assert.Single(after.Participants);
        Assert.Equal((Environment.ProcessId, RingRole.None, true), (me.Pid, me.Roles, me.IsAlive));
        Assert.Equal([Path.GetFileName(name)], _dir.Entries()); // no staging file left behind
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        Assert.False(reader.TryRead(new byte[64], out _));
        Assert.True(writer.TryWrite("fresh"u8));
        byte[] buffer = new byte[64];
        Assert.True(reader.TryRead(buffer, out int length));
        Assert.Equal("fresh"u8.ToArray(), buffer[..length]);
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public async Task OpenOrCreate_ResetStaleWhileAParticipantLives_KeepsTheSegment(RingKind kind)
    {
        string name = CreateDetached(kind);
        using ChildProcess child = await StartBlockedProducerAsync(name);
        SegmentStatus before = RingSegment.Stat(name);

        using (RingSegment segment = RingSegment.OpenOrCreate(name, OptionsFor(kind) with { ResetStale = true }))
        {
            Assert.False(segment.WasStale);
            SegmentStatus both = segment.GetStatus();
            Assert.Equal(before.CreatedAt, both.CreatedAt);
            Assert.Equal(before.MessagesInRing, both.MessagesInRing);
            Assert.Equal(3, both.Participants.Count); // the child's attachment and producer, and this attachment
            Assert.Equal(2, both.AttachedProcesses); // two processes
            Assert.False(child.HasExited, $"the child must still be blocked on the full ring.\n{child.Describe()}");

            await KillAsync(child);

            // This attachment is still alive: not stale while it stays.
            SegmentStatus mine = segment.GetStatus();
            Assert.False(mine.IsStale);
            Assert.Equal(1, mine.AttachedProcesses);
        }

        // Now only the dead child's entries are left.
        Assert.True(RingSegment.Stat(name).IsStale);
        Assert.Equal(before.MessagesInRing, RingSegment.Stat(name).MessagesInRing);
    }

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public void OpenOrCreate_ResetStaleAfterEveryoneDetachedCleanly_KeepsTheMessages(RingKind kind)
    {
        // Idle is not stale: a segment everybody left properly is waiting for its next consumer.
        string name = _dir.NewName("stale");
        using (RingSegment segment = RingSegment.Create(name, OptionsFor(kind)))
        using (RingWriter writer = segment.CreateWriter())
        {
            Assert.True(writer.TryWrite("kept"u8));
        }
        SegmentStatus idle = RingSegment.Stat(name);
        Assert.False(idle.IsStale);
        Assert.Empty(idle.Participants);

        using RingSegment reopened = RingSegment.OpenOrCreate(name, OptionsFor(kind) with { ResetStale = true });

        Assert.False(reopened.WasStale);
        Assert.Equal(idle.CreatedAt, reopened.GetStatus().CreatedAt);
        using RingReader reader = reopened.CreateReader();
        byte[] buffer = new byte[64];
        Assert.True(reader.TryRead(buffer, out int length));
        Assert.Equal("kept"u8.ToArray(), buffer[..length]);
    }

    /// <summary>A new segment that nobody in this process stays attached to.</summary>
    private string CreateDetached(RingKind kind)
    {
        string name = _dir.NewName("stale");
        using (RingSegment.Create(name, OptionsFor(kind)))
        {
        }
        return name;
    }

    /// <summary>
    /// Starts a child producer with more messages than the ring holds and a minute of patience for room; returns
    /// once it holds the producer role and has found the ring full, so it is blocked with the ring's contents settled.
    /// </summary>
    private static async Task<ChildProcess> StartBlockedProducerAsync(string name)
    {
        ChildProcess child = StressWorker.Start(
            "--segment", name, "--role", "producer", "--messages", "100000", "--max-size", "64",
            "--write-timeout-ms", (60_000).ToString(CultureInfo.InvariantCulture));
        try
        {
            Stopwatch waited = Stopwatch.StartNew();
            while (true)
            {
                SegmentStatus status = RingSegment.Stat(name);
                if (status.FullEvents > 0 && status.Participants.Any(p => p.Pid == child.Id && p.IsAlive && p.Roles == RingRole.Producer))
                    return child;
                if (child.HasExited || waited.Elapsed > Deadline)
                    throw new Xunit.Sdk.XunitException($"the child never blocked on a full ring.\n{child.Describe()}");
                await Task.Delay(10);
            }
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    /// <summary>SIGKILL, then waits for the exit: by then the kernel has closed its descriptors and dropped its locks.</summary>
    private static async Task KillAsync(ChildProcess child)
    {
        child.Kill();
        await child.Exited.WaitAsync(Deadline);
    }

    /// <summary>Reads exactly <paramref name="count"/> messages, the child's sequence numbers from <paramref name="first"/> on, then an empty ring.</summary>
    private static void AssertReadsSequence(RingSegment segment, long first, long count)
    {
        using RingReader reader = segment.CreateReader();
        byte[] buffer = new byte[segment.MaxMessageLength];
        for (long expected = first; expected < first + count; expected++)
        {
            Assert.True(reader.TryRead(buffer, out int length), $"message {expected} of {first + count} missing");
            Assert.Equal(expected, StressMessage.ReadSequence(buffer.AsSpan(0, length)));
        }
        Assert.False(reader.TryRead(buffer, out _), "more messages than the segment reported");
    }
}
