namespace Ring.Integrity;

/// <summary>Creates ring ends for a scenario: over the scheduler's memory, or over the segment itself.</summary>
internal interface IEndpointFactory
{
    RingWriter CreateWriter(RingSegment segment, WaitMode wait);

    RingReader CreateReader(RingSegment segment, WaitMode wait);
}

internal sealed class Endpoints<TMemory>(Func<SharedBuffer, TMemory> memoryFor) : IEndpointFactory
    where TMemory : struct, ISharedMemory
{
    public RingWriter CreateWriter(RingSegment segment, WaitMode wait) => wait switch
    {
        WaitMode.SleepAtOnce => segment.CreateWriter<BlockPolicy, TMemory>(memoryFor(segment.Buffer)),
        WaitMode.SpinThenSleep => segment.CreateWriter<SpinBrieflyThenSleepPolicy, TMemory>(memoryFor(segment.Buffer)),
        _ => segment.CreateWriter<BusySpinPolicy, TMemory>(memoryFor(segment.Buffer)),
    };

    public RingReader CreateReader(RingSegment segment, WaitMode wait) => wait switch
    {
        WaitMode.SleepAtOnce => segment.CreateReader<BlockPolicy, TMemory>(memoryFor(segment.Buffer)),
        WaitMode.SpinThenSleep => segment.CreateReader<SpinBrieflyThenSleepPolicy, TMemory>(memoryFor(segment.Buffer)),
        _ => segment.CreateReader<BusySpinPolicy, TMemory>(memoryFor(segment.Buffer)),
    };
}

internal static class EndpointFactories
{
    public static IEndpointFactory Direct { get; } = new Endpoints<SharedBuffer>(buffer => buffer);

    /// <summary>Ends on real cores: the ring as built, or one with a fence mutation that only real cores can show.</summary>
    public static IEndpointFactory FreeRunning(RingVariant variant) => variant switch
    {
        RingVariant.Correct => Direct,
        RingVariant.PublishTailWithoutFence => new Endpoints<MutatedMemory<TailWithoutFenceRing>>(buffer => new(buffer)),
        RingVariant.PublishHeadWithoutFence => new Endpoints<MutatedMemory<HeadWithoutFenceRing>>(buffer => new(buffer)),
        _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, "Free runs take the correct ring or a fence mutation; the others are for the step scheduler."),
    };

    public static IEndpointFactory Scheduled(RingVariant variant, StepScheduler scheduler) => variant switch
    {
        RingVariant.Correct => new Endpoints<ScheduledMemory<CorrectRing>>(buffer => new(buffer, scheduler)),
        RingVariant.PublishBeforePayload => new Endpoints<ScheduledMemory<PublishBeforePayloadRing>>(buffer => new(buffer, scheduler)),
        RingVariant.SkipRecheckBeforeSleep => new Endpoints<ScheduledMemory<SkipRecheckRing>>(buffer => new(buffer, scheduler)),
        RingVariant.NonAtomicIncrement => new Endpoints<ScheduledMemory<NonAtomicIncrementRing>>(buffer => new(buffer, scheduler)),
        RingVariant.WrongWrapArithmetic => new Endpoints<ScheduledMemory<WrongWrapRing>>(buffer => new(buffer, scheduler)),
        RingVariant.PublishTailWithoutFence => new Endpoints<ScheduledMemory<TailWithoutFenceRing>>(buffer => new(buffer, scheduler)),
        RingVariant.PublishHeadWithoutFence => new Endpoints<ScheduledMemory<HeadWithoutFenceRing>>(buffer => new(buffer, scheduler)),
        RingVariant.CompletedBeforeDrained => new Endpoints<ScheduledMemory<CompletedBeforeDrainedRing>>(buffer => new(buffer, scheduler)),
        RingVariant.BatchTailBeforeRecord => new Endpoints<ScheduledMemory<BatchTailBeforeRecordRing>>(buffer => new(buffer, scheduler)),
        _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown ring variant."),
    };
}

/// <summary>A few re-checks before sleeping, like the production policy but short enough for a scheduled run.</summary>
internal struct SpinBrieflyThenSleepPolicy : IWaitPolicy
{
    public static bool Idle(ref int iteration) => ++iteration > 3;
}
