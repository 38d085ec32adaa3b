using System.Collections.Concurrent;
using System.Diagnostics;
using Ring.Platform.Linux;

namespace Ring;

/// <summary>
/// One thread of the <see cref="AsyncWaitService"/>: it holds the pending waits on the words the service gave it
/// (up to <see cref="AsyncWaitService.WordsPerThread"/>) and sleeps on all of them at once, plus its bell. Each turn
/// it reads the bell, takes in the waits handed over since, looks at every wait (<see cref="AsyncWait.Poll"/>),
/// completes the finished ones and sleeps: in futex_waitv on the bell and one entry per distinct word, or, in the
/// fallback, in FUTEX_WAIT on its one word (on the bell when it has none). A thread with no wait for
/// <see cref="IdleLinger"/> leaves.
/// </summary>
internal sealed class AsyncWaitShard
{
    /// <summary>How long a thread with nothing to watch stays for the next wait before it ends.</summary>
    public static readonly TimeSpan IdleLinger = TimeSpan.FromSeconds(10);

    private readonly AsyncWaitService _service;
    private readonly FutexBell _bell = new();
    private readonly ConcurrentQueue<AsyncWait> _arrivals = new();
    private readonly List<AsyncWait> _waits = [];
    private readonly Futex.Watch[] _watches;

    public AsyncWaitShard(AsyncWaitService service)
    {
        _service = service;
        _watches = new Futex.Watch[1 + service.WordsPerThread];
        Thread thread = new(Run, maxStackSize: 256 * 1024)
        {
            IsBackground = true,
            Name = service.Mechanism == AsyncWaitMechanism.FutexWaitv ? "Ring async waits" : "Ring async wait (fallback)",
        };
        thread.UnsafeStart();
    }

    /// <summary>Distinct words of its pending waits, handed-over ones included; guarded by the service's lock.</summary>
    public int Words { get; set; }

    /// <summary>
    /// Takes a wait over from the endpoint's thread. <paramref name="wordWatched"/>: the thread has a wait on the
    /// same word already, so in the fallback it may be asleep on that word, where the bell does not reach.
    /// </summary>
    public void Arrive(AsyncWait wait, bool wordWatched)
    {
        _arrivals.Enqueue(wait);
        _bell.Ring();
        if (wordWatched && !UsesWaitv) wait.WakeWord();
    }

    /// <summary>Makes the thread look at <paramref name="wait"/> again soon (its cancellation was requested).</summary>
    public void Interrupt(AsyncWait wait)
    {
        _bell.Ring();
        if (!UsesWaitv) wait.WakeWord();
    }

    private bool UsesWaitv => _service.Mechanism == AsyncWaitMechanism.FutexWaitv;

    private void Run()
    {
        while (true)
        {
            int bell = _bell.Value; // before the arrivals and the flags: anything rung after this makes the sleep return at once
            while (_arrivals.TryDequeue(out AsyncWait? arrived)) _waits.Add(arrived);
            long now = Stopwatch.GetTimestamp();
            long wakeBy = long.MaxValue;
            int watched = 0;
            bool lookAgain = false;
            _watches[watched++] = new Futex.Watch(_bell.Address, bell);
            for (int i = _waits.Count - 1; i >= 0; i--)
            {
                AsyncWait wait = _waits[i];
                AsyncWaitOutcome outcome = wait.Poll(now);
                if (outcome != AsyncWaitOutcome.Pending)
                {
                    Drop(i);
                    wait.Finish(outcome);
                    continue;
                }
                wakeBy = Math.Min(wakeBy, wait.WakeBy);
                int entry = IndexOfWord(watched, wait.WordAddress);
                if (entry < 0) _watches[watched++] = new Futex.Watch(wait.WordAddress, wait.Sequence);
                // Two waits registered across a move of their word: the older one must be looked at, not slept on.
                else if (_watches[entry].Expected != wait.Sequence) lookAgain = true;
            }
            if (lookAgain) continue;
            TimeSpan timeout = wakeBy == long.MaxValue ? IdleLinger : Max(TimeSpan.Zero, Stopwatch.GetElapsedTime(now, wakeBy));
            Futex.WaitResult result;
            try
            {
                result = Sleep(watched, timeout);
            }
            catch (RingException e) when (_waits.Count > 0)
            {
                FailAll(e);
                continue;
            }
            if (result == Futex.WaitResult.TimedOut && _waits.Count == 0 && _service.TryRetire(this)) return;
        }
    }

    private Futex.WaitResult Sleep(int watched, TimeSpan timeout)
    {
        if (UsesWaitv) return Futex.WaitAny(_watches.AsSpan(0, watched), timeout);
        // The fallback has one word at most: asleep on it, the thread is reached through the word (Arrive, Interrupt).
        Debug.Assert(watched <= 2, $"a fallback thread watches one word, not {watched - 1}");
        return Futex.Wait(_watches[watched - 1], timeout);
    }

    private int IndexOfWord(int watched, nint address)
    {
        for (int i = 1; i < watched; i++)
        {
            if (_watches[i].Address == address) return i;
        }
        return -1;
    }

    /// <summary>Takes the wait out of the thread and the service's books; the caller then finishes it.</summary>
    private void Drop(int index)
    {
        AsyncWait wait = _waits[index];
        _waits[index] = _waits[^1];
        _waits.RemoveAt(_waits.Count - 1);
        _service.Forget(wait);
    }

    /// <summary>The sleep itself failed (an errno Ring has no meaning for): every wait held here faults with it.</summary>
    private void FailAll(RingException error)
    {
        for (int i = _waits.Count - 1; i >= 0; i--)
        {
            AsyncWait wait = _waits[i];
            Drop(i);
            wait.Fail(error);
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
