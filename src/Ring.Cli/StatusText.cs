using System.Globalization;
using System.Text.Json.Serialization;

namespace Ring.Cli;

/// <summary>
/// Counter rates between two status samples, per second; negative deltas (a retiring entry read mid-way) count as 0.
/// Named for their units, as <c>stat --watch --json</c> prints them.
/// </summary>
internal sealed record Rates(
    [property: JsonIgnore] TimeSpan Interval, double MessagesWrittenPerS, double MessagesReadPerS, double MbWrittenPerS, double MbReadPerS, double WakesPerS)
{
    [JsonPropertyOrder(-1)]
    public double IntervalS => Interval.TotalSeconds;

    public static Rates Between(SegmentStatus before, SegmentStatus after, TimeSpan interval)
    {
        double seconds = interval.TotalSeconds;
        double PerSecond(long from, long to) => Math.Max(0, to - from) / seconds;
        return new Rates(
            interval,
            PerSecond(before.MessagesWritten, after.MessagesWritten),
            PerSecond(before.MessagesRead, after.MessagesRead),
            PerSecond(before.BytesWritten, after.BytesWritten) / 1e6,
            PerSecond(before.BytesRead, after.BytesRead) / 1e6,
            PerSecond(before.Wakes, after.Wakes));
    }
}

/// <summary>The text forms of a status: the <c>stat</c> report and the words <c>ls</c> shares with it.</summary>
internal static class StatusText
{
    public static string Kind(RingKind kind) => kind.ToString().ToLowerInvariant();

    public static string Role(RingRole roles) => roles switch
    {
        RingRole.None => "attached",
        RingRole.Producer => "producer",
        RingRole.Consumer => "consumer",
        _ => "producer+consumer",
    };

    public static string Time(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) : "never";

    public static string Percent(long part, long whole) =>
        whole <= 0 ? "0%" : (100.0 * part / whole).ToString(part == 0 || part == whole ? "0'%'" : "0.0'%'", CultureInfo.InvariantCulture);

    /// <summary>A broadcast subscriber's lag: messages and bytes behind the tail, "lapped" once its position was overwritten.</summary>
    private static string Behind(ParticipantStatus p) => p.BytesBehind switch
    {
        null => "-",
        long bytes when p.MessagesBehind is long messages => $"{Number(messages)} msgs, {Units.FormatSize(bytes)}",
        long bytes => $"lapped, {Units.FormatSize(bytes)}",
    };

    public static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>"open", or "completed" with the reason in parentheses when there is one.</summary>
    public static string Stream(SegmentStatus s) => !s.IsCompleted ? "open" : s.CompletionReason is null ? "completed" : $"completed ({s.CompletionReason})";

    private static string Count(int n, string what) => $"{n} {what}{(n == 1 ? "" : "s")}";

    public static string Rate(double value) => value.ToString(value >= 100 ? "N0" : "0.##", CultureInfo.InvariantCulture);

    public static IReadOnlyList<string> Render(string name, SegmentStatus s, Rates? rates)
    {
        int live = s.Participants.Count(p => p.IsAlive);
        string size = s.Kind == RingKind.Mpmc
            ? $"{Number(s.SlotCount)} slots x {s.Capacity / s.SlotCount} B = {Units.FormatSize(s.Capacity)}, slot payload (largest message) {Units.FormatSize(s.MaxMessageLength)}"
            : $"{Units.FormatSize(s.Capacity)} ({Number(s.Capacity)} B), largest message {Units.FormatSize(s.MaxMessageLength)}";
        string state = s.IsStale ? $"stale: all {s.Participants.Count} participants died without detaching ('ring gc' removes it)"
            : live > 0 ? $"in use: {live} live participant{(live == 1 ? "" : "s")} in {s.AttachedProcesses} process{(s.AttachedProcesses == 1 ? "" : "es")}"
            : "idle: nobody attached";
        List<string> lines =
        [
            $"segment      {name}",
            $"path         {s.Path}",
            $"kind         {Kind(s.Kind)}",
            $"size         {size}",
            $"file         {Number(s.FileLength)} B, mode {Units.FormatMode(s.Mode)}, owner {Users.Name(s.OwnerUid)} (uid {s.OwnerUid})",
            $"created      {Time(s.CreatedAt)} by pid {s.CreatorPid}",
            $"last attach  {Time(s.LastAttachAt)}",
            $"last detach  {Time(s.LastDetachAt)}",
            $"state        {state}",
            $"stream       {Stream(s)}",
            $"endpoints    {Count(s.ProducersAlive, "producer")} and {Count(s.ConsumersAlive, "consumer")} alive",
            $"in ring      {Number(s.MessagesInRing)} messages, {Units.FormatSize(s.BytesInRing)} ({Percent(s.BytesInRing, s.Capacity)} of capacity)",
            $"written      {Number(s.MessagesWritten)} messages, {Units.FormatSize(s.BytesWritten)}",
            $"read         {Number(s.MessagesRead)} messages, {Units.FormatSize(s.BytesRead)}",
            $"full/empty   {Number(s.FullEvents)} writes found it full, {Number(s.EmptyEvents)} reads found it empty",
            $"sleep/wake   {Number(s.Sleeps)} sleeps, {Number(s.Wakes)} wakes",
            $"waiting      {s.ReadersWaiting} readers, {s.WritersWaiting} writers",
            $"recovered    {Number(s.Recoveries)} positions of dead participants, {Number(s.LostInDelivery)} messages lost in delivery",
            $"publishing   {(s.MembarrierPublishers ? "release stores: a publisher without fences has attached, sleepers run membarrier" : "a full fence per publish")}",
        ];
        if (rates is not null)
        {
            lines.Add($"rates        {Rate(rates.MessagesWrittenPerS)} msgs/s written, {Rate(rates.MessagesReadPerS)} msgs/s read, " +
                $"{Rate(rates.MbWrittenPerS)} MB/s written, {Rate(rates.MbReadPerS)} MB/s read, {Rate(rates.WakesPerS)} wakes/s " +
                $"(over {Units.FormatDuration(rates.Interval)})");
        }
        lines.Add("");
        if (s.Participants.Count == 0)
        {
            lines.Add("participants none");
            return lines;
        }
        lines.Add($"participants {s.Participants.Count} recorded, {live} alive");
        bool broadcast = s.Kind == RingKind.Broadcast;
        List<string[]> rows = [broadcast
            ? ["  SLOT", "PID", "ROLE", "ALIVE", "ATTACHED", "BEHIND", "LOST TO LAPS"]
            : ["  SLOT", "PID", "ROLE", "ALIVE", "ATTACHED"]];
        rows.AddRange(s.Participants.Select(p =>
        {
            string[] row = [$"  {p.Index}", p.Pid.ToString(CultureInfo.InvariantCulture), Role(p.Roles), p.IsAlive ? "yes" : "no", Time(p.AttachedAt)];
            return broadcast ? [.. row, Behind(p), (p.Roles & RingRole.Consumer) != 0 ? Number(p.MessagesLostToLaps) : "-"] : row;
        }));
        using StringWriter table = new();
        Table.Write(table, rows);
        lines.AddRange(table.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        return lines;
    }
}
