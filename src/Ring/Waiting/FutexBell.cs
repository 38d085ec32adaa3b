using System.Runtime.InteropServices;

namespace Ring;

/// <summary>
/// A futex word private to the process, which an async wait service thread watches besides the rings' words:
/// ringing it (an increment and a FUTEX_WAKE) makes the thread look at its arrivals and cancellations. The word is
/// a pinned array element, accessed like a segment's through <see cref="SharedBuffer"/>; the wake is the
/// non-private FUTEX_WAKE, matching the non-private entry futex_waitv sleeps on.
/// </summary>
internal sealed class FutexBell
{
    private readonly int[] _cell = GC.AllocateArray<int>(1, pinned: true);
    private readonly SharedBuffer _word;

    public FutexBell() => _word = new SharedBuffer(Marshal.UnsafeAddrOfPinnedArrayElement(_cell, 0), sizeof(int));

    /// <summary>Read before looking for work: a ring after this read makes a sleep on the value return at once.</summary>
    public int Value => _word.ReadInt32Acquire(0); // pairs with Ring's increment: the work queued before it is visible

    public nint Address => _word.AddressOf(0);

    public void Ring()
    {
        _word.FetchAddInt32(0, 1); // full fence: the work the caller queued is published before the word moves
        _word.FutexWake(0, 1);
    }
}
