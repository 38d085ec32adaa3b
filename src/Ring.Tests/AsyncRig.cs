namespace Ring.Tests;

/// <summary>
/// One segment with a writer and a reader, and the async wait service their async calls use: a test's own, in effect
/// (<see cref="AsyncWaitService.Use"/>) from here until the rig is disposed, so the registrations and threads the test
/// counts are its own. Disposing removes the segment's endpoints and detaches.
/// </summary>
internal sealed class AsyncRig : IDisposable
{
    private readonly AsyncWaitService.Scope _scope;

    public AsyncRig(string name, RingOptions options, AsyncWaitMechanism mechanism)
        : this(name, options, new AsyncWaitService(mechanism))
    {
    }

    /// <summary>A rig on the service of another (two segments waited on by one service).</summary>
    public AsyncRig(string name, RingOptions options, AsyncWaitService service)
    {
        Service = service;
        _scope = AsyncWaitService.Use(service);
        Segment = RingSegment.Create(name, options);
        Writer = Segment.CreateWriter();
        Reader = Segment.CreateReader();
    }

    public AsyncWaitService Service { get; }

    public RingSegment Segment { get; }

    public RingWriter Writer { get; }

    public RingReader Reader { get; }

    /// <summary>No wait is left in the service, nor any registration in the segment's eventcounts.</summary>
    public void AssertNothingRegistered()
    {
        Assert.Equal(0, Service.Registrations);
        SegmentStatus status = Segment.GetStatus();
        Assert.Equal((0, 0), (status.ReadersWaiting, status.WritersWaiting));
    }

    /// <summary>Writes messages of <paramref name="length"/> bytes until the ring has no room for another.</summary>
    public void Fill(int length)
    {
        byte[] message = new byte[length];
        for (int written = 0; Writer.TryWrite(message); written++)
        {
            Assert.True(written < 1_000_000, "the ring never reports full");
        }
    }

    public void Dispose()
    {
        Segment.Dispose();
        _scope.Dispose();
    }
}
