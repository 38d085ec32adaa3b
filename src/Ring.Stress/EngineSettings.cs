using System.Numerics;

namespace Ring.Stress;

/// <summary>Where the participants of a run live.</summary>
public enum EngineMode
{
    /// <summary>Threads of this process: fastest, no fault injection.</summary>
    Threads,

    /// <summary>One worker process each, which the coordinator can SIGKILL and SIGSTOP.</summary>
    Processes,
}

/// <summary>One stress run (one phase of a profile).</summary>
public sealed record EngineSettings
{
    /// <summary>Label in the summary and the JSON.</summary>
    public string Name { get; init; } = "run";

    /// <summary>Ring kind.</summary>
    public RingKind Kind { get; init; } = RingKind.Spsc;

    /// <summary>Producers running at any time (SPSC and broadcast: 1).</summary>
    public int Producers { get; init; } = 1;

    /// <summary>Consumers running at any time (SPSC: 1); for a broadcast ring, its subscribers.</summary>
    public int Consumers { get; init; } = 1;

    /// <summary>Broadcast: what the publisher does when the slowest subscriber is a ring behind.</summary>
    public BroadcastOverflow Overflow { get; init; } = BroadcastOverflow.Block;

    /// <summary>Broadcast: how many of the subscribers (and their replacements) pause now and then, to be lapped under Overwrite.</summary>
    public int SlowSubscribers { get; init; }

    /// <summary>Threads or processes.</summary>
    public EngineMode Mode { get; init; } = EngineMode.Threads;

    /// <summary>Total messages to send; null: send for <see cref="Duration"/>.</summary>
    public long? Messages { get; init; }

    /// <summary>How long producers send when <see cref="Messages"/> is null.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Smallest message; at least the 24-byte prefix every stress message carries.</summary>
    public int MinSize { get; init; } = StressMessage.PrefixLength;

    /// <summary>Largest message.</summary>
    public int MaxSize { get; init; } = 256;

    /// <summary>SPSC and broadcast: record space in bytes (a power of two). MPMC: the budget the slots are derived from when <see cref="Slots"/> is 0.</summary>
    public long Capacity { get; init; } = 1 << 20;

    /// <summary>MPMC slot count (a power of two); 0 derives it from <see cref="Capacity"/> and <see cref="MaxSize"/>.</summary>
    public int Slots { get; init; }

    /// <summary>How endpoints wait.</summary>
    public WaitStrategy Wait { get; init; } = WaitStrategy.SpinThenBlock;

    /// <summary>Processes mode: mean time between SIGKILLs of a random participant (drawn uniformly from 0.5×..1.5×); null: none.</summary>
    public TimeSpan? KillInterval { get; init; }

    /// <summary>Processes mode: mean time between SIGSTOP/SIGCONT pauses of a random participant; null: none.</summary>
    public TimeSpan? PauseInterval { get; init; }

    /// <summary>Seed of message sizes and payloads and of the fault schedule.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Print live progress.</summary>
    public bool Progress { get; init; } = true;

    /// <summary>Threads mode: the filter between ring and verifier (tests inject a broken one).</summary>
    public IDeliveryFilter? Filter { get; init; }

    /// <summary>The slot count an MPMC run uses: explicit, or the largest power of two whose slots fit in the capacity.</summary>
    public int EffectiveSlots
    {
        get
        {
            if (Slots != 0) return Slots;
            long fit = Math.Clamp(Capacity / (MaxSize + 16), 2, 1 << 24); // 16: the slot's sequence and length words
            return 1 << (63 - BitOperations.LeadingZeroCount((ulong)fit));
        }
    }

    /// <summary>A reason these settings cannot run, or null.</summary>
    public string? Validate()
    {
        if (Producers < 1 || Consumers < 1) return "--producers and --consumers must be at least 1.";
        if (Kind == RingKind.Spsc && (Producers != 1 || Consumers != 1)) return "an SPSC ring has exactly one producer and one consumer.";
        if (MinSize < StressMessage.PrefixLength) return $"--min-size must be at least {StressMessage.PrefixLength} (every stress message carries a {StressMessage.PrefixLength}-byte prefix).";
        if (MaxSize < MinSize) return "--max-size must be at least --min-size.";
        if (Kind == RingKind.Spsc && (!BitOperations.IsPow2(Capacity) || MaxSize > Capacity / 8)) return "SPSC --capacity must be a power of two at least 8 × --max-size.";
        if (Kind == RingKind.Broadcast && Producers != 1) return "a broadcast ring has exactly one publisher.";
        if (Kind == RingKind.Broadcast && (!BitOperations.IsPow2(Capacity) || MaxSize > Capacity / 8 - 8)) return "broadcast --capacity must be a power of two at least 8 × (--max-size + 8).";
        if (Kind != RingKind.Broadcast && (Overflow != BroadcastOverflow.Block || SlowSubscribers != 0)) return "--overflow and --slow-subscribers are for --kind broadcast.";
        if (SlowSubscribers < 0 || SlowSubscribers > Consumers) return "--slow-subscribers must be from 0 to --subscribers.";
        if (Slots != 0 && !BitOperations.IsPow2(Slots)) return "--slots must be a power of two.";
        if (Mode == EngineMode.Threads && (KillInterval is not null || PauseInterval is not null)) return "--kill-interval and --pause-interval need --mode processes (a thread cannot be killed on its own).";
        if (Messages is <= 0) return "--messages must be positive.";
        return null;
    }
}
