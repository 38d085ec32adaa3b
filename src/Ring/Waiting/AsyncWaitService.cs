using Ring.Platform.Linux;

namespace Ring;

/// <summary>
/// The process's async waits: pending <c>WaitTo…Async</c>/<c>ReadAsync</c>/<c>WriteAsync</c> calls hold no thread
/// of their own; background threads (<see cref="AsyncWaitShard"/>) sleep on their futex words for them, one thread
/// for up to <see cref="WordsPerThread"/> distinct words in futex_waitv, however many waits share those words.
/// <para>
/// Why no wake-up is lost. A pending async wait is an eventcount sleeper (<see cref="EventCount{TMemory}"/>) whose
/// sleep a service thread does: (1) read the wake sequence, (2) register in the waiter count (a full fence), (3)
/// re-check the condition — on the endpoint's thread for the first round, on the service thread for later ones —
/// then (4) sleep: the wait is in the thread's next futex_waitv with that sequence as the word's expected value; (5)
/// unregister when the thread looks at it again. The store-buffer argument of the eventcount is unchanged: either
/// the re-check sees the signaller's change, or the signaller saw the registration and bumps the sequence after (1)
/// read it. Then the word no longer holds the wait's sequence: a thread asleep on it is woken by the FUTEX_WAKE, one
/// on its way to sleep is turned back by the kernel, which compares every word with its expected value when the call
/// starts, and on each turn, before it sleeps, the thread compares every wait's sequence with its word, so a bump
/// while it was awake is seen then. Waits on one word share one entry; should two of them hold different
/// sequences (one registered across a move of the word), the thread looks again instead of sleeping. A wait whose
/// word has not moved needs no look: no signaller saw its registration, so by its re-check nothing it waits for has
/// been announced since. What no signaller announces is covered as in the blocking loop: a dead peer by the bounded
/// sleeps (the thread's timeout is the earliest deadline or sleep limit among its waits — 1 s SPSC, 100 ms MPMC,
/// 10 ms while watching a stuck position — and a wait whose limit is in its last quarter is re-checked whenever the
/// thread is awake, so the rounds of many waits fall together), cancellation by the thread's bell, and Dispose by
/// the eventcount itself, which Dispose bumps while a call is inside the endpoint — and a pending wait is one.
/// </para>
/// <para>
/// The bell is a futex word of the thread's own that it watches besides the rings' words. The thread reads it before
/// taking in arrivals and cancellation flags; an arrival or a cancellation is published before the bell's
/// increment (a full fence), so either the thread sees it on this turn, or the bell differs from the value the
/// thread sleeps on and the sleep returns at once.
/// </para>
/// <para>
/// The mapping stays while the service uses it: a pending wait is a call inside its endpoint
/// (<see cref="EndpointCore{TMemory}"/>) from its start until the service thread has unregistered it, which is
/// after the last time it read the word or ran the condition, and the thread never sleeps on a word of a wait it
/// has dropped (the kernel reads the words only during the call). A Dispose of the endpoint or its segment finds
/// the call inside and bumps the eventcount; the thread sees the word move and the endpoint disposed, unregisters,
/// ends the call (the last one out gives the lease and the mapping back) and then faults the task with
/// <see cref="ObjectDisposedException"/>.
/// </para>
/// <para>
/// Fallback (<see cref="AsyncWaitMechanism.ThreadPerWord"/>), where futex_waitv is missing: FUTEX_WAIT sleeps on one
/// word, so each distinct word gets a thread of its own, shared by the waits on that word. The thread cannot watch
/// its bell while it sleeps on the word, so a wait that joins a watched word, and a cancellation, also bump the
/// word and wake it, as a cancelled blocking wait does: other sleepers on the word re-check and sleep again.
/// </para>
/// </summary>
internal sealed class AsyncWaitService
{
    /// <summary>Set in the environment to <see cref="ThreadPerWordSetting"/>, makes the process use the fallback.</summary>
    public const string EnvironmentVariable = "RING_ASYNC_WAIT";

    public const string ThreadPerWordSetting = "thread-per-word";

    private static readonly AsyncLocal<AsyncWaitService?> Scoped = new();
    private static AsyncWaitService? _process;

    private readonly Lock _gate = new();
    private readonly Dictionary<nint, WordLoad> _words = [];
    private readonly List<AsyncWaitShard> _shards = [];
    private int _registrations;

    public AsyncWaitService(AsyncWaitMechanism mechanism)
    {
        Mechanism = mechanism;
        // futex_waitv's 128 entries less the bell; FUTEX_WAIT takes one word.
        WordsPerThread = mechanism == AsyncWaitMechanism.FutexWaitv ? LibC.FUTEX_WAITV_MAX - 1 : 1;
    }

    /// <summary>The process's service: futex_waitv where the kernel has it, unless the environment asks for the fallback.</summary>
    public static AsyncWaitService ForProcess => LazyInitializer.EnsureInitialized(ref _process, static () => new AsyncWaitService(
        Futex.IsWaitvAvailable && Environment.GetEnvironmentVariable(EnvironmentVariable) != ThreadPerWordSetting
            ? AsyncWaitMechanism.FutexWaitv
            : AsyncWaitMechanism.ThreadPerWord));

    /// <summary>The service an endpoint's first async wait binds to: the process's, or a test's (<see cref="Use"/>).</summary>
    public static AsyncWaitService Current => Scoped.Value ?? ForProcess;

    public AsyncWaitMechanism Mechanism { get; }

    public int WordsPerThread { get; }

    /// <summary>Waits handed over and not yet finished (tests check that none is left behind).</summary>
    public int Registrations
    {
        get
        {
            lock (_gate) return _registrations;
        }
    }

    /// <summary>Service threads running now.</summary>
    public int Threads
    {
        get
        {
            lock (_gate) return _shards.Count;
        }
    }

    /// <summary>Until the scope is disposed, endpoints whose first async wait starts in this async flow use <paramref name="service"/>.</summary>
    public static Scope Use(AsyncWaitService service)
    {
        AsyncWaitService? previous = Scoped.Value;
        Scoped.Value = service;
        return new Scope(previous);
    }

    /// <summary>Hands a registered wait to the thread watching its word, or to one with room for another word.</summary>
    public void Add(AsyncWait wait, CancellationToken cancellationToken)
    {
        nint word = wait.WordAddress;
        AsyncWaitShard shard;
        bool watched;
        lock (_gate)
        {
            watched = _words.TryGetValue(word, out WordLoad load);
            if (watched)
            {
                shard = load.Shard;
            }
            else
            {
                shard = ShardWithRoom() ?? StartShard();
                shard.Words++;
            }
            _words[word] = new WordLoad(shard, load.Waits + 1);
            _registrations++;
        }
        wait.Shard = shard;
        wait.WatchCancellation(cancellationToken);
        shard.Arrive(wait, watched);
    }

    /// <summary>Takes a wait its thread has dropped off the books, before the thread finishes it.</summary>
    public void Forget(AsyncWait wait)
    {
        nint word = wait.WordAddress;
        lock (_gate)
        {
            WordLoad load = _words[word];
            if (load.Waits > 1)
            {
                _words[word] = load with { Waits = load.Waits - 1 };
            }
            else
            {
                _words.Remove(word);
                load.Shard.Words--;
            }
            _registrations--;
        }
    }

    /// <summary>Lets an idle thread end, unless a word was given to it meanwhile.</summary>
    public bool TryRetire(AsyncWaitShard shard)
    {
        lock (_gate)
        {
            if (shard.Words > 0) return false;
            _shards.Remove(shard);
            return true;
        }
    }

    private AsyncWaitShard? ShardWithRoom()
    {
        foreach (AsyncWaitShard shard in _shards)
        {
            if (shard.Words < WordsPerThread) return shard;
        }
        return null;
    }

    private AsyncWaitShard StartShard()
    {
        AsyncWaitShard shard = new(this);
        _shards.Add(shard);
        return shard;
    }

    private readonly record struct WordLoad(AsyncWaitShard Shard, int Waits);

    /// <summary>Restores the service that was in effect before <see cref="Use"/>.</summary>
    public readonly struct Scope(AsyncWaitService? previous) : IDisposable
    {
        public void Dispose() => Scoped.Value = previous;
    }
}
