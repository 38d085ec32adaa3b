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
    private BenchmarkPair _spsc = null!;
    private BenchmarkPair _mpmc = null!;
    private ChannelWriter<BenchTick> _spscChannelWriter = null!;
    private ChannelReader<BenchTick> _spscChannelReader = null!;
    private ChannelWriter<BenchTick> _mpmcChannelWriter = null!;
    private ChannelReader<BenchTick> _mpmcChannelReader = null!;
    private Channel<BenchTick> _singleChannel = null!;
    private Channel<BenchTick> _multiChannel = null!;

    [GlobalSetup]
    public void Setup()
    {
        _spsc = new BenchmarkPair(new RingOptions { Kind = RingKind.Spsc, Capacity = 1 << 16 }.WithMessageType<BenchTick>());
        _mpmc = new BenchmarkPair(new RingOptions { Kind = RingKind.Mpmc, SlotCount = 1024 }.WithMessageType<BenchTick>());
        _spscChannelWriter = _spsc.Writer.AsChannelWriter<BenchTick>();
        _spscChannelReader = _spsc.Reader.AsChannelReader<BenchTick>();
        _mpmcChannelWriter = _mpmc.Writer.AsChannelWriter<BenchTick>();
        _mpmcChannelReader = _mpmc.Reader.AsChannelReader<BenchTick>();
        _singleChannel = Channel.CreateBounded<BenchTick>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = true });
        _multiChannel = Channel.CreateBounded<BenchTick>(new BoundedChannelOptions(1024));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _spsc.Dispose();
        _mpmc.Dispose();
    }

    [BenchmarkCategory("Typed-1P1C"), Benchmark(Baseline = true)]
    public bool ChannelSingle_WriteReadT() => _singleChannel.Writer.TryWrite(_tick) & _singleChannel.Reader.TryRead(out _tick);

    [BenchmarkCategory("Typed-1P1C"), Benchmark]
    public bool Spsc_TryWriteT_TryReadT() => _spsc.Writer.TryWrite(in _tick) & _spsc.Reader.TryRead(out _tick);

    [BenchmarkCategory("Typed-1P1C"), Benchmark]
    public bool Spsc_ChannelAdapter_WriteReadT() => _spscChannelWriter.TryWrite(_tick) & _spscChannelReader.TryRead(out _tick);

    [BenchmarkCategory("Typed-MPMC"), Benchmark(Baseline = true)]
    public bool ChannelMulti_WriteReadT() => _multiChannel.Writer.TryWrite(_tick) & _multiChannel.Reader.TryRead(out _tick);

    [BenchmarkCategory("Typed-MPMC"), Benchmark]
    public bool Mpmc_TryWriteT_TryReadT() => _mpmc.Writer.TryWrite(in _tick) & _mpmc.Reader.TryRead(out _tick);

    [BenchmarkCategory("Typed-MPMC"), Benchmark]
    public bool Mpmc_ChannelAdapter_WriteReadT() => _mpmcChannelWriter.TryWrite(_tick) & _mpmcChannelReader.TryRead(out _tick);
}
