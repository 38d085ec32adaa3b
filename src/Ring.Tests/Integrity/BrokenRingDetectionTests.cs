using FsCheck;
using FsCheck.Fluent;
using Ring.Integrity;
using Xunit.Abstractions;

namespace Ring.Tests.Integrity;

/// <summary>
/// The harness must bite: each deliberately broken ring is run through the same property as the real one, and
/// the test fails if the property passes it. A harness that passes a broken ring is a failed test.
/// </summary>
public sealed class BrokenRingDetectionTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(RingVariant.PublishBeforePayload, RingShape.Spsc1P1C)]
    [InlineData(RingVariant.PublishBeforePayload, RingShape.Mpmc1P1C)]
    [InlineData(RingVariant.SkipRecheckBeforeSleep, RingShape.Spsc1P1C)]
    [InlineData(RingVariant.SkipRecheckBeforeSleep, RingShape.Mpmc1P2C)]
    [InlineData(RingVariant.NonAtomicIncrement, RingShape.Mpmc2P1C)]
    [InlineData(RingVariant.NonAtomicIncrement, RingShape.Mpmc1P2C)]
    [InlineData(RingVariant.WrongWrapArithmetic, RingShape.Spsc1P1C)]
    [InlineData(RingVariant.CompletedBeforeDrained, RingShape.Spsc1P1C)]
    [InlineData(RingVariant.CompletedBeforeDrained, RingShape.Mpmc1P2C)]
    [InlineData(RingVariant.BatchTailBeforeRecord, RingShape.Spsc1P1C)]
    public void ScheduledRuns_BrokenRing_AreCaughtWithinTheCiBudget(RingVariant variant, RingShape shape)
    {
        Exception? caught = Record.Exception(() =>
            Check.One(InterleavingPropertyTests.Configuration(InterleavingPropertyTests.SchedulesPerShape), InterleavingPropertyTests.Property(shape, variant)));

        Assert.True(caught is not null, $"the harness passed the {variant} ring ({shape}) through {InterleavingPropertyTests.SchedulesPerShape} schedules");
        Assert.Contains("integrity violation", caught.Message);
        output.WriteLine(caught.Message.Length > 6000 ? caught.Message[..6000] + "\n…" : caught.Message);
    }
}
