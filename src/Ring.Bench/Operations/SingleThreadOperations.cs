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
    private BenchmarkRing _spsc = null!;
    private BenchmarkRing _mpmc = null!;
    private RingWriter _spscWriter = null!;
    private RingReader _spscReader = null!;
    private RingWriter _mpmcWriter = null!;
    private RingReader _mpmcReader = null!;
    private Channel<byte[]> _singleChannel = null!;
    private Channel<byte[]> _multiChannel = null!;
    private ConcurrentQueue<byte[]> _queue = null!;

    [GlobalSetup]
    public void Setup()
    {
        _spsc = new BenchmarkRing(new RingOptions { Kind = RingKind.Spsc, Capacity = 1 << 16 });
        _mpmc = new BenchmarkRing(new RingOptions { Kind = RingKind.Mpmc, SlotCount = 1024, MaxMessageLength = MessageLength });
        _spscWriter = _spsc.Segment.CreateWriter(WaitStrategy.BusySpin);
        _spscReader = _spsc.Segment.CreateReader(WaitStrategy.BusySpin);
        _mpmcWriter = _mpmc.Segment.CreateWriter(WaitStrategy.BusySpin);
        _mpmcReader = _mpmc.Segment.CreateReader(WaitStrategy.BusySpin);
        _singleChannel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = true });
        _multiChannel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(1024));
        _queue = new ConcurrentQueue<byte[]>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _spscWriter.Dispose();
        _spscReader.Dispose();
        _mpmcWriter.Dispose();
        _mpmcReader.Dispose();
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
    public bool Spsc_WriteRead() => _spscWriter.TryWrite(_message) & _spscReader.TryRead(_destination, out _);

    [BenchmarkCategory("WriteRead-MPMC"), Benchmark(Baseline = true)]
    public bool ChannelMulti_WriteRead() => _multiChannel.Writer.TryWrite(_message) & _multiChannel.Reader.TryRead(out _);

    [BenchmarkCategory("WriteRead-MPMC"), Benchmark]
    public bool Mpmc_WriteRead() => _mpmcWriter.TryWrite(_message) & _mpmcReader.TryRead(_destination, out _);

    [BenchmarkCategory("ClaimCommit-1P1C"), Benchmark(Baseline = true)]
    public bool Spsc_ClaimCommitRead()
    {
        if (!_spscWriter.TryClaim(MessageLength, out Span<byte> slot)) return false;
        slot[0] = 1;
        _spscWriter.Commit();
        return _spscReader.TryRead(_handler);
    }

    [BenchmarkCategory("ClaimCommit-MPMC"), Benchmark(Baseline = true)]
    public bool Mpmc_ClaimCommitRead()
    {
        if (!_mpmcWriter.TryClaim(MessageLength, out Span<byte> slot)) return false;
        slot[0] = 1;
        _mpmcWriter.Commit();
        return _mpmcReader.TryRead(_handler);
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
        for (int i = 0; i < Batch; i++) _spscWriter.TryWrite(_message);
        return _spscReader.ReadBatch(_handler, Batch);
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
        for (int i = 0; i < Batch; i++) _mpmcWriter.TryWrite(_message);
        return _mpmcReader.ReadBatch(_handler, Batch);
    }
}
