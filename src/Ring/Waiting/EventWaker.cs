namespace Ring;

/// <summary>
/// An endpoint's handle on one eventcount for cancellation and Dispose: a token that fires, or a Dispose,
/// wakes every sleeper so the one concerned notices. One per endpoint, so a cancellable wait allocates nothing
/// of its own.
/// </summary>
internal sealed class EventWaker<TMemory>(EventCount<TMemory> events) where TMemory : struct, ISharedMemory
{
    public EventCount<TMemory> Events { get; } = events;

    public static readonly Action<object?> WakeAllCallback = static state => ((EventWaker<TMemory>)state!).Events.WakeAll();
}
