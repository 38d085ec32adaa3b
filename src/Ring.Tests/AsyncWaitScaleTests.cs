using System.Globalization;
using Xunit.Abstractions;

namespace Ring.Tests;

/// <summary>
/// What pending async waits cost in OS threads: none per wait. Alone in its collection, so no other test's
/// threads come and go while it counts.
/// </summary>
[Collection(AsyncWaitScaleCollection.Name)]
public sealed class AsyncWaitScaleTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private const int Segments = 100;
    private const int ReadersPerSegment = 10;

    private readonly TempSegmentDirectory _dir = new();

    public static TheoryData<AsyncWaitMechanism> Mechanisms => AsyncWaitTests.Mechanisms;

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// 1,000 pending reads on 100 MPMC segments (10 readers sharing each segment's word): futex_waitv holds them on
    /// one service thread (100 words, under its 127), the fallback on one thread per word. Either way the reads
    /// complete, each once, when their messages come.
    /// </summary>
    [Theory, MemberData(nameof(Mechanisms))]
    public async Task PendingReads_ThousandOnHundredSegments_HoldNoThreadPerWait(AsyncWaitMechanism mechanism)
    {
        AsyncWaitService service = new(mechanism);
        using AsyncWaitService.Scope scope = AsyncWaitService.Use(service);
        List<RingSegment> segments = [];
        List<RingWriter> writers = [];
        List<RingReader> readers = [];
        try
        {
            for (int s = 0; s < Segments; s++)
            {
                RingSegment segment = RingSegment.Create(_dir.NewName("mpmc"), new RingOptions { Kind = RingKind.Mpmc, SlotCount = 16, MaxMessageLength = 16 });
                segments.Add(segment);
                writers.Add(segment.CreateWriter());
                for (int r = 0; r < ReadersPerSegment; r++) readers.Add(segment.CreateReader());
            }
            int idle = OsThreads();

            Task<bool>[] reads = [.. readers.Select(reader => reader.WaitToReadAsync().AsTask())];
            int pending = OsThreads();
            output.WriteLine($"{reads.Length} pending reads: {pending} OS threads, {idle} before; {service.Threads} service threads");

            Assert.DoesNotContain(reads, read => read.IsCompleted);
            Assert.Equal(reads.Length, service.Registrations);
            Assert.Equal(reads.Length, segments.Sum(s => s.GetStatus().ReadersWaiting));
            int allowed = mechanism == AsyncWaitMechanism.FutexWaitv ? 4 : Segments + 4;
            Assert.True(pending - idle <= allowed, $"{reads.Length} pending reads took {pending - idle} more OS threads ({pending} against {idle}); at most {allowed} allowed");

            foreach (RingWriter writer in writers)
            {
                for (int r = 0; r < ReadersPerSegment; r++) Assert.True(writer.TryWrite(new byte[16]));
            }
            bool[] results = await Task.WhenAll(reads).WaitAsync(Bound);
            Assert.All(results, Assert.True);
            Assert.Equal(0, service.Registrations);
        }
        finally
        {
            foreach (RingReader reader in readers) reader.Dispose();
            foreach (RingWriter writer in writers) writer.Dispose();
            foreach (RingSegment segment in segments) segment.Dispose();
        }
    }

    private static int OsThreads()
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("Threads:", StringComparison.Ordinal));
        return int.Parse(line.AsSpan("Threads:".Length).Trim(), CultureInfo.InvariantCulture);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AsyncWaitScaleCollection
{
    public const string Name = "Async wait threads (counts the process's threads)";
}
