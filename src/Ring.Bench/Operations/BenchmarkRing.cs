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

/// <summary>A benchmark ring with one busy-spinning writer and reader attached, disposed together.</summary>
internal sealed class BenchmarkPair : IDisposable
{
    private readonly BenchmarkRing _ring;

    public BenchmarkPair(RingOptions options)
    {
        _ring = new BenchmarkRing(options);
        Writer = _ring.Segment.CreateWriter(WaitStrategy.BusySpin);
        Reader = _ring.Segment.CreateReader(WaitStrategy.BusySpin);
    }

    public RingWriter Writer { get; }

    public RingReader Reader { get; }

    public void Dispose()
    {
        Writer.Dispose();
        Reader.Dispose();
        _ring.Dispose();
    }
}
