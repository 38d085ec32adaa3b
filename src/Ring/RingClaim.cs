using System.Buffers;

namespace Ring;

/// <summary>
/// Room for one message in the ring, claimed by <see cref="RingWriter.TryBeginWrite"/> or
/// <see cref="RingWriter.BeginWrite"/>, written through <see cref="IBufferWriter{T}"/> so that a serializer puts the
/// message straight into shared memory. <see cref="Commit"/> publishes the bytes advanced over; <see cref="Dispose"/>
/// without a commit drops the claim and readers never see it. The room is fixed at the claim: asking for more than is
/// left throws instead of growing.
/// </summary>
/// <remarks>
/// A writer reuses one instance for all its claims: it is valid from the call that returned it until its
/// <see cref="Commit"/> or <see cref="Dispose"/>. Spans and memory it handed out are valid for as long.
/// </remarks>
public sealed class RingClaim : IBufferWriter<byte>, IDisposable
{
    private readonly RingWriter _writer;
    private readonly ClaimMemory _memory = new();
    private int _capacity;
    private int _written;
    private bool _active;

    internal RingClaim(RingWriter writer) => _writer = writer;

    /// <summary>The bytes written so far (advanced over).</summary>
    public int WrittenCount => _written;

    /// <summary>The bytes still free in the claim.</summary>
    public int FreeCapacity => _capacity - _written;

    internal void Begin(Span<byte> claimed)
    {
        _memory.Attach(claimed);
        _capacity = claimed.Length;
        _written = 0;
        _active = true;
    }

    /// <summary>Marks <paramref name="count"/> more bytes as written.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The count is negative or runs past the claim.</exception>
    public void Advance(int count)
    {
        ThrowIfEnded();
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, FreeCapacity);
        _written += count;
    }

    /// <summary>The rest of the claim, which must hold at least <paramref name="sizeHint"/> bytes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The claim has fewer than <paramref name="sizeHint"/> bytes left: claim a larger maximum.</exception>
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        CheckRoom(sizeHint);
        return _memory.Memory[_written.._capacity];
    }

    /// <summary>The rest of the claim, which must hold at least <paramref name="sizeHint"/> bytes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The claim has fewer than <paramref name="sizeHint"/> bytes left: claim a larger maximum.</exception>
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        CheckRoom(sizeHint);
        return _memory.GetSpan()[_written.._capacity];
    }

    /// <summary>Publishes the <see cref="WrittenCount"/> bytes written as one message.</summary>
    /// <exception cref="InvalidOperationException">The claim was committed or dropped already.</exception>
    public void Commit()
    {
        ThrowIfEnded();
        End();
        _writer.Commit(_written);
    }

    /// <summary>Drops the claim unless it was committed; readers never see an uncommitted claim. Idempotent.</summary>
    public void Dispose()
    {
        if (!_active) return;
        End();
        _writer.Abort();
    }

    private void End()
    {
        _active = false;
        _memory.Detach();
    }

    private void CheckRoom(int sizeHint)
    {
        ThrowIfEnded();
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        if (sizeHint > FreeCapacity)
            throw new ArgumentOutOfRangeException(nameof(sizeHint), sizeHint,
                $"The claim has {FreeCapacity} of its {_capacity} bytes left; claim a larger maximum length.");
    }

    private void ThrowIfEnded()
    {
        if (!_active) throw new InvalidOperationException("The claim was committed or dropped; begin a new write.");
    }
}
