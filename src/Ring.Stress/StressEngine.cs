using System.Diagnostics;
using System.Globalization;
using Ring.Tooling;
using Ring.Tooling.Platform;

namespace Ring.Stress;

/// <summary>
/// The coordinator of a stress run: creates a ring and a <see cref="Ledger"/> in a private directory, runs the
/// producers and consumers (threads, or worker processes it may SIGKILL and replace or SIGSTOP for a while),
/// stops the producers, lets the consumers drain the ring, and then merges what every consumer recorded in
/// the ledger into one verdict (see <see cref="EngineResult"/> for the accounting).
/// </summary>
public static class StressEngine
{
    /// <summary>Sequences one producer id carries before its producer moves on to a fresh id (bounds each id's bitmap: 256 KiB).</summary>
    private const long SequencesPerId = 1 << 20;

    /// <summary>Room for producer incarnations: rotations at ~1e6 msg/s plus kills.</summary>
    private const int ProducerIdSlots = 8192;

    private const int ConsumerSlots = 4096;

    /// <summary>Longest time producers may take to stop, or consumers to drain the ring, before the run counts as hung.</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Each pause lasts this long at least: well past the library's 50 ms stuck-position threshold.</summary>
    private static readonly TimeSpan MinPause = TimeSpan.FromMilliseconds(80);

    private static readonly TimeSpan MaxPause = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// Broadcast: longest the stream may stand still while the run sends. A pause gates a Block publisher for at most
    /// <see cref="MaxPause"/>, a dead subscriber for about 250 ms, a replacement publisher starts in well under a second:
    /// this is far past all of them, so what trips it is a publisher held up for good (a dead subscriber never detached).
    /// </summary>
    private static readonly TimeSpan PublisherStallLimit = TimeSpan.FromSeconds(10);

    /// <summary>Runs one phase; progress goes to <paramref name="log"/>. Cancelling ends the sending early; the run still drains and audits.</summary>
    public static EngineResult Run(EngineSettings settings, TextWriter log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(log);
        if (settings.Validate() is { } problem) throw new ArgumentException(problem, nameof(settings));
        // tmpfs: the ring is meant to live there, and the ledger's bitmaps must not cost disk writeback.
        string dir = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"ring-stress-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            RingOptions options = settings.Kind switch
            {
                RingKind.Spsc => new RingOptions { Kind = RingKind.Spsc, Capacity = settings.Capacity, MaxMessageLength = settings.MaxSize },
                RingKind.Broadcast => new RingOptions { Kind = RingKind.Broadcast, Capacity = settings.Capacity, MaxMessageLength = settings.MaxSize, Overflow = settings.Overflow },
                _ => new RingOptions { Kind = RingKind.Mpmc, SlotCount = settings.EffectiveSlots, MaxMessageLength = settings.MaxSize },
            };
            string ringPath = Path.Combine(dir, "ring");
            using RingSegment segment = RingSegment.Create(ringPath, options);
            using Ledger ledger = Ledger.Create(Path.Combine(dir, "ledger"), ProducerIdSlots, ConsumerSlots, SequencesPerId,
                settings.Messages ?? long.MaxValue);
            ParticipantSettings participant = new()
            {
                Kind = settings.Kind, Seed = settings.Seed, MinSize = settings.MinSize, MaxSize = settings.MaxSize, Wait = settings.Wait,
            };
            using Crew crew = settings.Mode == EngineMode.Threads
                ? new ThreadCrew(segment, ledger, participant, settings.Filter)
                : new ProcessCrew(ringPath, ledger, participant, log);
            Stopwatch clock = Stopwatch.StartNew();
            List<string> violations = [];
            if (settings.Kind == RingKind.Broadcast)
            {
                // Subscribers first, so the first ones own the whole stream from message 0 and the audit can hold them to it.
                for (int i = 0; i < settings.Consumers; i++) crew.Start(isProducer: false, slow: i < settings.SlowSubscribers);
                while (ledger.SubscribersJoined() < settings.Consumers && clock.Elapsed < StopTimeout)
                {
                    crew.Reap(violations);
                    Thread.Sleep(10); // polling the ledger the subscribers write when they have joined; nothing to wait on across processes
                }
                if (ledger.SubscribersJoined() < settings.Consumers) violations.Add($"the subscribers did not join within {StopTimeout.TotalSeconds:0} s");
                crew.Start(isProducer: true);
            }
            else
            {
                for (int i = 0; i < settings.Producers; i++) crew.Start(isProducer: true);
                for (int i = 0; i < settings.Consumers; i++) crew.Start(isProducer: false);
            }
            Faults faults = new(settings, crew);
            Progress progress = new(settings, ledger, segment, faults, clock, log);
            Stopwatch unchanged = Stopwatch.StartNew();
            long published = ledger.Published;
            bool stalled = false;
            // The run: until the budget is spent (every producer ran out of tickets and left) or the time is up.
            while (!cancellationToken.IsCancellationRequested && (settings.Messages is null ? clock.Elapsed < settings.Duration : crew.LiveProducers > 0))
            {
                faults.Tick();
                crew.Reap(violations);
                progress.Tick();
                if (settings.Kind == RingKind.Broadcast && ledger.Published != published)
                {
                    published = ledger.Published;
                    unchanged.Restart();
                }
                else if (settings.Kind == RingKind.Broadcast && !stalled && unchanged.Elapsed > PublisherStallLimit)
                {
                    stalled = true;
                    violations.Add($"the stream stood still at {published} messages for {PublisherStallLimit.TotalSeconds:0} s while the run was sending");
                }
                Thread.Sleep(20); // pacing of the coordinator's loop: fault schedule, reaping, progress
            }
            faults.ReleaseAll();
            ledger.StopProducers = true;
            if (!crew.WaitForProducers(StopTimeout)) violations.Add($"producers did not stop within {StopTimeout.TotalSeconds:0} s");
            // Drain: the consumers read on until the ring is empty (after a dead producer's stuck claim is skipped, ≤ ~0.3 s).
            // Empty means Tail = Head (BytesInRing), not MessagesInRing: for SPSC that is MessagesWritten − MessagesRead,
            // which a producer killed between counting a write and publishing it leaves one too high for good.
            // A broadcast ring is never emptied (every record stays until overwritten): its subscribers stop once a read
            // after the stop finds nothing, and the audit checks each got to the last message.
            Stopwatch draining = Stopwatch.StartNew();
            while (settings.Kind != RingKind.Broadcast && segment.GetStatus().BytesInRing != 0 && draining.Elapsed < StopTimeout)
            {
                crew.Reap(violations);
                Thread.Sleep(10); // polling the ring's own counters; nothing to wait on across processes
            }
            if (settings.Kind != RingKind.Broadcast && segment.GetStatus().BytesInRing != 0)
                violations.Add($"the consumers did not drain the ring within {StopTimeout.TotalSeconds:0} s");
            ledger.StopConsumers = true;
            if (!crew.WaitForConsumers(StopTimeout)) violations.Add($"consumers did not stop within {StopTimeout.TotalSeconds:0} s");
            crew.Reap(violations);
            // A slot a killed consumer held is freed (and counted lost in delivery) when a producer laps it; the
            // last kills of a run may not have been lapped before the producers stopped, so complete them now.
            segment.RecoverAbandonedReads();
            double elapsed = clock.Elapsed.TotalSeconds;
            progress.Finish();
            SegmentStatus ring = segment.GetStatus();
            EngineResult outline = Outline(settings, ledger, ring, faults, elapsed, violations);
            return settings.Kind == RingKind.Broadcast
                ? BroadcastAudit.Run(settings, ledger, ring, outline, violations)
                : Audit(settings, ledger, ring, faults, outline, violations);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Merges the ledger into a verdict; see <see cref="EngineResult"/> for what each count means.</summary>
    private static EngineResult Audit(EngineSettings settings, Ledger ledger, SegmentStatus ring, Faults faults, EngineResult outline, List<string> violations)
    {
        long committed = 0, verified = 0, heldByDead = 0, missing = 0;
        for (int id = 0; id < ledger.ProducerIdsUsed; id++)
        {
            long recorded = ledger.Committed(id);
            long idCommitted = recorded;
            // A killed producer may have committed one message past its recorded count (killed between Commit and the ledger store).
            long scanTo = ledger.IsFinished(id) ? recorded : Math.Min(recorded + 1, ledger.SequencesPerId);
            for (long sequence = 0; sequence < scanTo; sequence++)
            {
                ulong bits = ledger.Read(id, sequence);
                if (sequence >= recorded)
                {
                    if (bits == 0) break;
                    idCommitted = sequence + 1;
                }
                if (bits == (Ledger.Held | Ledger.Done)) verified++;
                else if (bits == Ledger.Held) heldByDead++;
                else missing++; // never taken (bits 0), or DONE without HELD, which no consumer writes
            }
            committed += idCommitted;
        }
        long consumerKills = faults.ConsumerKills;
        long lostInDelivery = heldByDead;
        long lost = missing;
        if (settings.Kind == RingKind.Mpmc)
        {
            // The ring counts a message a dead consumer claimed even when the kill came before its handler marked it
            // (bits 0 here). It does not count one whose consumer freed the slot and died before its read returned
            // (HELD here), so the ring's count cannot be split between the two: an unmarked message is excused
            // only while the ring has counted at least as many dead claims, and only the excess is a loss.
            long claimedBeforeHandler = Math.Min(missing, ring.LostInDelivery);
            lostInDelivery += claimedBeforeHandler;
            lost -= claimedBeforeHandler;
            if (ring.LostInDelivery > heldByDead + missing)
                violations.Add($"the ring counts {ring.LostInDelivery} lost in delivery, more than the {heldByDead + missing} messages no consumer finished");
        }
        else if (ring.LostInDelivery != 0)
        {
            violations.Add($"an SPSC ring counted {ring.LostInDelivery} lost in delivery");
        }
        if (lostInDelivery > consumerKills)
            violations.Add($"{lostInDelivery} messages lost in delivery but only {consumerKills} consumers were killed (at most one each)");
        long redelivered = ledger.SumConsumers(ConsumerCounterKind.Redelivered);
        if (lost != 0) violations.Add($"{lost} committed messages lost");
        if (redelivered > consumerKills) violations.Add($"{redelivered} redelivered after crashes but only {consumerKills} consumers were killed");
        // The library counts a write just before it publishes it: a producer killed in between leaves the count one ahead.
        long unconfirmed = ring.MessagesWritten - committed;
        if (unconfirmed < 0 || unconfirmed > faults.ProducerKills)
            violations.Add($"the ring counts {ring.MessagesWritten} messages written, the consumers account for {committed} committed ({faults.ProducerKills} producers killed)");
        if (committed == 0) violations.Add("no message was committed");
        return outline with
        {
            MessagesCommitted = committed,
            Verified = verified,
            Lost = lost,
            LostInDelivery = lostInDelivery,
            RingLostInDelivery = ring.LostInDelivery,
            RedeliveredAfterCrash = redelivered,
            RingMessagesInRingAfterDrain = ring.MessagesInRing,
            MsgsPerS = Math.Round(verified / Math.Max(outline.ElapsedS, 1e-9)),
        };
    }

    /// <summary>The sum of a counter every nonzero count of which is a violation; adds it, as "N <paramref name="what"/>", when nonzero.</summary>
    internal static long SumOfViolations(Ledger ledger, ConsumerCounterKind kind, string what, List<string> violations)
    {
        long sum = ledger.SumConsumers(kind);
        if (sum != 0) violations.Add($"{sum} {what}");
        return sum;
    }

    /// <summary>
    /// What every kind reports alike: the settings, the faults, the time, and the counters that mean the same for every
    /// kind (duplicated, corrupted and reordered messages are violations, added here); the audit of the kind goes on.
    /// </summary>
    private static EngineResult Outline(EngineSettings settings, Ledger ledger, SegmentStatus ring, Faults faults, double elapsed, List<string> violations) => new()
    {
        Name = settings.Name,
        Kind = settings.Kind.ToString().ToLowerInvariant(),
        Mode = settings.Mode == EngineMode.Threads ? "threads" : "processes",
        Wait = EnumNames.Of(settings.Wait),
        Producers = settings.Producers,
        Consumers = settings.Consumers,
        MinSize = settings.MinSize,
        MaxSize = settings.MaxSize,
        Kills = faults.Kills,
        ConsumerKills = faults.ConsumerKills,
        ProducerKills = faults.ProducerKills,
        Pauses = faults.Pauses,
        FaultsInjected = faults.Kills + faults.Pauses,
        MessagesSent = ledger.Tickets,
        MessagesReceived = ledger.SumConsumers(ConsumerCounterKind.Received),
        BytesReceived = ledger.SumConsumers(ConsumerCounterKind.Bytes),
        Duplicated = SumOfViolations(ledger, ConsumerCounterKind.Duplicated, "duplicated", violations),
        Corrupted = SumOfViolations(ledger, ConsumerCounterKind.Corrupted, "corrupted", violations),
        Reordered = SumOfViolations(ledger, ConsumerCounterKind.Reordered, "reordered", violations),
        RingMessagesWritten = ring.MessagesWritten,
        ProducerIds = ledger.ProducerIdsUsed,
        Recoveries = ring.Recoveries,
        ElapsedS = Math.Round(elapsed, 3),
        Violations = violations,
    };

    /// <summary>The participants of a run.</summary>
    private abstract class Crew : IDisposable
    {
        public abstract int LiveProducers { get; }

        private int _subscribersStarted;

        /// <summary>Starts a participant; a broadcast subscriber that is <paramref name="slow"/> pauses now and then to be lapped.</summary>
        public abstract void Start(bool isProducer, bool slow = false);

        /// <summary>Where the next broadcast subscriber joins: the live tail and the oldest message by turns, replacements too.</summary>
        protected SubscribeFrom NextJoin() => _subscribersStarted++ % 2 == 0 ? SubscribeFrom.Tail : SubscribeFrom.Oldest;

        /// <summary>Notes participants that ended on their own: a failure, unless a producer that ran out of tickets.</summary>
        public abstract void Reap(List<string> violations);

        public abstract bool WaitForProducers(TimeSpan timeout);

        public abstract bool WaitForConsumers(TimeSpan timeout);

        public abstract void Dispose();
    }

    private sealed class ThreadCrew(RingSegment segment, Ledger ledger, ParticipantSettings settings, IDeliveryFilter? filter) : Crew
    {
        private readonly List<Thread> _producers = [];
        private readonly List<Thread> _consumers = [];
        private readonly List<string> _failures = [];

        public override int LiveProducers => _producers.Count(t => t.IsAlive);

        public override void Start(bool isProducer, bool slow = false)
        {
            SubscribeFrom from = !isProducer && settings.Kind == RingKind.Broadcast ? NextJoin() : default;
            Thread thread = new(() =>
            {
                try
                {
                    if (isProducer)
                    {
                        using RingWriter writer = segment.CreateWriter(settings.Wait);
                        if (settings.Kind == RingKind.Broadcast) BroadcastParticipant.Publish(segment, writer, ledger, settings);
                        else Participant.Produce(writer, ledger, settings);
                    }
                    else if (settings.Kind == RingKind.Broadcast)
                    {
                        BroadcastParticipant.Subscribe(segment, from, ledger, settings, filter, slow);
                    }
                    else
                    {
                        using RingReader reader = segment.CreateReader(settings.Wait);
                        Participant.Consume(reader, ledger, settings, filter);
                    }
                }
                catch (Exception e) when (e is RingException or InvalidOperationException)
                {
                    lock (_failures) _failures.Add($"{(isProducer ? "producer" : "consumer")} thread failed: {e.GetType().Name}: {e.Message}");
                    if (!isProducer) ledger.StopProducers = true; // nobody would drain the ring
                }
            })
            { IsBackground = true, Name = isProducer ? "stress producer" : "stress consumer" };
            (isProducer ? _producers : _consumers).Add(thread);
            thread.Start();
        }

        public override void Reap(List<string> violations)
        {
            lock (_failures)
            {
                violations.AddRange(_failures);
                _failures.Clear();
            }
        }

        public override bool WaitForProducers(TimeSpan timeout) => _producers.All(t => t.Join(timeout));

        public override bool WaitForConsumers(TimeSpan timeout) => _consumers.All(t => t.Join(timeout));

        public override void Dispose()
        {
            // Threads left running after a timeout are background threads and stop with the process.
        }
    }

    /// <summary>Worker processes (<c>Ring.Stress participant</c>), with SIGKILL/SIGSTOP and replacement.</summary>
    private sealed class ProcessCrew(string ringPath, Ledger ledger, ParticipantSettings settings, TextWriter log) : Crew
    {
        /// <summary>
        /// The workers write to this process's stdout and stderr; their stdin is the lifeline that ends them when
        /// this coordinator is gone, since nobody would ever set the ledger's stop flags then.
        /// </summary>
        private static readonly ChildOptions WorkerOptions = new() { CaptureOutput = false, Lifeline = true };

        private readonly List<(ChildProcess Process, bool IsProducer, bool Slow)> _live = [];

        public override int LiveProducers
        {
            get
            {
                lock (_live) return _live.Count(w => w.IsProducer && !w.Process.HasExited);
            }
        }

        public int Count
        {
            get
            {
                lock (_live) return _live.Count;
            }
        }

        public override void Start(bool isProducer, bool slow = false)
        {
            List<string> arguments =
            [
                "participant", "--segment", ringPath, "--ledger", ledger.Path, "--role", isProducer ? "producer" : "consumer",
                "--seed", settings.Seed.ToString(CultureInfo.InvariantCulture), "--min-size", settings.MinSize.ToString(CultureInfo.InvariantCulture),
                "--max-size", settings.MaxSize.ToString(CultureInfo.InvariantCulture), "--wait", EnumNames.Of(settings.Wait),
            ];
            if (!isProducer && settings.Kind == RingKind.Broadcast)
            {
                arguments.AddRange(["--from", NextJoin() == SubscribeFrom.Oldest ? "oldest" : "tail"]);
                if (slow) arguments.Add("--slow");
            }
            ChildProcess process = ChildProcess.StartProgram("Ring.Stress", arguments, WorkerOptions);
            lock (_live) _live.Add((process, isProducer, slow));
        }

        /// <summary>
        /// SIGKILLs participant <paramref name="index"/>, waits for it to be gone (an SPSC role lock goes with it) and
        /// starts a replacement; true when the victim was a producer.
        /// </summary>
        public bool KillAndReplace(int index)
        {
            (ChildProcess process, bool isProducer, bool slow) victim;
            lock (_live)
            {
                victim = _live[index];
                _live.RemoveAt(index);
            }
            victim.process.Kill();
            if (!victim.process.WaitForExit(StopTimeout)) throw new InvalidOperationException($"worker {victim.process.Id} outlived SIGKILL by {StopTimeout.TotalSeconds:0} s");
            victim.process.Dispose();
            Start(victim.isProducer, victim.slow);
            return victim.isProducer;
        }

        public int Pid(int index)
        {
            lock (_live) return _live[index].Process.Id;
        }

        public override void Reap(List<string> violations)
        {
            lock (_live)
            {
                for (int i = _live.Count - 1; i >= 0; i--)
                {
                    (ChildProcess process, bool isProducer, _) = _live[i];
                    if (!process.HasExited) continue;
                    // Producers leave when the budget is spent; consumers only once told the ring is drained.
                    if (process.ExitCode != 0 || (!isProducer && !ledger.StopConsumers))
                        violations.Add($"{(isProducer ? "producer" : "consumer")} process {process.Id} exited with code {process.ExitCode}");
                    process.Dispose();
                    _live.RemoveAt(i);
                }
            }
        }

        public override bool WaitForProducers(TimeSpan timeout) => WaitFor(isProducer: true, timeout);

        public override bool WaitForConsumers(TimeSpan timeout) => WaitFor(isProducer: false, timeout);

        private bool WaitFor(bool isProducer, TimeSpan timeout)
        {
            ChildProcess[] group;
            lock (_live) group = [.. _live.Where(w => w.IsProducer == isProducer).Select(w => w.Process)];
            Stopwatch clock = Stopwatch.StartNew();
            foreach (ChildProcess process in group)
            {
                TimeSpan left = timeout - clock.Elapsed;
                if (left <= TimeSpan.Zero || !process.WaitForExit(left)) return false;
            }
            return true;
        }

        public override void Dispose()
        {
            lock (_live)
            {
                foreach ((ChildProcess process, _, _) in _live)
                {
                    if (!process.HasExited) log.WriteLine($"stress: killing leftover worker {process.Id}");
                    process.Dispose();
                }
                _live.Clear();
            }
        }
    }

    /// <summary>The fault schedule of a processes run: kills with replacement and pauses, at seeded random moments.</summary>
    private sealed class Faults(EngineSettings settings, Crew crew)
    {
        private readonly Random _random = new(unchecked((int)settings.Seed ^ 0x5EED));
        private readonly List<(int Pid, long ResumeAt)> _stopped = [];
        private long _nextKill = Next(settings.KillInterval, new Random(unchecked((int)settings.Seed)));
        private long _nextPause = Next(settings.PauseInterval, new Random(unchecked((int)settings.Seed + 1)));

        public long Kills { get; private set; }
        public long ProducerKills { get; private set; }
        public long ConsumerKills => Kills - ProducerKills;
        public long Pauses { get; private set; }

        public void Tick()
        {
            if (crew is not ProcessCrew processes) return;
            long now = Stopwatch.GetTimestamp();
            for (int i = _stopped.Count - 1; i >= 0; i--)
            {
                if (_stopped[i].ResumeAt > now) continue;
                LibC.TryKill(_stopped[i].Pid, Signal.SIGCONT);
                _stopped.RemoveAt(i);
            }
            if (now >= _nextKill && processes.Count > 0)
            {
                int victim = _random.Next(processes.Count);
                LibC.TryKill(processes.Pid(victim), Signal.SIGCONT); // a stopped victim dies all the same; this only keeps _stopped honest
                _stopped.RemoveAll(s => s.Pid == processes.Pid(victim));
                if (processes.KillAndReplace(victim)) ProducerKills++;
                Kills++;
                _nextKill = Stopwatch.GetTimestamp() + Scaled(settings.KillInterval!.Value);
            }
            if (now >= _nextPause && processes.Count > 0)
            {
                int pid = processes.Pid(_random.Next(processes.Count));
                if (_stopped.All(s => s.Pid != pid) && LibC.TryKill(pid, Signal.SIGSTOP))
                {
                    long pause = (long)((MinPause + (MaxPause - MinPause) * _random.NextDouble()).TotalSeconds * Stopwatch.Frequency);
                    _stopped.Add((pid, now + pause));
                    Pauses++;
                }
                _nextPause = now + Scaled(settings.PauseInterval!.Value);
            }
        }

        /// <summary>Continues every stopped participant (before the run stops, so none is left frozen).</summary>
        public void ReleaseAll()
        {
            foreach ((int pid, _) in _stopped) LibC.TryKill(pid, Signal.SIGCONT);
            _stopped.Clear();
        }

        private long Scaled(TimeSpan interval) => (long)(interval.TotalSeconds * (0.5 + _random.NextDouble()) * Stopwatch.Frequency);

        private static long Next(TimeSpan? interval, Random random) => interval is { } i
            ? Stopwatch.GetTimestamp() + (long)(i.TotalSeconds * (0.5 + random.NextDouble()) * Stopwatch.Frequency)
            : long.MaxValue;
    }

    /// <summary>Live progress: a rewritten line on a terminal, a plain line every few seconds when redirected.</summary>
    private sealed class Progress(EngineSettings settings, Ledger ledger, RingSegment segment, Faults faults, Stopwatch clock, TextWriter log)
    {
        private readonly bool _terminal = !Console.IsOutputRedirected && ReferenceEquals(log, Console.Out);
        private TimeSpan _last;
        private long _lastReceived;

        public void Tick()
        {
            if (!settings.Progress) return;
            TimeSpan every = _terminal ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromSeconds(5);
            TimeSpan now = clock.Elapsed;
            if (now - _last < every) return;
            long received = ledger.SumConsumers(ConsumerCounterKind.Received);
            double rate = (received - _lastReceived) / (now - _last).TotalSeconds;
            _last = now;
            _lastReceived = received;
            SegmentStatus status = segment.GetStatus();
            string line = string.Create(CultureInfo.InvariantCulture,
                $"[{settings.Name}] {now.TotalSeconds,6:0.0} s  {rate,12:N0} msg/s  received {received,14:N0}  faults {faults.Kills + faults.Pauses,5}  recoveries {status.Recoveries,5}  lost-in-delivery {status.LostInDelivery,4}");
            if (_terminal) log.Write("\r" + line);
            else log.WriteLine(line);
            log.Flush();
        }

        public void Finish()
        {
            if (settings.Progress && _terminal) log.WriteLine();
        }
    }
}
