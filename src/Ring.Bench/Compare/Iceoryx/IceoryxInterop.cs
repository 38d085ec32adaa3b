using System.Runtime.InteropServices;

namespace Ring.Bench.Compare.Iceoryx;

/// <summary>
/// The calls the iceoryx transport makes into Eclipse iceoryx 2.0.3's C binding (Debian bookworm's
/// libiceoryx-binding-c2; declared in /usr/include/iceoryx/v2.0.3/iceoryx_binding_c/). Handles are plain
/// pointers: <see cref="IceoryxChannel"/> owns its publisher and subscriber and deinitialises them on Dispose.
/// </summary>
internal static unsafe partial class IceoryxInterop
{
    /// <summary>The shared library the runtime package installs (the unversioned .so comes only with -dev).</summary>
    public const string Library = "libiceoryx_binding_c.so.2";

    /// <summary>
    /// Bytes of iceoryx 2.0.3's ChunkHeader (iceoryx_posh/mepoo/chunk_header.hpp): a chunk holding an 8-aligned
    /// payload of N bytes and no user header needs a mempool chunk of at least this plus N.
    /// </summary>
    public const int ChunkHeaderBytes = 40;

    /// <summary>Sets the least severe level the library logs from then on (log.h).</summary>
    [LibraryImport(Library)]
    public static partial void iox_set_loglevel(LogLevel level);

    /// <summary>Registers this process with RouDi under <paramref name="name"/> (at most 100 bytes); once per process.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial void iox_runtime_init(string name);

    [LibraryImport(Library)]
    public static partial void iox_pub_options_init(PublisherOptions* options);

    /// <summary>Only the first word of <paramref name="storage"/> is written; the handle does not point into it.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint iox_pub_init(ulong* storage, string service, string instance, string @event, PublisherOptions* options);

    [LibraryImport(Library)]
    public static partial void iox_pub_deinit(nint publisher);

    [LibraryImport(Library)]
    public static partial AllocationResult iox_pub_loan_chunk(nint publisher, void** userPayload, uint userPayloadSize);

    [LibraryImport(Library)]
    public static partial void iox_pub_publish_chunk(nint publisher, void* userPayload);

    [LibraryImport(Library)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static partial bool iox_pub_has_subscribers(nint publisher);

    [LibraryImport(Library)]
    public static partial void iox_sub_options_init(SubscriberOptions* options);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint iox_sub_init(ulong* storage, string service, string instance, string @event, SubscriberOptions* options);

    [LibraryImport(Library)]
    public static partial void iox_sub_deinit(nint subscriber);

    [LibraryImport(Library)]
    public static partial ChunkReceiveResult iox_sub_take_chunk(nint subscriber, void** userPayload);

    [LibraryImport(Library)]
    public static partial void iox_sub_release_chunk(nint subscriber, void* userPayload);

    /// <summary><c>iox_pub_options_t</c> (publisher.h): 32 bytes, C bools as bytes, C enums as ints.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PublisherOptions
    {
        public ulong HistoryCapacity;
        public nint NodeName;
        public byte OfferOnCreate;
        public ConsumerTooSlowPolicy SubscriberTooSlowPolicy;
        public ulong InitCheck;
    }

    /// <summary><c>iox_sub_options_t</c> (subscriber.h): 48 bytes, C bools as bytes, C enums as ints.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SubscriberOptions
    {
        public ulong QueueCapacity;
        public ulong HistoryRequest;
        public nint NodeName;
        public byte SubscribeOnCreate;
        public QueueFullPolicy QueueFullPolicy;
        public byte RequirePublisherHistorySupport;
        public ulong InitCheck;
    }

    /// <summary><c>iox_LogLevel</c> (log.h), the values this transport uses.</summary>
    public enum LogLevel
    {
        Warn = 4,
    }

    /// <summary><c>iox_ConsumerTooSlowPolicy</c> (enums.h).</summary>
    public enum ConsumerTooSlowPolicy
    {
        WaitForConsumer = 0,
        DiscardOldestData = 1,
    }

    /// <summary><c>iox_QueueFullPolicy</c> (enums.h).</summary>
    public enum QueueFullPolicy
    {
        BlockProducer = 0,
        DiscardOldestData = 1,
    }

    /// <summary><c>iox_AllocationResult</c> (enums.h).</summary>
    public enum AllocationResult
    {
        NoMempoolsAvailable = 0,
        RunningOutOfChunks = 1,
        TooManyChunksAllocatedInParallel = 2,
        InvalidChunk = 3,
        InvalidParameterForUserPayloadOrUserHeader = 4,
        UndefinedError = 5,
        InvalidParameterForChunk = 6,
        InvalidParameterForRequestHeader = 7,
        Success = 8,
    }

    /// <summary><c>iox_ChunkReceiveResult</c> (enums.h).</summary>
    public enum ChunkReceiveResult
    {
        TooManyChunksHeldInParallel = 0,
        NoChunkAvailable = 1,
        UndefinedError = 2,
        Success = 3,
    }
}
