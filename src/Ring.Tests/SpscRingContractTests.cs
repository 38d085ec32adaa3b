namespace Ring.Tests;

/// <summary>The ring contract, run against the single-producer / single-consumer ring.</summary>
public sealed class SpscRingContractTests : RingContractTests
{
    protected override RingUnderTest CreateRing(RingOptions options, WaitStrategy wait = WaitStrategy.SpinThenBlock)
    {
        RingSegment segment = RingSegment.Create(Segments.NewName("spsc"), options with { Kind = RingKind.Spsc });
        RingWriter? writer = null;
        try
        {
            writer = segment.CreateWriter(wait);
            return new RingUnderTest(segment, writer, segment.CreateReader(wait));
        }
        catch
        {
            writer?.Dispose();
            segment.Dispose();
            throw;
        }
    }
}
