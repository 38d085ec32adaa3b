using FsCheck.Xunit;
using Ring.Integrity;
using static Ring.Tests.Integrity.QueueOps;

namespace Ring.Tests.Integrity;

public sealed class QueueHistoryAuditTests
{
    [Fact]
    public void Check_CleanDrainedHistory_HasNoViolations()
    {
        QueueOperation[] history =
        [
            Enq(0, Id(0, 0), 0, 1), Enq(1, Id(1, 0), 0, 2), Enq(0, Id(0, 1), 3, 4),
            Deq(2, Id(1, 0), 3, 5), DeqEmpty(3, 4, 5), Deq(3, Id(0, 0), 6, 7), Deq(2, Id(0, 1), 6, 8),
        ];

        AuditResult result = QueueHistoryAudit.Check(history, drained: true);

        Assert.True(result.Ok, string.Join("; ", result.Violations));
        Assert.Empty(result.Violations);
    }

    [Property(Arbitrary = [typeof(HistoryScenarioArbitrary)])]
    public void Check_HistoryOfARealQueue_HasNoViolations(HistoryScenario scenario)
    {
        AuditResult result = QueueHistoryAudit.Check(scenario.Build(), drained: false);

        Assert.Empty(result.Violations);
    }

    [Fact]
    public void Check_DequeueOfNeverEnqueuedValue_ReportsInvented()
    {
        QueueOperation[] history = [Enq(0, Id(0, 0), 0, 1), Deq(1, Id(0, 0), 2, 3), Deq(1, Id(5, 9), 4, 5)];

        AuditResult result = QueueHistoryAudit.Check(history, drained: true);

        Assert.Equal(new[] { "invented: #2 t1 deq -> 0x5:9 [4..5]: no enqueue of 0x5:9 succeeded" }, result.Violations);
    }

    [Fact]
    public void Check_ValueDequeuedTwice_ReportsDuplicated()
    {
        QueueOperation[] history = [Enq(0, Id(0, 0), 0, 1), Deq(1, Id(0, 0), 2, 3), Deq(2, Id(0, 0), 2, 4)];

        AuditResult result = QueueHistoryAudit.Check(history, drained: true);

        Assert.Equal(new[] { "duplicated: #2 t2 deq -> 0x0:0 [2..4] dequeues 0x0:0 again (first #1 t1 deq -> 0x0:0 [2..3])" }, result.Violations);
    }

    [Fact]
    public void Check_ValueEnqueuedTwice_ReportsDuplicated()
    {
        QueueOperation[] history = [Enq(0, Id(0, 0), 0, 1), Enq(1, Id(0, 0), 0, 2), Deq(2, Id(0, 0), 3, 4)];

        AuditResult result = QueueHistoryAudit.Check(history, drained: false);

        Assert.Equal(new[] { "duplicated: #1 t1 enq 0x0:0 [0..2] enqueues 0x0:0 again (first #0 t0 enq 0x0:0 [0..1])" }, result.Violations);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Check_ValueNeverDequeued_ReportsLostOnlyWhenDrained(bool drained)
    {
        QueueOperation[] history = [Enq(0, Id(0, 0), 0, 1), Enq(0, Id(0, 1), 2, 3), Deq(1, Id(0, 0), 4, 5)];

        AuditResult result = QueueHistoryAudit.Check(history, drained);

        string[] expected = drained ? ["lost: #1 t0 enq 0x0:1 [2..3] was never dequeued"] : [];
        Assert.Equal(expected, result.Violations);
    }

    [Fact]
    public void Check_LaterValueDequeuedWhileEarlierNeverIs_ReportsOnlyLost()
    {
        QueueOperation[] history = [Enq(0, Id(0, 0), 0, 1), Enq(0, Id(0, 1), 2, 3), Deq(1, Id(0, 1), 4, 5)];

        AuditResult result = QueueHistoryAudit.Check(history, drained: true);

        Assert.Equal(new[] { "lost: #0 t0 enq 0x0:0 [0..1] was never dequeued" }, result.Violations);
    }

    [Fact]
    public void Check_DequeueReturningBeforeItsEnqueueBegan_ReportsCausality()
    {
        QueueOperation[] history = [Deq(1, Id(0, 0), 0, 1), Enq(0, Id(0, 0), 2, 3)];

        AuditResult result = QueueHistoryAudit.Check(history, drained: true);

        Assert.Equal(new[] { "causality: #0 t1 deq -> 0x0:0 [0..1] returned before #1 t0 enq 0x0:0 [2..3] began" }, result.Violations);
    }

    [Fact]
    public void Check_LaterSequenceTakenBeforeEarlierDequeueBegan_ReportsFifo()
    {
        QueueOperation[] history =
        [
            Enq(0, Id(0, 0), 0, 1), Enq(0, Id(0, 1), 2, 3), Enq(0, Id(0, 2), 4, 5),
            Deq(1, Id(0, 1), 6, 7), Deq(1, Id(0, 0), 8, 9), Deq(1, Id(0, 2), 10, 11),
        ];

        AuditResult result = QueueHistoryAudit.Check(history, drained: true);

        Assert.Equal(new[] { "fifo: #3 t1 deq -> 0x0:1 [6..7] returned before #4 t1 deq -> 0x0:0 [8..9] began, though 0x0:0 was enqueued first" }, result.Violations);
    }

    [Fact]
    public void Check_OverlappingDequeuesOfOneProducerInEitherOrder_AreNotFifoViolations()
    {
        QueueOperation[] history = [Enq(0, Id(0, 0), 0, 1), Enq(0, Id(0, 1), 2, 3), Deq(1, Id(0, 1), 4, 6), Deq(2, Id(0, 0), 6, 7)];

        AuditResult result = QueueHistoryAudit.Check(history, drained: true);

        Assert.Empty(result.Violations);
    }

    [Fact]
    public void Check_ValuesOfDifferentProducersDequeuedOutOfEnqueueOrder_AreNotFifoViolations()
    {
        // Only a per-producer order is checked: across producers the audit cannot tell a reorder from a race.
        QueueOperation[] history = [Enq(0, Id(0, 0), 0, 1), Enq(1, Id(1, 0), 2, 3), Deq(2, Id(1, 0), 4, 5), Deq(2, Id(0, 0), 6, 7)];

        AuditResult result = QueueHistoryAudit.Check(history, drained: true);

        Assert.Empty(result.Violations);
    }

    [Fact]
    public void Check_OverlappingEnqueuesOfOneProducer_Throws()
    {
        QueueOperation[] history = [Enq(0, Id(0, 0), 0, 2), Enq(1, Id(0, 1), 2, 3)];

        ArgumentException error = Assert.Throws<ArgumentException>(() => QueueHistoryAudit.Check(history, drained: false));

        Assert.Contains("#0 t0 enq 0x0:0 [0..2] does not return before #1 t1 enq 0x0:1 [2..3]", error.Message);
    }

    [Fact]
    public void Check_EnqueuesOfOneProducerSharingOneInterval_AreABatchAndKeepTheirFifoCheck()
    {
        // Published by one store: both take effect within [0..2]; read in the wrong order they still break FIFO.
        QueueOperation[] history = [Enq(0, Id(0, 0), 0, 2), Enq(0, Id(0, 1), 0, 2), Deq(1, Id(0, 1), 3, 4), Deq(1, Id(0, 0), 5, 6)];

        AuditResult result = QueueHistoryAudit.Check(history, drained: true);

        Assert.Single(result.Violations);
        Assert.StartsWith("fifo:", result.Violations[0]);
    }

    [Fact]
    public void Check_ManyViolationsOfOneKind_ShowsSomeAndCountsAll()
    {
        QueueOperation[] history = [.. Enumerable.Range(0, 50).Select(i => Enq(0, Id(0, i), 2 * i, 2 * i + 1))];

        AuditResult result = QueueHistoryAudit.Check(history, drained: true);

        Assert.Equal(50L, result.ViolationCount);
        Assert.Equal(QueueHistoryAudit.ShownPerKind + 1, result.Violations.Count);
        Assert.Equal("lost: 30 more not shown", result.Violations[^1]);
    }
}
