namespace Ring.Bench.Operations;

/// <summary>A segment in a private directory for one benchmark, removed with it.</summary>
internal sealed class BenchmarkRing : IDisposable
{
    private readonly string _directory;

    public BenchmarkRing(RingOptions options)
    {
        _directory = Path.Combine("/dev/shm", $"ring-bench-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Segment = RingSegment.Create(Path.Combine(_directory, "ring"), options);
    }

    public RingSegment Segment { get; }

    public void Dispose()
    {
        Segment.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
