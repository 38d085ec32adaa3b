using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ring;

/// <summary>
/// A claimed span of the segment as <see cref="Memory{T}"/>, for <see cref="System.Buffers.IBufferWriter{T}"/> callers
/// that take memory rather than spans (Utf8JsonWriter keeps a <c>Memory&lt;byte&gt;</c>). The span lies in the mapping,
/// which never moves, so holding its address is safe while the claim is outstanding; once the claim ends the memory
/// refuses to hand out its span again, so a serializer that kept it fails loudly instead of writing into the next
/// message. One instance per writer, re-aimed at every claim.
/// </summary>
internal sealed unsafe class ClaimMemory : MemoryManager<byte>
{
    private byte* _start;
    private int _length;

    public void Attach(Span<byte> claimed)
    {
        _start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(claimed));
        _length = claimed.Length;
    }

    public void Detach()
    {
        _start = null;
        _length = 0;
    }

    public override Span<byte> GetSpan()
    {
        if (_start == null) throw new InvalidOperationException("The claim this memory belonged to was committed or dropped.");
        return new Span<byte>(_start, _length);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)_length, nameof(elementIndex));
        if (_start == null) throw new InvalidOperationException("The claim this memory belonged to was committed or dropped.");
        return new MemoryHandle(_start + elementIndex); // the mapping is pinned by nature: nothing to release
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing) => Detach();
}
