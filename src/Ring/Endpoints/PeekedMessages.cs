namespace Ring;

/// <summary>
/// A reader's peeked, unreleased messages in order, each as the position it ends at and its length, so a release can
/// check that it names a message boundary and count what it gives back. Private memory: nothing here is read from the
/// segment. Grows by doubling; a reader that releases as it goes keeps the first array.
/// </summary>
internal struct PeekedMessages
{
    private long[]? _ends;
    private int[]? _lengths;
    private int _first;
    private int _count;

    public readonly int Count => _count;

    public void Add(long end, int length)
    {
        if (_ends is null || _count == _ends.Length) Grow();
        int index = (_first + _count) & (_ends!.Length - 1);
        _ends[index] = end;
        _lengths![index] = length;
        _count++;
    }

    /// <summary>Removes the messages up to the one ending at <paramref name="end"/>; false (and nothing removed) when none ends there.</summary>
    public bool TryRemoveThrough(long end, out int messages, out long bytes)
    {
        messages = 0;
        bytes = 0;
        int mask = _ends is null ? 0 : _ends.Length - 1;
        for (int i = 0; i < _count; i++)
        {
            int index = (_first + i) & mask;
            long at = _ends![index];
            bytes += _lengths![index];
            if (at == end)
            {
                messages = i + 1;
                _first = (_first + messages) & mask;
                _count -= messages;
                return true;
            }
            if (at > end) break; // the ends increase: no later one can match
        }
        messages = 0;
        bytes = 0;
        return false;
    }

    private void Grow()
    {
        int length = _ends is null ? 16 : _ends.Length * 2;
        long[] ends = new long[length];
        int[] lengths = new int[length];
        for (int i = 0; i < _count; i++)
        {
            int from = (_first + i) & (_ends!.Length - 1);
            ends[i] = _ends[from];
            lengths[i] = _lengths![from];
        }
        _ends = ends;
        _lengths = lengths;
        _first = 0;
    }
}
