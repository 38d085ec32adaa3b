using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Ring;

/// <summary>
/// The end of the stream, as the segment records it: a ring-wide, sticky, cross-process fact.
/// <para>
/// Completion is bit 62 of <c>Tail</c> (<see cref="SegmentLayout.TailCompletedFlag"/>), and the tail without it is
/// the final position. A reader that sees the flag has, in the same load, the position of the last message
/// committed before the completion, so it cannot report completion while such a message is unread: it reports it
/// only once its head has reached that position. SPSC: the producer publishes the flag with one fenced store of
/// its own tail, after every record below it (release, as for any publish). MPMC: a completer sets the flag with
/// a compare-exchange on the tail; a producer's claim is a compare-exchange from an unflagged tail, so every claim
/// either precedes the completion (its message is committed, or recovered as a skip if its producer dies, and
/// readers wait for it) or fails and finds the flag: further writes throw <see cref="RingCompletedException"/>.
/// </para>
/// <para>
/// Who completed and why sits in its own block, written before the flag by the first completer to move the state
/// from none to recording (compare-exchange), published by its release store of "recorded". A completer that
/// dies between the two leaves "recording": the reason is then reported as lost, and another completer (or the
/// same ring reopened) still sets the flag. Completion wakes every sleeper on both eventcounts.
/// </para>
/// </summary>
internal static class RingCompletion
{
    public const long TailFlag = SegmentLayout.TailCompletedFlag;

    /// <summary>
    /// Whether a tail read from the segment carries the completion. A negative tail (bit 63) is no position at all:
    /// it stays the corruption the position checks report, whatever bit 62 holds.
    /// </summary>
    public static bool IsFinal(long tail) => (tail & (TailFlag | long.MinValue)) == TailFlag;

    /// <summary>The longest reason, in bytes of UTF-8.</summary>
    public const int MaxReasonBytes = SegmentLayout.CompletionReasonCapacity;

    public static void ValidateReason(string? reason)
    {
        if (reason is not null && Encoding.UTF8.GetByteCount(reason) > MaxReasonBytes)
            throw new ArgumentException($"A completion reason is at most {MaxReasonBytes} bytes of UTF-8; this one has {Encoding.UTF8.GetByteCount(reason)}.", nameof(reason));
    }

    /// <summary>
    /// <paramref name="reason"/>, or as much of it as the ring records: cut after the last whole character that fits in
    /// <see cref="MaxReasonBytes"/> bytes of UTF-8, for a reason Ring did not write (an exception's message).
    /// </summary>
    public static string FitReason(string reason)
    {
        Span<byte> bytes = stackalloc byte[MaxReasonBytes];
        return Utf8.FromUtf16(reason, bytes, out int fits, out _) == OperationStatus.Done ? reason : reason[..fits];
    }

    /// <summary>Records who completed and why, unless a completer got there first. Call before setting the flag.</summary>
    public static void RecordReason<TMemory>(TMemory memory, string? reason) where TMemory : struct, ISharedMemory
    {
        if (memory.CompareExchangeInt32(SegmentLayout.CompletionStateOffset, SegmentLayout.CompletionStateRecording, SegmentLayout.CompletionStateNone)
            != SegmentLayout.CompletionStateNone) return; // another completer records; first one wins
        Span<byte> bytes = stackalloc byte[MaxReasonBytes];
        int length = reason is null ? 0 : Encoding.UTF8.GetBytes(reason, bytes);
        memory.CopyIn(SegmentLayout.CompletionReasonOffset, bytes[..length]);
        memory.WriteInt32(SegmentLayout.CompletionReasonLengthOffset, length);
        memory.WriteInt32(SegmentLayout.CompleterPidOffset, Environment.ProcessId);
        memory.WriteInt64(SegmentLayout.CompletedNsOffset, UnixTime.NowNs());
        memory.WriteInt32Release(SegmentLayout.CompletionStateOffset, SegmentLayout.CompletionStateRecorded); // pairs with ReadReason's acquire: the fields above come first
    }

    /// <summary>The recorded reason: null when none was given (or nothing is recorded yet), a note when its completer died recording it.</summary>
    public static string? ReadReason<TMemory>(TMemory memory) where TMemory : struct, ISharedMemory
    {
        int state = memory.ReadInt32Acquire(SegmentLayout.CompletionStateOffset); // pairs with RecordReason's release
        if (state == SegmentLayout.CompletionStateRecording) return "(the completing process stopped before recording its reason)";
        if (state != SegmentLayout.CompletionStateRecorded) return null;
        int length = memory.ReadInt32(SegmentLayout.CompletionReasonLengthOffset);
        if (length == 0) return null;
        if ((uint)length > MaxReasonBytes) return $"(a recorded reason of {length} bytes, more than the {MaxReasonBytes} a reason may have)";
        Span<byte> bytes = stackalloc byte[length];
        memory.CopyOut(SegmentLayout.CompletionReasonOffset, bytes);
        return Encoding.UTF8.GetString(bytes); // malformed bytes from another process become U+FFFD, never an exception
    }

    /// <summary>
    /// Completes a ring whose single producer owns the tail (SPSC, broadcast): records the reason, then sets the flag on
    /// <paramref name="tail"/>, so one store publishes every record below it and the completion, and wakes everyone.
    /// </summary>
    public static void CompleteAtTail<TMemory>(TMemory memory, long tail, string? reason) where TMemory : struct, ISharedMemory
    {
        RecordReason(memory, reason);
        memory.WriteInt64Fenced(SegmentLayout.TailOffset, tail | TailFlag); // release pairs with the readers' acquire of tail
        WakeEveryone(memory);
    }

    /// <summary>Wakes every sleeper of both directions so each re-checks and sees the completion.</summary>
    public static void WakeEveryone<TMemory>(TMemory memory) where TMemory : struct, ISharedMemory
    {
        new EventCount<TMemory>(memory, SegmentLayout.ReadersEventOffset).WakeAll();
        new EventCount<TMemory>(memory, SegmentLayout.WritersEventOffset).WakeAll();
    }

    public static RingCompletedException Completed(string segment, string? reason) =>
        new(reason, reason is null ? $"the ring in segment '{segment}' is completed" : $"the ring in segment '{segment}' is completed: {reason}");
}
