using System.Diagnostics;

namespace Ring.Integrity;

/// <summary>Which end sleeps in a lost-wake-up run, and so which publishing store must wake it.</summary>
public enum WakeDirection
{
    /// <summary>The reader sleeps on an empty ring; the writer's tail store must wake it.</summary>
    Tail,

    /// <summary>The writer sleeps on a full ring; the reader's head store must wake it.</summary>
    Head,
}

/// <summary>
/// Catches lost wake-ups on real threads on two cores: the bug a missing fence between a publishing store and
/// the waiter-count load makes (design.md §5), which the sequentially consistent step scheduler cannot see.
/// <para>
/// One thread is the sleeper (the reader of an empty ring, or the writer of a full one, sleeping at once with
/// <see cref="BlockPolicy"/>), the other the signaller. They go round by round: the signaller waits until the
/// sleeper has finished round k−1 and gone back to waiting, spins a random few steps so that over many rounds
/// its publish lands all across the sleeper's register-and-re-check window, then publishes one message (tail)
/// or frees one record (head) and notes the time right after and whether its notify woke anyone (the sleeper's
/// eventcount wake counter moved). The sleeper notes when the round's message or room arrived and whether it
/// slept on the way.
/// </para>
/// <para>
/// A round is a lost wake-up when the sleeper slept, the signaller woke nobody, and the arrival came more than
/// <see cref="LossThreshold"/> after the signaller's publish had completed. In a correct ring that cannot
/// happen: a signaller that woke nobody saw no registration, so the sleeper's registration came later and its
/// re-check (after a full fence) saw the published store and it did not sleep for this round; a registration
/// the signaller did see is woken. The only other way to a late arrival without a wake — a publish that lands
/// between the sleeper's timed-out sleep and its next check while the sleeper is pre-empted for longer than
/// the threshold — needs a scheduling stall of 100 ms at a moment a microsecond wide. With the fence removed,
/// the signaller's load of the waiter count can pass its own store: both sides miss each other and the sleeper
/// sleeps to its <see cref="SleepTimeout"/>.
/// </para>
/// </summary>
public static class LostWakeUpDetector
{
    /// <summary>Longest single wait of the sleeper: what one lost wake-up costs.</summary>
    public static readonly TimeSpan SleepTimeout = TimeSpan.FromMilliseconds(200);

    /// <summary>A healthy wake-up takes microseconds; a lost one about <see cref="SleepTimeout"/>.</summary>
    public static readonly TimeSpan LossThreshold = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest the signaller waits for the sleeper to finish a round before calling the run broken.</summary>
    private static readonly TimeSpan RoundLimit = TimeSpan.FromSeconds(10);

    private const int MessageLength = 8;

    public const int DefaultJitterSteps = 16;

    /// <param name="JitterSteps">The signaller spins 0 to this many SpinWait(1) steps before each publish.</param>
    public sealed record Settings(WakeDirection Direction, RingVariant Variant, TimeSpan Duration, bool StopAtFirstLoss, int Seed, int JitterSteps = DefaultJitterSteps);

    /// <param name="RoundsSlept">Rounds in which the sleeper registered, found nothing on its re-check and went to sleep (the futex wait may have returned at once): the rounds that tested the wake-up.</param>
    /// <param name="FirstLossAfter">Time from the start to the first lost wake-up, if any.</param>
    /// <param name="MaxHealthyDelay">The slowest arrival among rounds that were not lost wake-ups.</param>
    public sealed record Result(
        WakeDirection Direction,
        RingVariant Variant,
        long Rounds,
        long RoundsSlept,
        long LostWakeUps,
        TimeSpan? FirstLossAfter,
        TimeSpan MaxHealthyDelay,
        TimeSpan Elapsed,
        string? FirstLoss)
    {
        /// <summary>One line for a log: what <c>Ring.Stress wakeups</c> prints per direction.</summary>
        public string Describe() =>
            $"wakeups {Direction.ToString().ToLowerInvariant()} ({Variant}): {LostWakeUps} lost wake-up(s) in {Rounds:N0} rounds, " +
            $"{RoundsSlept:N0} of them went to sleep ({RoundsSlept * 100.0 / Math.Max(1, Rounds):F0}%), " +
            $"slowest healthy round {MaxHealthyDelay.TotalMicroseconds:N0} µs, {Elapsed.TotalSeconds:F1} s" +
            (FirstLossAfter is { } first ? $", first loss after {first.TotalSeconds:F2} s" : "");
    }

    /// <param name="settings">Its variant is the ring as built or one of the two fence mutations; the others are for the step scheduler.</param>
    public static Result Run(Settings settings, string segmentDirectory) => settings.Variant switch
    {
        RingVariant.Correct => Run<CorrectRing>(settings, segmentDirectory),
        RingVariant.PublishTailWithoutFence => Run<TailWithoutFenceRing>(settings, segmentDirectory),
        RingVariant.PublishHeadWithoutFence => Run<HeadWithoutFenceRing>(settings, segmentDirectory),
        _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.Variant, "The detector runs the correct ring or a fence mutation."),
    };

    private static Result Run<TVariant>(Settings settings, string segmentDirectory) where TVariant : struct, IRingVariant
    {
        // Head: records of 16 bytes tile the 1 KiB ring exactly, so a full ring has room again after one read.
        long capacity = settings.Direction == WakeDirection.Tail ? 4096 : 1024;
        string name = Path.Combine(segmentDirectory, $"wakeups-{settings.Direction.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}");
        using RingSegment segment = RingSegment.Create(name, new RingOptions { Capacity = capacity });
        try
        {
            MutatedMemory<TVariant> memory = new(segment.Buffer);
            bool tail = settings.Direction == WakeDirection.Tail;
            using RingWriter writer = tail
                ? segment.CreateWriter<BusySpinPolicy, MutatedMemory<TVariant>>(memory)
                : segment.CreateWriter<BlockPolicy, MutatedMemory<TVariant>>(memory);
            using RingReader reader = tail
                ? segment.CreateReader<BlockPolicy, MutatedMemory<TVariant>>(memory)
                : segment.CreateReader<BusySpinPolicy, MutatedMemory<TVariant>>(memory);
            EventCount<SharedBuffer> sleeperEvents = new(segment.Buffer, tail ? SegmentLayout.ReadersEventOffset : SegmentLayout.WritersEventOffset);
            Rounds rounds = new(settings, sleeperEvents);
            Action sleeperUnit = tail ? () => ReceiveOne(reader, rounds) : () => SendOne(writer, rounds);
            byte[] message = new byte[MessageLength];
            Func<bool> signal = tail ? () => writer.TryWrite(message) : () => reader.TryRead(message, out _);
            if (!tail)
            {
                while (writer.TryWrite(message)) { } // the writer starts against a full ring
            }
            return rounds.Run(sleeperUnit, signal);
        }
        finally
        {
            RingSegment.Unlink(name);
        }
    }

    /// <summary>The reader's round: the next message, sleeping at once whenever the ring is empty.</summary>
    private static void ReceiveOne(RingReader reader, Rounds rounds)
    {
        Span<byte> buffer = stackalloc byte[MessageLength];
        while (!reader.TryRead(buffer, out _))
        {
            if (rounds.Stopping) return;
            reader.WaitToRead(SleepTimeout);
        }
    }

    /// <summary>The writer's round: one more message into a ring the reader keeps full, sleeping while there is no room.</summary>
    private static void SendOne(RingWriter writer, Rounds rounds)
    {
        Span<byte> message = stackalloc byte[MessageLength];
        while (!writer.TryWrite(message))
        {
            if (rounds.Stopping) return;
            writer.WaitToWrite(MessageLength, SleepTimeout);
        }
    }

    /// <summary>The two threads' meeting point, and the judge of each round.</summary>
    private sealed class Rounds(Settings settings, EventCount<SharedBuffer> sleeperEvents)
    {
        private long _finished = -1; // the last round the sleeper finished; it publishes the fields below first
        private long _arrival;
        private bool _slept;
        private volatile bool _stopping;

        public bool Stopping => _stopping;

        public Result Run(Action sleeperUnit, Func<bool> signal)
        {
            Exception? sleeperFailure = null;
            Thread sleeper = new(() =>
            {
                try
                {
                    for (long round = 0; !_stopping; round++)
                    {
                        long sleepsBefore = sleeperEvents.Sleeps;
                        sleeperUnit();
                        _arrival = Stopwatch.GetTimestamp();
                        _slept = sleeperEvents.Sleeps != sleepsBefore;
                        Volatile.Write(ref _finished, round); // publishes the arrival and the sleep to the signaller
                    }
                }
                catch (Exception exception)
                {
                    sleeperFailure = exception;
                    _stopping = true;
                }
            }) { IsBackground = true, Name = "wakeups-sleeper" };

            Stopwatch clock = Stopwatch.StartNew();
            Random jitter = new(settings.Seed);
            long rounds = 0, slept = 0, lost = 0;
            TimeSpan? firstLossAfter = null;
            TimeSpan maxHealthy = TimeSpan.Zero;
            string? firstLoss = null;
            sleeper.Start();
            try
            {
                for (long round = 0; !_stopping; round++)
                {
                    for (int step = jitter.Next(settings.JitterSteps + 1); step > 0; step--) Thread.SpinWait(1);
                    long wakesBefore = sleeperEvents.Wakes;
                    if (!signal()) throw new InvalidOperationException($"round {round}: the signaller found nothing to publish; the rounds lost step");
                    long published = Stopwatch.GetTimestamp();
                    bool woke = sleeperEvents.Wakes != wakesBefore;
                    if (!AwaitSleeper(round)) break;
                    rounds++;
                    TimeSpan delay = Stopwatch.GetElapsedTime(published, Volatile.Read(ref _arrival));
                    if (_slept) slept++;
                    if (_slept && !woke && delay > LossThreshold)
                    {
                        lost++;
                        firstLossAfter ??= clock.Elapsed;
                        firstLoss ??= $"round {round}: the {(settings.Direction == WakeDirection.Tail ? "reader" : "writer")} slept, the signaller woke nobody, and the {(settings.Direction == WakeDirection.Tail ? "message" : "room")} arrived {delay.TotalMilliseconds:F1} ms after it was published";
                        if (settings.StopAtFirstLoss) break;
                    }
                    else if (delay > maxHealthy)
                    {
                        maxHealthy = delay;
                    }
                    if (clock.Elapsed >= settings.Duration) break;
                }
            }
            finally
            {
                _stopping = true;
                if (!sleeper.Join(RoundLimit)) sleeperFailure ??= new TimeoutException($"the sleeper did not stop within {RoundLimit.TotalSeconds:0} s");
            }
            if (sleeperFailure is not null) throw new InvalidOperationException($"the sleeper failed: {sleeperFailure.Message}", sleeperFailure);
            return new Result(settings.Direction, settings.Variant, rounds, slept, lost, firstLossAfter, maxHealthy, clock.Elapsed, firstLoss);
        }

        /// <summary>Spins until the sleeper has finished the round; false if it stopped instead.</summary>
        private bool AwaitSleeper(long round)
        {
            long deadline = Stopwatch.GetTimestamp() + (long)(RoundLimit.TotalSeconds * Stopwatch.Frequency);
            while (Volatile.Read(ref _finished) < round) // pairs with the sleeper's release of the round number
            {
                if (_stopping) return false;
                if (Stopwatch.GetTimestamp() > deadline)
                    throw new TimeoutException($"round {round}: the sleeper did not finish within {RoundLimit.TotalSeconds:0} s");
                Thread.SpinWait(1);
            }
            return true;
        }
    }
}
