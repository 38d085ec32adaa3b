using Microsoft.Extensions.Logging;

namespace Ring.Tests;

/// <summary>
/// The rare events logged to <see cref="RingOptions.LoggerFactory"/> / <see cref="RingOpenOptions.LoggerFactory"/>:
/// each provoked as the tests of its path provoke it, and checked by event id, level and message.
/// </summary>
public sealed class RingLogTests : IDisposable
{
    private readonly TempSegmentDirectory _dir = new();
    private readonly CapturingLoggerFactory _logs = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public void Read_PeerLossCompleteLastProducerDetached_LogsPeerLostOnceHoweverManyLooksSeeIt(RingKind kind)
    {
        string name = _dir.NewName("log");
        RingOptions options = kind == RingKind.Spsc ? new RingOptions() : new RingOptions { Kind = RingKind.Mpmc };
        using RingSegment segment = RingSegment.Create(name, options with { LoggerFactory = _logs });
        using RingReader reader = segment.CreateReader(WaitStrategy.SpinThenBlock, PeerLoss.Complete);
        segment.CreateWriter().Dispose();
        byte[] buffer = new byte[16];
        using CancellationTokenSource limit = new(TimeSpan.FromSeconds(30));

        // Past two peer-watch intervals, so the reader looks at the participant table again and finds the loss again.
        System.Diagnostics.Stopwatch watching = System.Diagnostics.Stopwatch.StartNew();
        int ends = 0;
        while (watching.Elapsed < 2 * PeerWatch.Interval + TimeSpan.FromMilliseconds(10))
        {
            Assert.Throws<RingPeerLostException>(() => reader.Read(buffer, limit.Token));
            ends++;
        }

        Logged peerLost = Assert.Single(_logs.Entries);
        Assert.True(ends > 1, "the loss was seen once only");
        Assert.Equal((2, "PeerLost", LogLevel.Warning, RingLog.Category), (peerLost.Id.Id, peerLost.Id.Name, peerLost.Level, peerLost.Category));
        Assert.Equal($"Ring '{name}': a reader under PeerLoss.Complete ends its stream: every producer is gone: the last one detached", peerLost.Message);
    }

    [Fact]
    public void TryRead_TailMisaligned_LogsRingCorruptedOnceWithTheRule()
    {
        string name = _dir.NewName("log");
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Capacity = 256, MaxMessageLength = 32, LoggerFactory = _logs });
        using RingWriter writer = segment.CreateWriter();
        using RingReader reader = segment.CreateReader();
        Assert.True(writer.TryWrite("x"u8));
        segment.Buffer.WriteInt64(SegmentLayout.TailOffset, 12L); // a hostile process's store

        for (int i = 0; i < 2; i++) Assert.Throws<RingCorruptedException>(() => reader.TryRead(new byte[32], out _));

        Logged corrupted = Assert.Single(_logs.Entries);
        Assert.Equal((3, "RingCorrupted", LogLevel.Error), (corrupted.Id.Id, corrupted.Id.Name, corrupted.Level));
        Assert.Equal($"Ring '{name}' is corrupted (PositionAlignment): head 0 and tail 12 are not 0..256 bytes apart on 8-byte boundaries from 0",
            corrupted.Message);
    }

    [Fact]
    public void RecoverAbandonedReads_SlotTakenByAVanishedConsumer_LogsThePositionRecoveredAndLost()
    {
        string name = _dir.NewName("log");
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Kind = RingKind.Mpmc, SlotCount = 4, MaxMessageLength = 32 });
        using RingSegment opened = RingSegment.Open(name, new RingOpenOptions { LoggerFactory = _logs });
        using RingWriter writer = segment.CreateWriter();
        Assert.True(writer.TryWrite("0"u8));
        SegmentFile.WriteInt64(name, SegmentLayout.HeadOffset, 1); // position 0: taken by a consumer that vanished

        Assert.Equal(1, opened.RecoverAbandonedReads());

        Logged recovered = Assert.Single(_logs.Entries);
        Assert.Equal((1, "PositionRecovered", LogLevel.Warning), (recovered.Id.Id, recovered.Id.Name, recovered.Level));
        Assert.Equal($"Ring '{name}': position 0 was held by a dead consumer and is completed for it (lost in delivery: True)", recovered.Message);
    }

    [Fact]
    public void OpenOrCreate_ResetStaleOverAStaleSegment_LogsTheReset()
    {
        string name = _dir.NewName("log");
        using (RingSegment.Create(name, new RingOptions()))
        {
        }
        SegmentFile.WriteInt32(name, SegmentLayout.ParticipantEntryOffset(0) + SegmentLayout.EntryStateOffset, 1); // an entry whose holder died

        using RingSegment fresh = RingSegment.OpenOrCreate(name, new RingOptions { ResetStale = true, LoggerFactory = _logs });

        Logged reset = Assert.Single(_logs.Entries);
        Assert.Equal((4, "StaleSegmentReset", LogLevel.Warning), (reset.Id.Id, reset.Id.Name, reset.Level));
        Assert.Equal($"Ring '{name}': the stale segment at {name} (every participant died attached) is replaced by a new empty one", reset.Message);
    }

    private sealed record Logged(string Category, LogLevel Level, EventId Id, string Message);

    /// <summary>Every enabled entry any of its loggers is given, in order.</summary>
    private sealed class CapturingLoggerFactory : ILoggerFactory
    {
        private readonly List<Logged> _entries = [];

        public IReadOnlyList<Logged> Entries
        {
            get
            {
                lock (_entries) return [.. _entries];
            }
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerFactory factory, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (factory._entries) factory._entries.Add(new Logged(category, logLevel, eventId, formatter(state, exception)));
            }
        }
    }
}
