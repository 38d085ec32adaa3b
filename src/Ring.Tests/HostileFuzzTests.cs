using Ring.Stress.Fuzz;
using Xunit.Abstractions;

namespace Ring.Tests;

/// <summary>
/// Hostile segment data against every read and write entry point (the <c>fuzz</c> command of Ring.Stress, with
/// fewer cases): each case must end by its deadline + 1 s with data, false or a typed error, and every span
/// handed out must lie inside the mapping. Seeded: a failure names the case seed that replays it.
/// </summary>
public sealed class HostileFuzzTests(ITestOutputHelper output) : IDisposable
{
    private const int Cases = 2_000;
    private const ulong Seed = 11;

    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(RingKind.Spsc)]
    [InlineData(RingKind.Mpmc)]
    public void Fuzz_CorruptedLiveSegments_EveryCallEndsInTimeWithDataFalseOrATypedError(RingKind kind)
    {
        StringWriter log = new();

        FuzzReport report = HostileFuzz.Run(new HostileFuzz.Settings([kind], Cases, Seed, _dir.DirectoryPath), log);

        output.WriteLine(log.ToString());
        Assert.True(report.Ok, string.Join(Environment.NewLine, report.Failures.Select(f => f.Report())));
        FuzzKindReport outcomes = Assert.Single(report.Kinds);
        Assert.Equal(Cases, outcomes.Cases);
        // The corruption reaches every outcome, not only the first check on the way.
        Assert.True(outcomes.Delivered > 0 && outcomes.False > 0 && outcomes.ArgumentErrors > 0, outcomes.Summary());
        Assert.True(outcomes.CorruptedByRule.Count >= (kind == RingKind.Spsc ? 8 : 4), outcomes.Summary());
    }

    [Fact]
    public void Run_SameCaseSeed_ReplaysTheSameCase()
    {
        ulong seed = HostileFuzz.CaseSeed(Seed, RingKind.Mpmc, 7);
        string[] descriptions = new string[2];

        for (int run = 0; run < 2; run++)
        {
            CaseResult result = HostileCase.Run(RingKind.Mpmc, seed, _dir.DirectoryPath, _ => { });
            Assert.Null(result.Failure);
            descriptions[run] = result.Case.Description;
        }

        Assert.Equal(descriptions[0], descriptions[1]);
        Assert.NotEqual(descriptions[0], HostileCase.Run(RingKind.Mpmc, seed + 1, _dir.DirectoryPath, _ => { }).Case.Description);
    }
}
