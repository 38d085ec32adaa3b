namespace Ring;

/// <summary>Times the segment stores (creation, attach, detach): Unix time in nanoseconds, 0 for "never".</summary>
internal static class UnixTime
{
    public static long NowNs() => (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;

    public static DateTimeOffset? FromNs(long ns) => ns <= 0 ? null : DateTimeOffset.UnixEpoch.AddTicks(ns / 100);
}
