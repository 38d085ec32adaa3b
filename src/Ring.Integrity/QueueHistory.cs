using System.Globalization;

namespace Ring.Integrity;

public enum QueueOpKind
{
    Enqueue,
    Dequeue,
}

/// <summary>
/// One completed operation on a FIFO queue, as a thread saw it.
/// <para><paramref name="Value"/>: the message id. Convention: id = ((long)producerIndex &lt;&lt; 32) | sequenceWithinProducer
/// (the sequence starts at 0).</para>
/// <para><paramref name="Succeeded"/> = false: a try-enqueue that found the ring full, or a try-dequeue (or a timed-out
/// blocking dequeue) that found it empty; <paramref name="Value"/> is then ignored.</para>
/// <para><paramref name="Invoke"/>/<paramref name="Response"/>: timestamps on one monotonic clock (scheduler step numbers
/// or Stopwatch ticks), Invoke ≤ Response. Operation A precedes operation B in real time iff A.Response &lt; B.Invoke.</para>
/// </summary>
public readonly record struct QueueOperation(int Thread, QueueOpKind Kind, long Value, bool Succeeded, long Invoke, long Response)
{
    /// <summary>
    /// <c>t1 enq 0x1:3 [12..15]</c>, <c>t2 deq -> 0x0:2 [14..20]</c>, <c>t3 deq -> empty [16..18]</c>,
    /// <c>t1 enq -> full [19..21]</c>.
    /// </summary>
    public override string ToString()
    {
        string what = (Kind, Succeeded) switch
        {
            (QueueOpKind.Enqueue, true) => $"enq {QueueHistory.FormatValue(Value)}",
            (QueueOpKind.Enqueue, false) => "enq -> full",
            (QueueOpKind.Dequeue, true) => $"deq -> {QueueHistory.FormatValue(Value)}",
            _ => "deq -> empty",
        };
        return string.Create(CultureInfo.InvariantCulture, $"t{Thread} {what} [{Invoke}..{Response}]");
    }
}

/// <summary>
/// The sequential model a history is checked against: a FIFO queue.
/// <para><paramref name="CheckEmpty"/>: a failed dequeue must take effect while the queue is empty. Off for a Vyukov MPMC
/// queue, which by design may report empty while a slow producer holds an earlier position; a failed dequeue is then a
/// no-op that may take effect anywhere.</para>
/// <para><paramref name="Capacity"/>: when set, a successful enqueue must find fewer than Capacity values queued.</para>
/// <para><paramref name="CheckFull"/>: with <paramref name="Capacity"/> set, a failed enqueue must take effect while the
/// queue holds exactly Capacity values; otherwise it is a no-op.</para>
/// </summary>
public sealed record QueueModelOptions(bool CheckEmpty, int? Capacity = null, bool CheckFull = false);

/// <summary>Helpers shared by the linearizability checker and the audit.</summary>
public static class QueueHistory
{
    /// <summary>The producer index of a message id (its high 32 bits).</summary>
    public static long Producer(long value) => value >> 32;

    /// <summary>The sequence within its producer of a message id (its low 32 bits).</summary>
    public static uint Sequence(long value) => (uint)value;

    /// <summary><c>0x{producer}:{sequence}</c>, e.g. <c>0x1:3</c>.</summary>
    public static string FormatValue(long value) =>
        string.Create(CultureInfo.InvariantCulture, $"0x{Producer(value):x}:{Sequence(value)}");

    /// <summary><c>#{index} {operation}</c>: the index lets a reader find the operation in the history.</summary>
    public static string Describe(IReadOnlyList<QueueOperation> history, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"#{index} {history[index]}");

    internal static void ThrowIfMalformed(IReadOnlyList<QueueOperation> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        for (int i = 0; i < history.Count; i++)
        {
            if (history[i].Response < history[i].Invoke)
            {
                throw new ArgumentException($"{Describe(history, i)} responds before it is invoked.", nameof(history));
            }
        }
    }
}
