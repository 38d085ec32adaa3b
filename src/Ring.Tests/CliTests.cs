using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Ring.Cli;
using Ring.Tooling;
using Ring.Tooling.Platform;
using Xunit.Abstractions;

namespace Ring.Tests;

/// <summary>
/// The <c>ring</c> tool run as operators run it: a child process (<c>dotnet Ring.Cli.dll ...</c>) with RING_DIR
/// pointing to a private directory, checked by exit code, stdout and stderr. The test process looks at the same
/// segments through the library, by absolute path. In the cross-process collection: several tests keep a
/// <c>ring tail</c> child attached, and one measures that child's CPU time while it waits. The trust tests run
/// <c>ring</c> as a throwaway user too (root only).
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class CliTests(ITestOutputHelper output, ThrowawayUser stranger) : IClassFixture<ThrowawayUser>, IDisposable
{
    /// <summary>Longest one ring command may take; each needs well under a second after the runtime starts.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly TempSegmentDirectory _dir = new();
    private readonly List<ChildProcess> _children = [];
    private readonly List<string> _strangersDirectories = [];

    /// <summary>Ring.Cli.dll, copied next to the test assembly by the project reference.</summary>
    private static string CliAssembly => Path.Combine(AppContext.BaseDirectory, "Ring.Cli.dll");

    public void Dispose()
    {
        foreach (ChildProcess child in _children) child.Dispose();
        foreach (string directory in _strangersDirectories) Directory.Delete(directory, recursive: true);
        _dir.Dispose();
    }

    // ---- End to end ----

    [Fact]
    public async Task BeginWrite_ObjectSerializedIntoTheClaim_AnotherProcessReadsItBack()
    {
        // The writer serializes in place; `ring tail`, a process of its own, takes the message out of the ring.
        Order sent = new("ACME", 300, 101.5m, ["day", "limit"]);
        using (RingSegment segment = RingSegment.Create(PathOf("orders"), new RingOptions { Capacity = 64 * 1024 }))
        using (RingWriter writer = segment.CreateWriter())
        using (RingClaim claim = writer.BeginWrite(1024))
        {
            using (Utf8JsonWriter json = new(claim))
            {
                JsonSerializer.Serialize(json, sent);
            }
            claim.Commit();
        }

        CliRun tail = await RunAsync("tail", "orders", "--count", "1", "--timeout", "20s");

        AssertOk(tail);
        Order? received = JsonSerializer.Deserialize<Order>(Assert.Single(Lines(tail.Stdout)));
        Assert.NotNull(received);
        Assert.Equal((sent.Symbol, sent.Quantity, sent.Limit), (received.Symbol, received.Quantity, received.Limit));
        Assert.Equal(sent.Tags, received.Tags);
    }

    [Fact]
    public async Task Spsc_CreateSendTailStatRm_EndToEnd()
    {
        AssertOk(await RunAsync("create", "q", "--capacity", "64KiB"), "created spsc segment 'q'");
        Assert.True(File.Exists(PathOf("q")));

        AssertOk(await RunAsync("send", "q", "--text", "hello"), "sent 1 message (5 B)");
        AssertOk(await RunShellAsync("printf 'one\\ntwo\\n' | {ring} send q --stdin"), "sent 2 messages");
        string file = Path.Combine(_dir.DirectoryPath, "payload.bin");
        File.WriteAllBytes(file, [0x00, 0xFF, (byte)'a', (byte)'\n', (byte)'\\']);
        AssertOk(await RunAsync("send", "q", "--file", file), "sent 1 message (5 B)");
        File.Delete(file);

        JsonElement before = ParseJson(await RunAsync("stat", "q", "--json"));
        Assert.Equal("spsc", before.GetProperty("kind").GetString());
        Assert.Equal(65536, before.GetProperty("capacity").GetInt64());
        Assert.Equal(4, before.GetProperty("messages_in_ring").GetInt64());
        Assert.Equal(4, before.GetProperty("messages_written").GetInt64());
        Assert.Equal(0, before.GetProperty("participants").GetArrayLength());

        CliRun tail = await RunAsync("tail", "q", "--count", "4", "--timeout", "20s");
        AssertOk(tail);
        Assert.Equal(["hello", "one", "two", @"\x00\xffa\n\\"], Lines(tail.Stdout));

        CliRun empty = await RunAsync("tail", "q", "--count", "1", "--timeout", "300ms");
        AssertFails(empty, ExitCode.Timeout, "timed out after 300ms: 0 of 1 messages arrived");

        CliRun stat = await RunAsync("stat", "q");
        AssertOk(stat, "read         4 messages, 16 B");
        Assert.Contains("state        idle: nobody attached", stat.Stdout, StringComparison.Ordinal);
        Assert.Contains("participants none", stat.Stdout, StringComparison.Ordinal);

        AssertOk(await RunAsync("rm", "q"), "removed 'q'");
        Assert.False(File.Exists(PathOf("q")));
        AssertFails(await RunAsync("stat", "q"), ExitCode.NotFound, "no segment 'q'");
    }

    [Fact]
    public async Task StatJson_EveryPropertyOfTheLibrarysStatus_IsAField()
    {
        AssertOk(await RunAsync("create", "q"));
        ChildProcess tail = StartCli("tail", "q");
        await WaitForLiveConsumerAsync("q", tail);

        JsonElement json = ParseJson(await RunAsync("stat", "q", "--json"));

        // The names ring printed before it serialized the record itself; every other one is the record's, snake_case.
        Dictionary<string, string> renamed = new() { ["IsStale"] = "stale", ["IsAlive"] = "alive", ["Roles"] = "role" };
        string FieldOf(PropertyInfo property) =>
            renamed.GetValueOrDefault(property.Name) ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name);
        string[] FieldsOf(JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];
        string[] Expected(Type record, params string[] added) => [.. record.GetProperties().Select(FieldOf).Concat(added).Order(StringComparer.Ordinal)];

        Assert.Equal(Expected(typeof(SegmentStatus), "owner", "live_participants", "dead_participants"), FieldsOf(json));
        JsonElement[] participants = [.. json.GetProperty("participants").EnumerateArray()];
        Assert.All(participants, p => Assert.Equal(Expected(typeof(ParticipantStatus)), FieldsOf(p)));
        Assert.Contains(participants, p => p.GetProperty("role").GetString() == "consumer" && p.GetProperty("alive").GetBoolean());
        Assert.Equal(Users.Name(json.GetProperty("owner_uid").GetUInt32()), json.GetProperty("owner").GetString());
    }

    [Fact]
    public async Task Mpmc_SlotsMapToRingOptions_AndTailPrintsHex()
    {
        AssertOk(await RunAsync("create", "m", "--kind", "mpmc", "--slots", "8", "--slot-size", "64", "--mode", "0640"),
            "created mpmc segment 'm'", "8 slots of 64 B", "mode 0640");
        using (RingSegment segment = RingSegment.OpenReadOnly(PathOf("m")))
        {
            Assert.Equal(RingKind.Mpmc, segment.Kind);
            Assert.Equal(8, segment.SlotCount);
            Assert.Equal(64, segment.MaxMessageLength);
        }
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(PathOf("m")));

        AssertOk(await RunAsync("send", "m", "--text", "AB"));
        CliRun tail = await RunAsync("tail", "m", "--hex", "-n", "1", "--timeout", "20s");
        AssertOk(tail);
        Assert.Equal(["4142"], Lines(tail.Stdout));

        AssertFails(await RunAsync("send", "m", "--text", new string('x', 65)), ExitCode.Error, "is 65 bytes; segment 'm' carries at most 64");
    }

    [Theory]
    [InlineData("--slots 8", "--slots: An SPSC ring has no slots")]
    [InlineData("--capacity 1000", "--capacity: The capacity must be a power of two")]
    [InlineData("--kind mpmc --capacity 1MiB", "--capacity: An MPMC ring is sized by SlotCount and MaxMessageLength, not Capacity.")]
    [InlineData("--kind mpmc --slots 3", "--slots: The slot count must be a power of two")]
    [InlineData("--max-message 1MiB", "--max-message/--slot-size: The largest message must be from 0 to capacity/8")]
    [InlineData("--mode 0400", "--mode: The owner needs read and write permission")]
    [InlineData("--slot-size 64", "--slot-size sizes an MPMC slot")]
    [InlineData("--capacity 1KB", "--capacity: '1KB': unknown unit 'KB'")]
    [InlineData("--kind ring", "Argument 'ring' not recognized")]
    [InlineData("--overflow overwrite", "--overflow is for a broadcast ring")]
    [InlineData("--kind broadcast --overflow drop", "Argument 'drop' not recognized")]
    [InlineData("--kind broadcast --slots 8", "--slots: A broadcast ring has no slots")]
    public async Task Create_InvalidOptions_FailWithOneLineUsageError(string options, string message)
    {
        CliRun run = await RunAsync(["create", "bad", .. options.Split(' ')]);

        AssertFails(run, ExitCode.Usage, message);
        Assert.False(File.Exists(PathOf("bad")));
    }

    [Fact]
    public async Task Create_NameTaken_IsRefused()
    {
        AssertOk(await RunAsync("create", "q"));

        AssertFails(await RunAsync("create", "q", "--capacity", "4KiB"), ExitCode.Refused, "already exists");
    }

    // ---- Live participants: rm, tail roles, gc ----

    [Fact]
    public async Task Rm_LiveParticipant_IsRefusedUnlessForced()
    {
        AssertOk(await RunAsync("create", "q"));
        ChildProcess tail = StartCli("tail", "q", "--timeout", "30s");
        await WaitForLiveConsumerAsync("q", tail);

        CliRun refused = await RunAsync("rm", "q");
        AssertFails(refused, ExitCode.Refused, "has 2 live participants", $"consumer pid {tail.Id}", "--force");
        Assert.True(File.Exists(PathOf("q")));

        AssertOk(await RunAsync("rm", "q", "--force"), "removed 'q'", "keep");
        Assert.False(File.Exists(PathOf("q")));
    }

    [Fact]
    public async Task Tail_BroadcastFromOldest_PrintsTheHistoryAndTakesNothingFromTheOthers()
    {
        AssertOk(await RunAsync("create", "feed", "--kind", "broadcast", "--capacity", "4KiB"));
        using (RingSegment segment = RingSegment.Open(PathOf("feed")))
        using (RingWriter writer = segment.CreateWriter())
        {
            foreach (string tick in new[] { "one", "two", "three" }) Assert.True(writer.TryWrite(Encoding.UTF8.GetBytes(tick)));
        }

        CliRun first = await RunAsync("tail", "feed", "--from", "oldest", "-n", "3");
        CliRun second = await RunAsync("tail", "feed", "--from", "oldest", "-n", "3");

        AssertOk(first);
        Assert.Equal(["one", "two", "three"], Lines(first.Stdout));
        Assert.Equal(Lines(first.Stdout), Lines(second.Stdout));
        AssertFails(await RunAsync("tail", "feed", "--from", "start"), ExitCode.Usage, "Argument 'start' not recognized");
    }

    [Fact]
    public async Task Tail_FromOnAnSpscRing_IsAUsageError()
    {
        AssertOk(await RunAsync("create", "q"));

        AssertFails(await RunAsync("tail", "q", "--from", "oldest"), ExitCode.Usage, "--from is for a broadcast ring");
    }

    [Fact]
    public async Task Tail_BroadcastOverwriteSubscriberLapped_ReportsTheLossAndGoesOnFromTheOldest()
    {
        AssertOk(await RunAsync("create", "feed", "--kind", "broadcast", "--capacity", "256B", "--overflow", "overwrite"));
        ChildProcess tail = StartCli("tail", "feed", "--timeout", "30s");
        using RingSegment segment = RingSegment.Open(PathOf("feed"));
        using RingWriter writer = segment.CreateWriter();
        // Joined (a participant is one before it joins) and asleep waiting for the first message.
        await Polling.UntilAsync(() => segment.GetStatus().ReadersWaiting == 1, "the subscriber to join and sleep", Deadline, tail, childMustRun: true);

        LibC.Kill(tail.Id, Signal.SIGSTOP); // it reads nothing while the publisher laps it
        for (int seq = 0; seq < 100; seq++) Assert.True(writer.TryWrite(Encoding.UTF8.GetBytes($"m{seq}")));
        long oldest = 100 - segment.GetStatus().MessagesInRing;
        LibC.Kill(tail.Id, Signal.SIGCONT);
        writer.Complete();

        Assert.Equal(ExitCode.Ok, await tail.WaitForExitAsync(Deadline));
        Assert.Equal(Enumerable.Range((int)oldest, 100 - (int)oldest).Select(seq => $"m{seq}"), Lines(tail.StandardOutput));
        Assert.Equal([$"ring: lapped by the publisher: {oldest} messages lost"], Lines(tail.StandardError));
    }

    [Fact]
    public async Task Tail_SpscRingWithLiveConsumer_IsRefusedWithTheRoleError()
    {
        AssertOk(await RunAsync("create", "q"));
        ChildProcess first = StartCli("tail", "q", "--timeout", "30s");
        await WaitForLiveConsumerAsync("q", first);

        AssertFails(await RunAsync("tail", "q", "--count", "1"), ExitCode.Refused, $"already has a live consumer (pid {first.Id})");
    }

    [Fact]
    public async Task Gc_RemovesTheSegmentOfAKilledProcess_KeepsLiveAndIdleOnes()
    {
        AssertOk(await RunAsync("create", "crashed"));
        AssertOk(await RunAsync("create", "alive"));
        AssertOk(await RunAsync("create", "idle")); // created and detached cleanly: nobody attached, not stale
        ChildProcess doomed = StartCli("tail", "crashed", "--timeout", "30s");
        ChildProcess living = StartCli("tail", "alive", "--timeout", "30s");
        await WaitForLiveConsumerAsync("crashed", doomed);
        await WaitForLiveConsumerAsync("alive", living);
        doomed.Kill();
        await doomed.WaitForExitAsync(Deadline);
        // The staging file of a create whose process died an hour ago, and one of a create that may be running.
        string leftover = Path.Combine(_dir.DirectoryPath, $".lost.{doomed.Id}.{Guid.NewGuid():N}.creating");
        string fresh = Path.Combine(_dir.DirectoryPath, $".new.{doomed.Id}.{Guid.NewGuid():N}.creating");
        File.WriteAllBytes(leftover, []);
        File.WriteAllBytes(fresh, []);
        File.SetLastWriteTimeUtc(leftover, DateTime.UtcNow.AddHours(-1));
        Assert.True(RingSegment.Stat(PathOf("crashed")).IsStale);

        CliRun dryRun = await RunAsync("gc", "--dry-run");
        AssertOk(dryRun, "would remove segment 'crashed'", $"consumer pid {doomed.Id}", "would remove staging file", "kept 2 segments");
        Assert.True(File.Exists(PathOf("crashed")));
        Assert.True(File.Exists(leftover));

        CliRun gc = await RunAsync("gc");
        AssertOk(gc, "removed segment 'crashed'", "removed staging file", "gc: removed 2, kept 2 segments");
        Assert.DoesNotContain("'alive'", gc.Stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(PathOf("crashed")));
        Assert.False(File.Exists(leftover));
        Assert.True(File.Exists(fresh));
        Assert.True(File.Exists(PathOf("alive")));
        Assert.True(File.Exists(PathOf("idle")));
    }

    [Fact]
    public async Task Gc_OwnStagingFilesNotCertainlyAbandoned_AreReportedAndKept()
    {
        int dead = await DeadPidAsync();
        byte[] published = new byte[SegmentLayout.HeaderLength];
        BitConverter.TryWriteBytes(published.AsSpan(SegmentLayout.MagicOffset), SegmentLayout.Magic);
        // What a create that died leaves: nothing written yet, a header not yet published, a header published but not linked.
        string[] abandoned = [Staging("empty", dead, []), Staging("zeros", dead, new byte[SegmentLayout.HeaderLength]), Staging("published", dead, published)];
        string text = Staging("text", dead, "not a header"u8.ToArray());
        string random = Staging("random", dead, Payload.Make(5, 64 * 1024));
        string live = Staging("live", Environment.ProcessId, []);

        CliRun dryRun = await RunAsync("gc", "--dry-run");
        AssertOk(dryRun, "gc: would remove 3");
        Assert.All([.. abandoned, text, random, live], path => Assert.True(File.Exists(path), $"--dry-run removed '{path}'"));

        CliRun gc = await RunAsync("gc");
        AssertOk(gc, "gc: removed 3",
            $"kept staging file '{text}': staging file '{text}' does not hold a Ring header in progress: 12 bytes",
            $"kept staging file '{random}': staging file '{random}' does not hold a Ring header in progress: magic 0x",
            $"kept staging file '{live}': staging file '{live}': its creator, pid {Environment.ProcessId}, is still running");
        Assert.All(abandoned, path => Assert.False(File.Exists(path), $"gc kept '{path}'"));
        Assert.All([text, random, live], path => Assert.True(File.Exists(path), $"gc removed '{path}'"));
    }

    [RootFact]
    public async Task Gc_StagingFileAnotherUserOwns_IsReportedAndKept()
    {
        string foreign = Staging("foreign", await DeadPidAsync(), []);
        stranger.Chown(foreign);

        CliRun gc = await RunAsync("gc");

        AssertOk(gc, "gc: removed 0", $"kept staging file '{foreign}': '{foreign}' belongs to uid {stranger.Uid}, mode 0644, not to this user (uid 0)");
        Assert.True(File.Exists(foreign));
    }

    // ---- Trust ----

    [RootFact]
    public async Task CreateAndTail_InADirectoryAnotherUserMade_AreRefusedNamingItsOwnerAndMode()
    {
        // /dev/shm is where anyone can make a directory; the other user makes one 0777 for the caller's segments.
        string theirs = $"/dev/shm/ring-t-{Guid.NewGuid():N}";
        _strangersDirectories.Add(theirs);
        string[] mkdir = [.. stranger.RunAs(), "mkdir", "-m", "0777", theirs];
        using (ChildProcess made = ChildProcess.Start(mkdir[0], mkdir[1..]))
            Assert.True(await made.WaitForExitAsync(Deadline) == 0, made.Describe());
        string refusal = $"segment directory '{theirs}' belongs to uid {stranger.Uid}, mode 0777";

        AssertFails(await RunAsync(["create", "rootseg"], theirs), ExitCode.Refused, refusal);
        AssertFails(await RunAsync(["tail", "rootseg", "-n", "1", "--timeout", "20s"], theirs), ExitCode.Refused, refusal);

        Assert.Empty(Directory.GetFileSystemEntries(theirs));
    }

    [RootFact]
    public async Task EveryCommand_SegmentAnotherUserOwns_IsRefusedUntilTrusted()
    {
        AssertOk(await RunAsync("create", "q"));
        AssertOk(await RunAsync("send", "q", "--text", "planted"));
        stranger.Chown(PathOf("q"));
        File.SetUnixFileMode(PathOf("q"), (UnixFileMode)0b110_110_110);
        string refusal = $"segment '{PathOf("q")}' belongs to uid {stranger.Uid}, mode 0666";

        AssertFails(await RunAsync("tail", "q", "-n", "1", "--timeout", "20s"), ExitCode.Refused, refusal);
        AssertFails(await RunAsync("send", "q", "--text", "x"), ExitCode.Refused, refusal);
        AssertFails(await RunAsync("stat", "q"), ExitCode.Refused, refusal);
        AssertFails(await RunAsync("rm", "q", "--force"), ExitCode.Refused, refusal);
        AssertOk(await RunAsync("ls", "--verbose"), "0 segments", refusal);
        Assert.True(File.Exists(PathOf("q")));

        CliRun tail = await RunAsync("tail", "q", "-n", "1", "--timeout", "20s", "--trust-owner", stranger.Name);
        AssertOk(tail);
        Assert.Equal(["planted"], Lines(tail.Stdout));
        AssertOk(await RunAsync("stat", "q", "--trust-owner", $"{stranger.Uid}"), $"owner {stranger.Name} (uid {stranger.Uid})");
        AssertOk(await RunAsync("ls", "--trust-owner", stranger.Name), "1 segment in");
        AssertOk(await RunAsync("rm", "q", "--trust-owner", "65534", "--trust-owner", stranger.Name), "removed 'q'");
        Assert.False(File.Exists(PathOf("q")));
    }

    [RootFact]
    public async Task Share_CreatorPicks0660InIts0750Directory_TheOtherSideTrustsTheCreator()
    {
        // The other users must be able to reach the shared directory inside this test's (root's) directory.
        File.SetUnixFileMode(_dir.DirectoryPath, (UnixFileMode)0b111_101_101);
        string shared = Path.Combine(_dir.DirectoryPath, "shared");
        Directory.CreateDirectory(shared);
        stranger.Chown(shared);
        File.SetUnixFileMode(shared, (UnixFileMode)0b111_101_000);
        string segment = Path.Combine(shared, "s");

        // The creator is the throwaway user itself, through ring.
        AssertOk(await RunAsync(["create", "s", "--mode", "0660"], shared, stranger.RunAs()), "mode 0660");
        AssertOk(await RunAsync(["send", "s", "--text", "from the creator"], shared, stranger.RunAs()));

        // Root does not trust it by default...
        AssertFails(await RunAsync(["tail", "s", "-n", "1", "--timeout", "20s"], shared), ExitCode.Refused,
            $"segment directory '{shared}' belongs to uid {stranger.Uid}, mode 0750");
        // ...and uses it once it names the creator.
        RingOpenOptions trustCreator = new() { TrustedOwners = [stranger.Uid] };
        using (RingSegment opened = RingSegment.Open(segment, trustCreator))
        {
            Assert.Equal((stranger.Uid, (UnixFileMode)0b110_110_000), (opened.GetStatus().OwnerUid, opened.GetStatus().Mode));
            using (RingReader reader = opened.CreateReader())
            {
                byte[] buffer = new byte[opened.MaxMessageLength];
                Assert.True(reader.TryRead(buffer, out int length));
                Assert.Equal("from the creator"u8.ToArray(), buffer[..length]);
            }
            using RingWriter writer = opened.CreateWriter();
            Assert.True(writer.TryWrite("from root"u8));
        }

        // A third user in the creator's group (nobody, with that group added): the mode lets it in, trust makes Ring use it.
        IReadOnlyList<string> member = ThrowawayUser.RunAs(65534, 65534, "/nonexistent", stranger.Gid);
        AssertFails(await RunAsync(["tail", "s", "-n", "1", "--timeout", "20s"], shared, member), ExitCode.Refused, $"uid {stranger.Uid}");
        CliRun tail = await RunAsync(["tail", "s", "-n", "1", "--timeout", "20s", "--trust-owner", stranger.Name], shared, member);
        AssertOk(tail);
        Assert.Equal(["from root"], Lines(tail.Stdout));
    }

    // ---- Truncation ----

    [Fact]
    public async Task Stat_SegmentTruncatedAfterCreation_SaysWhatHappened_RmForceRemovesIt()
    {
        AssertOk(await RunAsync("create", "q", "--capacity", "64KiB"));
        long created = new FileInfo(PathOf("q")).Length;
        // Nobody has it mapped (ring create detached): truncating it cannot SIGBUS anyone.
        SegmentFile.SetLength(PathOf("q"), SegmentLayout.HeaderLength + 4096);

        AssertFails(await RunAsync("stat", "q"), ExitCode.NotASegment,
            $"the file is {SegmentLayout.HeaderLength + 4096} bytes but its header says {created}: it was truncated after it was created", "SIGBUS");
        SegmentFile.SetLength(PathOf("q"), 4096);
        AssertFails(await RunAsync("stat", "q"), ExitCode.NotASegment,
            $"the file is 4096 bytes, shorter than the {SegmentLayout.HeaderLength}-byte header it starts with: it was truncated after it was created");
        AssertFails(await RunAsync("rm", "q"), ExitCode.NotASegment, "'ring rm --force' removes it");
        Assert.True(File.Exists(PathOf("q")));

        AssertOk(await RunAsync("rm", "q", "--force"), "removed 'q'");
        Assert.False(File.Exists(PathOf("q")));
    }

    // ---- Following and signals ----

    [Fact]
    public async Task Tail_Follows_AsleepWhileIdle_AndCtrlCEndsItCleanly()
    {
        AssertOk(await RunAsync("create", "q"));
        ChildProcess tail = StartCli("tail", "q");
        await WaitForLiveConsumerAsync("q", tail);
        await Task.Delay(500); // let start-up work (JIT, tiering) settle before measuring

        long cpuBefore = CpuTicks(tail.Id);
        await Task.Delay(TimeSpan.FromSeconds(2));
        long idleTicks = CpuTicks(tail.Id) - cpuBefore;
        output.WriteLine($"tail used {idleTicks} clock ticks of CPU in 2 s idle");
        // Polling would burn ~200 ticks (100 Hz) in 2 s; asleep on the futex it wakes about once a second.
        Assert.True(idleTicks <= 20, $"tail used {idleTicks} ticks of CPU in 2 s while the ring was empty.\n{tail.Describe()}");

        AssertOk(await RunAsync("send", "q", "--text", "late news"));
        await WaitForOutputAsync(tail, "late news");

        LibC.Kill(tail.Id, Signal.SIGINT);
        Assert.Equal(ExitCode.Ok, await tail.WaitForExitAsync(Deadline));
        Assert.Equal("", tail.StandardError);
    }

    [Fact]
    public async Task Tail_CtrlCBeforeCount_ExitsInterrupted()
    {
        AssertOk(await RunAsync("create", "q"));
        ChildProcess tail = StartCli("tail", "q", "--count", "5");
        await WaitForLiveConsumerAsync("q", tail);

        LibC.Kill(tail.Id, Signal.SIGINT);

        Assert.Equal(ExitCode.Interrupted, await tail.WaitForExitAsync(Deadline));
        Assert.Equal("ring: interrupted: 0 of 5 messages arrived.", tail.StandardError.Trim());
    }

    [Fact]
    public async Task StatWatch_ReportsRates_NeverAttaches_EndsOnCtrlC()
    {
        AssertOk(await RunAsync("create", "q"));
        AssertOk(await RunAsync("send", "q", "--text", "x"));
        ChildProcess watch = StartCli("stat", "q", "--watch", "200ms", "--json");
        await WaitForOutputAsync(watch, "\"rates\"");
        Assert.Empty(RingSegment.Stat(PathOf("q")).Participants);

        LibC.Kill(watch.Id, Signal.SIGINT);

        Assert.Equal(ExitCode.Ok, await watch.WaitForExitAsync(Deadline));
        string[] samples = Lines(watch.StandardOutput);
        Assert.True(samples.Length >= 2, watch.Describe());
        foreach (string sample in samples)
        {
            using JsonDocument json = JsonDocument.Parse(sample);
            Assert.Equal(1, json.RootElement.GetProperty("messages_in_ring").GetInt64());
        }
        using JsonDocument last = JsonDocument.Parse(samples[^1]);
        JsonElement rates = last.RootElement.GetProperty("rates");
        Assert.Equal(0, rates.GetProperty("messages_written_per_s").GetDouble());
        Assert.InRange(rates.GetProperty("interval_s").GetDouble(), 0.1, 5);
    }

    [Fact]
    public async Task StatWatch_Text_PrintsRatesLine()
    {
        AssertOk(await RunAsync("create", "q"));
        ChildProcess watch = StartCli("stat", "q", "--watch", "200ms");

        await WaitForOutputAsync(watch, "msgs/s written");
        LibC.Kill(watch.Id, Signal.SIGINT);

        Assert.Equal(ExitCode.Ok, await watch.WaitForExitAsync(Deadline));
        Assert.Contains("MB/s written", watch.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("wakes/s", watch.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("\e[", watch.StandardOutput, StringComparison.Ordinal); // not a terminal: no cursor control
    }

    // ---- The end of the stream ----

    [Fact]
    public async Task SendComplete_TailWithoutCount_ReadsEverythingThenExitsZeroWithTheReasonOnStderr()
    {
        AssertOk(await RunAsync("create", "q"));
        AssertOk(await RunAsync("send", "q", "--text", "one"));
        AssertOk(await RunAsync("send", "q", "--text", "two", "--complete", "--reason", "end of day"), "sent 1 message (3 B) to 'q' and completed it (end of day)");

        CliRun tail = await RunAsync("tail", "q");

        Assert.True(tail.ExitCode == ExitCode.Ok, $"expected exit 0.\n{tail.Description}");
        Assert.Equal(["one", "two"], Lines(tail.Stdout));
        Assert.Equal(["ring: completed: end of day"], Lines(tail.Stderr));
        AssertOk(await RunAsync("stat", "q"), "stream       completed (end of day)\n", "endpoints    0 producers and 0 consumers alive\n");
        JsonElement json = ParseJson(await RunAsync("stat", "q", "--json"));
        Assert.Equal((true, "end of day"), (json.GetProperty("is_completed").GetBoolean(), json.GetProperty("completion_reason").GetString()));
        Assert.Equal((0, 0), (json.GetProperty("producers_alive").GetInt32(), json.GetProperty("consumers_alive").GetInt32()));
        string[] ls = Lines((await RunAsync("ls")).Stdout);
        Assert.Equal(["q", "spsc", "1", "MiB", "0", "B", "(0%)", "0", "completed", "0/0", "no", "0600"], Words(ls[1])[..^1]);
        AssertFails(await RunAsync("send", "q", "--text", "three"), ExitCode.Completed, "is completed: end of day");
        AssertFails(await RunAsync("complete", "q"), ExitCode.Completed, "segment 'q' was completed already (end of day)");
        AssertFails(await RunAsync("tail", "q", "--count", "1"), ExitCode.Completed, "the ring was completed (end of day): 0 of 1 messages arrived");
    }

    [Fact]
    public async Task CompleteOptions_Invalid_FailWithUsageErrorAndCompleteNothing()
    {
        AssertOk(await RunAsync("create", "q"));
        string tooLong = new('é', 113); // 226 bytes of UTF-8

        AssertFails(await RunAsync("send", "q", "--text", "x", "--reason", "why"), ExitCode.Usage, "--reason goes with --complete");
        AssertFails(await RunAsync("send", "q", "--text", "x", "--complete", "--reason", tooLong), ExitCode.Usage, "--reason: 226 bytes of UTF-8; a reason is at most 224");
        AssertFails(await RunAsync("complete", "q", "--reason", tooLong), ExitCode.Usage, "--reason: 226 bytes of UTF-8; a reason is at most 224");

        SegmentStatus status = RingSegment.Stat(PathOf("q"));
        Assert.Equal((false, 0L), (status.IsCompleted, status.MessagesWritten));
    }

    [Fact]
    public async Task Complete_MpmcRingWithLiveProducerAndWaitingTail_CompletesAsOneMoreProducerAndTheTailExitsZero()
    {
        AssertOk(await RunAsync("create", "m", "--kind", "mpmc", "--slots", "16"));
        ChildProcess producer = StartIdleSend("m");
        ChildProcess tail = StartCli("tail", "m");
        await WaitForLiveRoleAsync("m", producer, RingRole.Producer);
        await WaitForLiveConsumerAsync("m", tail);

        AssertOk(await RunAsync("complete", "m", "--reason", "maintenance"), "completed 'm' (maintenance)");

        Assert.Equal(ExitCode.Ok, await tail.WaitForExitAsync(Deadline));
        Assert.Equal("ring: completed: maintenance", tail.StandardError.Trim());
        SegmentStatus status = RingSegment.Stat(PathOf("m"));
        Assert.Equal((true, 1), (status.IsCompleted, status.ProducersAlive)); // the other producer is still there, and can write no more
    }

    [Fact]
    public async Task Complete_SpscRingWithLiveProducer_IsRefusedSayingWhy_CompletesOnceItIsGone()
    {
        AssertOk(await RunAsync("create", "q"));
        ChildProcess producer = StartIdleSend("q");
        await WaitForLiveRoleAsync("q", producer, RingRole.Producer);

        AssertFails(await RunAsync("complete", "q"), ExitCode.Refused, $"segment 'q' has a live producer (pid {producer.Id})",
            "the producer's own tail stores would overwrite the completion");
        Assert.False(RingSegment.Stat(PathOf("q")).IsCompleted);

        producer.Kill();
        await producer.WaitForExitAsync(Deadline);
        AssertOk(await RunAsync("complete", "q", "--reason", "producer retired"), "completed 'q' (producer retired)");
        SegmentStatus status = RingSegment.Stat(PathOf("q"));
        Assert.Equal((true, "producer retired"), (status.IsCompleted, status.CompletionReason));
    }

    [Fact]
    public async Task TailExitOnProducerLoss_ProducerKilled_PrintsWhatArrivedAndExitsProducersLost()
    {
        AssertOk(await RunAsync("create", "q"));
        AssertOk(await RunAsync("send", "q", "--text", "before the crash"));
        ChildProcess producer = StartIdleSend("q");
        await WaitForLiveRoleAsync("q", producer, RingRole.Producer);
        ChildProcess tail = StartCli("tail", "q", "--exit-on-producer-loss");
        await WaitForOutputAsync(tail, "before the crash");

        Stopwatch sinceKill = Stopwatch.StartNew();
        producer.Kill();
        int exitCode = await tail.WaitForExitAsync(Deadline);
        output.WriteLine($"tail --exit-on-producer-loss exited {sinceKill.Elapsed.TotalMilliseconds:0} ms after the producer was killed");

        Assert.Equal(ExitCode.ProducersLost, exitCode);
        Assert.Equal(["before the crash"], Lines(tail.StandardOutput));
        Assert.Equal($"ring: every producer is gone: pid {producer.Id} died: 1 messages arrived.", tail.StandardError.Trim());
        // Without the option a tail waits for a new producer: here it runs into its timeout.
        AssertFails(await RunAsync("tail", "q", "--timeout", "500ms"), ExitCode.Timeout, "timed out after 500ms: 0 messages arrived");
    }

    [Fact]
    public async Task TailExitOnProducerLoss_ProducerDetachedBefore_ReadsWhatIsLeftAndExitsProducersLost()
    {
        AssertOk(await RunAsync("create", "m", "--kind", "mpmc", "--slots", "16"));
        AssertOk(await RunAsync("send", "m", "--text", "left behind"));

        CliRun tail = await RunAsync("tail", "m", "--exit-on-producer-loss", "--count", "2");

        Assert.True(tail.ExitCode == ExitCode.ProducersLost, $"expected exit {ExitCode.ProducersLost}.\n{tail.Description}");
        Assert.Equal(["left behind"], Lines(tail.Stdout));
        Assert.Equal(["ring: every producer is gone: the last one detached: 1 of 2 messages arrived."], Lines(tail.Stderr));
    }

    [Fact]
    public async Task CreateStatAndLs_BroadcastSegment_NameTheKindBroadcast()
    {
        AssertOk(await RunAsync("create", "feed", "--kind", "broadcast", "--capacity", "4KiB", "--overflow", "overwrite"),
            "created broadcast segment 'feed'", "largest message 504 B, overflow overwrite");
        using (RingSegment segment = RingSegment.Open(PathOf("feed")))
        using (RingWriter writer = segment.CreateWriter())
        {
            Assert.Equal(BroadcastOverflow.Overwrite, segment.Overflow);
            Assert.True(writer.TryWrite("tick"u8));
        }

        AssertOk(await RunAsync("stat", "feed"), "kind         broadcast", "in ring      1 messages");
        string[] listed = Lines((await RunAsync("ls")).Stdout);
        Assert.Equal(["feed", "broadcast"], Words(listed[1])[..2]);
        Assert.Equal("broadcast", ParseJson(await RunAsync("stat", "feed", "--json")).GetProperty("kind").GetString());
    }

    // ---- ls ----

    [Fact]
    public async Task Ls_ListsSegments_SkipsWhatIsNotOne()
    {
        AssertOk(await RunAsync("create", "alpha", "--capacity", "4KiB"));
        AssertOk(await RunAsync("create", "beta", "--kind", "mpmc", "--slots", "16"));
        AssertOk(await RunAsync("send", "alpha", "--text", "queued"));
        File.WriteAllText(Path.Combine(_dir.DirectoryPath, "junk.txt"), "not a segment");
        File.WriteAllBytes(Path.Combine(_dir.DirectoryPath, "empty"), []);
        Directory.CreateDirectory(Path.Combine(_dir.DirectoryPath, "subdir"));
        File.WriteAllBytes(Path.Combine(_dir.DirectoryPath, $".gamma.{Environment.ProcessId}.{Guid.NewGuid():N}.creating"), []);

        CliRun ls = await RunAsync("ls");
        AssertOk(ls, $"2 segments in {_dir.DirectoryPath}; 4 other entries skipped (--verbose lists them)");
        string[] lines = Lines(ls.Stdout);
        Assert.Equal(["NAME", "KIND", "CAPACITY", "USED", "MSGS", "STREAM", "LIVE/DEAD", "STALE", "MODE", "OWNER"], Words(lines[0]));
        Assert.Equal(["alpha", "spsc", "4", "KiB", "16", "B", "(0.4%)", "1", "open", "0/0", "no", "0600"], Words(lines[1])[..^1]);
        Assert.Equal(["beta", "mpmc", "4", "KiB", "0", "B", "(0%)", "0", "open", "0/0", "no", "0600"], Words(lines[2])[..^1]);

        AssertOk(await RunAsync("ls", "--verbose"), "junk.txt: '", "is not a usable Ring segment", "subdir: a directory", "staging file of a create");

        JsonElement json = ParseJson(await RunAsync("ls", "--json"));
        Assert.Equal([_dir.DirectoryPath], json.GetProperty("directories").EnumerateArray().Select(d => d.GetString()));
        JsonElement[] segments = json.GetProperty("segments").EnumerateArray().ToArray();
        Assert.Equal(["alpha", "beta"], segments.Select(s => s.GetProperty("name").GetString()));
        Assert.Equal(1, segments[0].GetProperty("messages_in_ring").GetInt64());
        Assert.Equal("mpmc", segments[1].GetProperty("kind").GetString());
        Assert.Equal(16, segments[1].GetProperty("slot_count").GetInt32());
        Assert.False(segments[0].GetProperty("stale").GetBoolean());
        Assert.Equal("0600", segments[0].GetProperty("mode").GetString());
        Assert.Equal(4, json.GetProperty("skipped").GetArrayLength());
    }

    [Fact]
    public async Task Ls_NoDirectoryYet_ListsNothing()
    {
        string missing = Path.Combine(_dir.DirectoryPath, "not-created");

        CliRun ls = await RunAsync(["ls"], missing);

        AssertOk(ls, $"0 segments in {missing}");
    }

    // ---- Errors ----

    [Fact]
    public async Task Errors_AreOneLine_WithTheDocumentedExitCodes()
    {
        AssertOk(await RunAsync("create", "corrupt"));
        SegmentFile.WriteInt32(PathOf("corrupt"), SegmentLayout.VersionOffset, 99);
        File.WriteAllText(PathOf("junk"), "hello");
        File.WriteAllBytes(PathOf("random"), Payload.Make(7, 64 * 1024));
        Directory.CreateDirectory(PathOf("dir"));

        (string[] Arguments, int ExitCode, string Message)[] cases =
        [
            (["stat", "../escape"], ExitCode.Usage, "'../escape' is not a valid segment name"),
            (["rm", ".hidden"], ExitCode.Usage, "'.hidden' is not a valid segment name"),
            (["frobnicate"], ExitCode.Usage, "unknown command 'frobnicate'"),
            (["send", "corrupt"], ExitCode.Usage, "give exactly one of --text, --file, --stdin"),
            (["stat", "missing"], ExitCode.NotFound, "no segment 'missing'"),
            (["rm", "missing"], ExitCode.NotFound, "no segment 'missing'"),
            (["tail", "missing", "--count", "1"], ExitCode.NotFound, "no segment 'missing'"),
            (["send", "missing", "--text", "x"], ExitCode.NotFound, "no segment 'missing'"),
            (["stat", "junk"], ExitCode.NotASegment, "is not a usable Ring segment: FileLength"),
            (["rm", "random"], ExitCode.NotASegment, "is not a usable Ring segment: Magic"),
            (["stat", "corrupt"], ExitCode.NotASegment, "is not a usable Ring segment: Version: layout version 99"),
            (["tail", "corrupt", "--count", "1"], ExitCode.NotASegment, "is not a usable Ring segment: Version"),
            (["tail", "dir", "--count", "1"], ExitCode.NotASegment, "is not a usable Ring segment: FileType: a directory"),
            (["send", "dir", "--text", "x"], ExitCode.NotASegment, "is not a usable Ring segment: FileType: a directory"),
            (["stat", "dir"], ExitCode.NotASegment, "is not a usable Ring segment: FileType: a directory"),
            (["rm", "dir"], ExitCode.NotASegment, "is not a usable Ring segment: FileType: a directory"),
            (["rm", "dir", "--force"], ExitCode.NotASegment, "is not a usable Ring segment: FileType: a directory"),
            (["stat", "junk", "--trust-owner", "no-such-user-here"], ExitCode.Usage, "--trust-owner: 'no-such-user-here' is neither a uid nor a user"),
        ];
        foreach ((string[] arguments, int exitCode, string message) in cases)
        {
            AssertFails(await RunAsync(arguments), exitCode, message);
        }
        Assert.True(File.Exists(PathOf("random")), "rm must leave a file that is not a segment alone");
        Assert.True(Directory.Exists(PathOf("dir")), "rm must leave a directory alone");

        CliRun verbose = await RunAsync("stat", "corrupt", "--verbose");
        Assert.Equal(ExitCode.NotASegment, verbose.ExitCode);
        Assert.Contains("Ring.SegmentFormatException", verbose.Stderr, StringComparison.Ordinal);
        Assert.Contains("   at ", verbose.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bogus", "ring: unknown command 'bogus' (see 'ring --help')")]
    [InlineData("bogus extra", "ring: unknown command 'bogus' (see 'ring --help')")]
    [InlineData("ls --bogus", "ring: unknown option '--bogus' (see 'ring ls --help')")]
    [InlineData("ls extra", "ring: unexpected argument 'extra' (see 'ring ls --help')")]
    public async Task UnknownWord_IsOneErrorOnOneLine_ExitsUsage(string arguments, string expected)
    {
        CliRun run = await RunAsync(arguments.Split(' '));

        Assert.True(run.ExitCode == ExitCode.Usage, $"expected exit {ExitCode.Usage}.\n{run.Description}");
        Assert.Equal([expected], Lines(run.Stderr));
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public async Task Help_OnEveryCommand_RootDocumentsExitCodes()
    {
        CliRun root = await RunAsync("--help");
        AssertOk(root, "Exit codes:", "Usage:\n  ring [command] [options]");
        foreach (int code in new[] { ExitCode.Ok, ExitCode.Error, ExitCode.Usage, ExitCode.NotFound, ExitCode.Refused, ExitCode.Timeout, ExitCode.NotASegment, ExitCode.ProducersLost, ExitCode.Completed, ExitCode.Interrupted })
        {
            Assert.Matches($"(?m)^    {code} +\\S", root.Stdout);
        }
        foreach (string command in new[] { "ls", "stat", "create", "rm", "gc", "tail", "send", "complete" })
        {
            CliRun help = await RunAsync(command, "--help");
            AssertOk(help, $"Usage:\n  ring {command}");
            // Every command that opens or removes a segment takes it; create makes its own.
            Assert.Equal(command != "create", help.Stdout.Contains("--trust-owner <USER|UID>", StringComparison.Ordinal));
        }
    }

    // ---- Units (in process) ----

    [Theory]
    [InlineData("4096", 4096)]
    [InlineData("64KiB", 65536)]
    [InlineData("1 MiB", 1 << 20)]
    [InlineData("2gib", 2L << 30)]
    [InlineData("1TiB", 1L << 40)]
    [InlineData("256B", 256)]
    public void ParseSize_AcceptsBinaryUnits(string text, long expected)
    {
        Assert.True(Units.TryParseSize(text, out long bytes, out string? error), error);
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("1KB", "unknown unit 'KB'")]
    [InlineData("-1", "is not a size")]
    [InlineData("1.5MiB", "is not a size")]
    [InlineData("99999999999TiB", "too large")]
    [InlineData("", "is not a size")]
    public void ParseSize_RejectsOthers(string text, string message)
    {
        Assert.False(Units.TryParseSize(text, out _, out string? error));
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("5s", 5000)]
    [InlineData("1.5s", 1500)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("3", 3000)]
    public void ParseDuration_AcceptsUnits(string text, int milliseconds)
    {
        Assert.True(Units.TryParseDuration(text, out TimeSpan duration, out string? error), error);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("5x")]
    [InlineData("s")]
    [InlineData("-1s")]
    [InlineData("100000h")]
    public void ParseDuration_RejectsOthers(string text) => Assert.False(Units.TryParseDuration(text, out _, out _));

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1000, "1000 B")]
    [InlineData(1024, "1 KiB")]
    [InlineData(1536, "1.5 KiB")]
    [InlineData(1 << 20, "1 MiB")]
    [InlineData(3L << 40, "3 TiB")]
    public void FormatSize_ExactOrOneDecimal(long bytes, string expected) => Assert.Equal(expected, Units.FormatSize(bytes));

    [Theory]
    [InlineData("600", 0x180)]
    [InlineData("0640", 0x1A0)]
    [InlineData("0777", 0x1FF)]
    public void ParseMode_Octal(string text, int mode)
    {
        Assert.True(Units.TryParseMode(text, out UnixFileMode parsed, out _));
        Assert.Equal((UnixFileMode)mode, parsed);
        Assert.Equal(text.PadLeft(4, '0'), Units.FormatMode(parsed));
    }

    [Theory]
    [InlineData("0800")]
    [InlineData("rw")]
    [InlineData("17777")]
    public void ParseMode_RejectsOthers(string text) => Assert.False(Units.TryParseMode(text, out _, out _));

    // ---- Helpers ----

    private sealed record CliRun(int ExitCode, string Stdout, string Stderr, string Description);

    private string PathOf(string name) => Path.Combine(_dir.DirectoryPath, name);

    private ChildProcess StartCli(params string[] arguments) => StartCli(arguments, _dir.DirectoryPath);

    /// <summary>
    /// <c>ring send NAME --stdin</c> with a standard input that stays open and empty: a producer that holds its role and
    /// waits for input until it is killed.
    /// </summary>
    private ChildProcess StartIdleSend(string name) => StartCli(["send", name, "--stdin"], _dir.DirectoryPath, keepStdinOpen: true);

    /// <param name="runAs">A command prefix that runs it as another user (<see cref="ThrowawayUser.RunAs()"/>).</param>
    /// <param name="keepStdinOpen">Give the child a standard input that stays open (and empty) while this process runs.</param>
    private ChildProcess StartCli(string[] arguments, string ringDir, IReadOnlyList<string>? runAs = null, bool keepStdinOpen = false)
    {
        string cli = runAs is null ? CliAssembly : Path.Combine(stranger.ReachableCopy(AppContext.BaseDirectory), Path.GetFileName(CliAssembly));
        string[] command = [.. runAs ?? [], ChildProcess.DotnetHost, cli, .. arguments];
        ChildProcess child = ChildProcess.Start(command[0], command[1..], new ChildOptions { Environment = RingDir(ringDir), Lifeline = keepStdinOpen });
        _children.Add(child);
        return child;
    }

    private Task<CliRun> RunAsync(params string[] arguments) => RunAsync(arguments, _dir.DirectoryPath);

    private async Task<CliRun> RunAsync(string[] arguments, string ringDir, IReadOnlyList<string>? runAs = null) =>
        await CollectAsync(StartCli(arguments, ringDir, runAs));

    /// <summary>Runs a shell command line in which {ring} stands for the tool, for pipes into --stdin.</summary>
    private async Task<CliRun> RunShellAsync(string commandLine)
    {
        string ring = $"'{ChildProcess.DotnetHost}' '{CliAssembly}'";
        ChildProcess child = ChildProcess.Start("/bin/sh", ["-c", commandLine.Replace("{ring}", ring, StringComparison.Ordinal)], new ChildOptions { Environment = RingDir(_dir.DirectoryPath) });
        _children.Add(child);
        return await CollectAsync(child);
    }

    private async Task<CliRun> CollectAsync(ChildProcess child)
    {
        int exitCode = await child.WaitForExitAsync(Deadline);
        output.WriteLine(child.Describe());
        return new CliRun(exitCode, child.StandardOutput, child.StandardError, child.Describe());
    }

    /// <summary>A staging file as a create names it, last written two hours ago.</summary>
    private string Staging(string name, int creatorPid, byte[] contents)
    {
        string path = PathOf($".{name}.{creatorPid}.{Guid.NewGuid():N}.creating");
        File.WriteAllBytes(path, contents);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddHours(-2));
        return path;
    }

    /// <summary>The pid of a process that has exited.</summary>
    private static async Task<int> DeadPidAsync()
    {
        using ChildProcess child = ChildProcess.Start("/bin/true", []);
        await child.WaitForExitAsync(Deadline);
        return child.Id;
    }

    private static Dictionary<string, string?> RingDir(string ringDir) => new() { ["RING_DIR"] = ringDir };

    private static void AssertOk(CliRun run, params string[] expectedInStdout)
    {
        Assert.True(run.ExitCode == ExitCode.Ok, $"expected exit 0.\n{run.Description}");
        Assert.Equal("", run.Stderr);
        foreach (string expected in expectedInStdout) Assert.Contains(expected, run.Stdout, StringComparison.Ordinal);
    }

    /// <summary>The documented exit code, and exactly one line on stderr: "ring: ..." with no stack trace.</summary>
    private static void AssertFails(CliRun run, int exitCode, params string[] expectedInMessage)
    {
        Assert.True(run.ExitCode == exitCode, $"expected exit {exitCode}.\n{run.Description}");
        string[] lines = Lines(run.Stderr);
        Assert.True(lines.Length == 1 && lines[0].StartsWith("ring: ", StringComparison.Ordinal), $"expected one 'ring: ' line on stderr.\n{run.Description}");
        foreach (string expected in expectedInMessage) Assert.Contains(expected, lines[0], StringComparison.Ordinal);
    }

    private static JsonElement ParseJson(CliRun run)
    {
        AssertOk(run);
        using JsonDocument document = JsonDocument.Parse(run.Stdout);
        return document.RootElement.Clone();
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static string[] Words(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Until the child holds the consumer role, i.e. its tail has attached and is reading.</summary>
    private Task WaitForLiveConsumerAsync(string name, ChildProcess child) => WaitForLiveRoleAsync(name, child, RingRole.Consumer);

    /// <summary>Until the child holds <paramref name="role"/> on the segment (a tail reading, a send writing or waiting for its input).</summary>
    private async Task WaitForLiveRoleAsync(string name, ChildProcess child, RingRole role)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (waited.Elapsed < Deadline)
        {
            Assert.False(child.HasExited, $"the child exited before attaching.\n{child.Describe()}");
            if (RingSegment.Stat(PathOf(name)).Participants.Any(p => p.IsAlive && p.Pid == child.Id && p.Roles == role)) return;
            await Task.Delay(50);
        }
        Assert.Fail($"the child did not attach as {role} of '{name}' within {Deadline.TotalSeconds} s.\n{child.Describe()}");
    }

    private static async Task WaitForOutputAsync(ChildProcess child, string expected)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (!child.StandardOutput.Contains(expected, StringComparison.Ordinal))
        {
            Assert.False(child.HasExited, $"the child exited before printing '{expected}'.\n{child.Describe()}");
            Assert.True(waited.Elapsed < Deadline, $"the child did not print '{expected}' within {Deadline.TotalSeconds} s.\n{child.Describe()}");
            await Task.Delay(50);
        }
    }

    /// <summary>User plus system CPU time of a process in clock ticks (fields 14 and 15 of /proc/PID/stat).</summary>
    private static long CpuTicks(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // fields from the 3rd on; the name may hold spaces
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }
}
