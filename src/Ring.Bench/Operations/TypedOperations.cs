using System.Runtime.InteropServices;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Ring.Bench.Operations;

/// <summary>A market-data tick: what a typed message looks like in the benchmarks (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct BenchTick
{
    public long Sequence;
    public double Price;
    public int Quantity;
    public short Side;
}

/// <summary>
/// Typed messages on one thread, no contention: a write and a read of one <see cref="BenchTick"/> through the ring's
/// typed calls and through its Channels adapters, against a bounded <c>Channel&lt;BenchTick&gt;</c> with the matching
/// single-reader/writer flags in the same run.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class TypedOperations
{
    private BenchTick _tick = new() { Sequence = 1, Price = 101.25, Quantity = 300, Side = 1 };
    private BenchmarkRing _spsc = null!;
    private BenchmarkRing _mpmc = null!;
    private RingWriter _spscWriter = null!;
    private RingReader _spscReader = null!;
    private RingWriter _mpmcWriter = null!;
    private RingReader _mpmcReader = null!;
    private ChannelWriter<BenchTick> _spscChannelWriter = null!;
    private ChannelReader<BenchTick> _spscChannelReader = null!;
    private ChannelWriter<BenchTick> _mpmcChannelWriter = null!;
    private ChannelReader<BenchTick> _mpmcChannelReader = null!;
    private Channel<BenchTick> _singleChannel = null!;
    private Channel<BenchTick> _multiChannel = null!;

    [GlobalSetup]
    public void Setup()
    {
        _spsc = new BenchmarkRing(new RingOptions { Kind = RingKind.Spsc, Capacity = 1 << 16 }.WithMessageType<BenchTick>());
        _mpmc = new BenchmarkRing(new RingOptions { Kind = RingKind.Mpmc, SlotCount = 1024 }.WithMessageType<BenchTick>());
        _spscWriter = _spsc.Segment.CreateWriter(WaitStrategy.BusySpin);
        _spscReader = _spsc.Segment.CreateReader(WaitStrategy.BusySpin);
        _mpmcWriter = _mpmc.Segment.CreateWriter(WaitStrategy.BusySpin);
        _mpmcReader = _mpmc.Segment.CreateReader(WaitStrategy.BusySpin);
        _spscChannelWriter = _spscWriter.AsChannelWriter<BenchTick>();
        _spscChannelReader = _spscReader.AsChannelReader<BenchTick>();
        _mpmcChannelWriter = _mpmcWriter.AsChannelWriter<BenchTick>();
        _mpmcChannelReader = _mpmcReader.AsChannelReader<BenchTick>();
        _singleChannel = Channel.CreateBounded<BenchTick>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = true });
        _multiChannel = Channel.CreateBounded<BenchTick>(new BoundedChannelOptions(1024));
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

    [BenchmarkCategory("Typed-1P1C"), Benchmark(Baseline = true)]
    public bool ChannelSingle_WriteReadT() => _singleChannel.Writer.TryWrite(_tick) & _singleChannel.Reader.TryRead(out _tick);

    [BenchmarkCategory("Typed-1P1C"), Benchmark]
    public bool Spsc_TryWriteT_TryReadT() => _spscWriter.TryWrite(in _tick) & _spscReader.TryRead(out _tick);

    [BenchmarkCategory("Typed-1P1C"), Benchmark]
    public bool Spsc_ChannelAdapter_WriteReadT() => _spscChannelWriter.TryWrite(_tick) & _spscChannelReader.TryRead(out _tick);

    [BenchmarkCategory("Typed-MPMC"), Benchmark(Baseline = true)]
    public bool ChannelMulti_WriteReadT() => _multiChannel.Writer.TryWrite(_tick) & _multiChannel.Reader.TryRead(out _tick);

    [BenchmarkCategory("Typed-MPMC"), Benchmark]
    public bool Mpmc_TryWriteT_TryReadT() => _mpmcWriter.TryWrite(in _tick) & _mpmcReader.TryRead(out _tick);

    [BenchmarkCategory("Typed-MPMC"), Benchmark]
    public bool Mpmc_ChannelAdapter_WriteReadT() => _mpmcChannelWriter.TryWrite(_tick) & _mpmcChannelReader.TryRead(out _tick);
}
