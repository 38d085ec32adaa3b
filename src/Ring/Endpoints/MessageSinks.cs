namespace Ring;

/// <summary>
/// Where a batch read hands each message. The readers' batch loop is generic over it, so the plain handler, the
/// handler with state and the peek handler share one loop, and each instantiation calls its handler directly.
/// </summary>
internal interface IMessageSink
{
    /// <summary>Handles a message that ends at <paramref name="position"/> (what a release names; a read ignores it).</summary>
    void Handle(ReadOnlySpan<byte> message, long position);
}

internal readonly struct HandlerSink(RingMessageHandler handler) : IMessageSink
{
    public void Handle(ReadOnlySpan<byte> message, long position) => handler(message);
}

internal ref struct StateHandlerSink<TState>(ref TState state, RingMessageHandler<TState> handler) : IMessageSink
{
    private ref TState _state = ref state;

    public readonly void Handle(ReadOnlySpan<byte> message, long position) => handler(message, ref _state);
}

internal ref struct PeekHandlerSink<TState>(ref TState state, RingPeekHandler<TState> handler) : IMessageSink
{
    private ref TState _state = ref state;

    public readonly void Handle(ReadOnlySpan<byte> message, long position) => handler(message, position, ref _state);
}
