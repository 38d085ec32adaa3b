namespace Ring;

/// <summary>
/// Where a batch read hands each message. The readers' batch loop is generic over it, so the plain handler and the
/// handler with state share one loop, and each instantiation calls its handler directly.
/// </summary>
internal interface IMessageSink
{
    void Handle(ReadOnlySpan<byte> message);
}

internal readonly struct HandlerSink(RingMessageHandler handler) : IMessageSink
{
    public void Handle(ReadOnlySpan<byte> message) => handler(message);
}

internal ref struct StateHandlerSink<TState>(ref TState state, RingMessageHandler<TState> handler) : IMessageSink
{
    private ref TState _state = ref state;

    public readonly void Handle(ReadOnlySpan<byte> message) => handler(message, ref _state);
}
