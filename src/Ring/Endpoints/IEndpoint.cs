namespace Ring;

/// <summary>An endpoint as its async wait reaches it from the service thread: its core, by reference.</summary>
internal interface IEndpoint<TMemory> where TMemory : struct, ISharedMemory
{
    ref EndpointCore<TMemory> Core { get; }
}
