using System.Collections.Concurrent;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Ring.Bench.Operations;

/// <summary>
/// What one operation costs with no contention: a write and a read on one thread, 64-byte messages. Each
/// category has its in-process baseline in the same run: a bounded channel with the matching
/// single-reader/writer flags, and ConcurrentQueue.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class SingleThreadOperations
{
    private const int MessageLength = 64;
    private const int Batch = 32;

    private readonly byte[] _message = new byte[MessageLength];
    private readonly byte[] _destination = new byte[MessageLength];
    private readonly RingMessageHandler _handler = static message => { };
    private BenchmarkPair _spsc = null!;
    private BenchmarkPair _mpmc = null!;
    private Channel<byte[]> _singleChannel = null!;
    private Channel<byte[]> _multiChannel = null!;
    private ConcurrentQueue<byte[]> _queue = null!;

    [GlobalSetup]
    public void Setup()
    {
        _spsc = new BenchmarkPair(new RingOptions { Kind = RingKind.Spsc, Capacity = 1 << 16 });
        _mpmc = new BenchmarkPair(new RingOptions { Kind = RingKind.Mpmc, SlotCount = 1024, MaxMessageLength = MessageLength });
        _singleChannel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = true });
        _multiChannel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(1024));
        _queue = new ConcurrentQueue<byte[]>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _spsc.Dispose();
        _mpmc.Dispose();
    }

    [BenchmarkCategory("WriteRead-1P1C"), Benchmark(Baseline = true)]
    public bool ChannelSingle_WriteRead() => _singleChannel.Writer.TryWrite(_message) & _singleChannel.Reader.TryRead(out _);

    [BenchmarkCategory("WriteRead-1P1C"), Benchmark]
    public bool ConcurrentQueue_EnqueueDequeue()
    {
        _queue.Enqueue(_message);
        return _queue.TryDequeue(out _);
    }

    [BenchmarkCategory("WriteRead-1P1C"), Benchmark]
    public bool Spsc_WriteRead() => _spsc.Writer.TryWrite(_message) & _spsc.Reader.TryRead(_destination, out _);

    [BenchmarkCategory("WriteRead-MPMC"), Benchmark(Baseline = true)]
    public bool ChannelMulti_WriteRead() => _multiChannel.Writer.TryWrite(_message) & _multiChannel.Reader.TryRead(out _);

    [BenchmarkCategory("WriteRead-MPMC"), Benchmark]
    public bool Mpmc_WriteRead() => _mpmc.Writer.TryWrite(_message) & _mpmc.Reader.TryRead(_destination, out _);

    [BenchmarkCategory("ClaimCommit-1P1C"), Benchmark(Baseline = true)]
    public bool Spsc_ClaimCommitRead()
    {
        if (!_spsc.Writer.TryClaim(MessageLength, out Span<byte> slot)) return false;
        slot[0] = 1;
        _spsc.Writer.Commit();
        return _spsc.Reader.TryRead(_handler);
    }

    [BenchmarkCategory("ClaimCommit-MPMC"), Benchmark(Baseline = true)]
    public bool Mpmc_ClaimCommitRead()
    {
        if (!_mpmc.Writer.TryClaim(MessageLength, out Span<byte> slot)) return false;
        slot[0] = 1;
        _mpmc.Writer.Commit();
        return _mpmc.Reader.TryRead(_handler);
    }

    [BenchmarkCategory("BatchRead-1P1C"), Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public int ChannelSingle_WriteBatchRead()
    {
        for (int i = 0; i < Batch; i++) _singleChannel.Writer.TryWrite(_message);
        int read = 0;
        while (_singleChannel.Reader.TryRead(out _)) read++;
        return read;
    }

    [BenchmarkCategory("BatchRead-1P1C"), Benchmark(OperationsPerInvoke = Batch)]
    public int Spsc_WriteBatchRead()
    {
        for (int i = 0; i < Batch; i++) _spsc.Writer.TryWrite(_message);
        return _spsc.Reader.ReadBatch(_handler, Batch);
    }

    [BenchmarkCategory("BatchRead-MPMC"), Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public int ChannelMulti_WriteBatchRead()
    {
        for (int i = 0; i < Batch; i++) _multiChannel.Writer.TryWrite(_message);
        int read = 0;
        while (_multiChannel.Reader.TryRead(out _)) read++;
        return read;
    }

    [BenchmarkCategory("BatchRead-MPMC"), Benchmark(OperationsPerInvoke = Batch)]
    public int Mpmc_WriteBatchRead()
    {
        for (int i = 0; i < Batch; i++) _mpmc.Writer.TryWrite(_message);
        return _mpmc.Reader.ReadBatch(_handler, Batch);
    }
}
