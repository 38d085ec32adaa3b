namespace Ring.Platform.Linux;

/// <summary>
/// membarrier(2), the expedited global form: a barrier that every running thread of every registered process executes
/// before the call returns. It is what lets Ring's publishers drop the full fence from each publish (see
/// <see cref="PublishOrdering"/>).
/// </summary>
internal static class Membarrier
{
    /// <summary>
    /// Registers this process for <see cref="TryGlobalExpedited"/> barriers sent by any process, after checking that the
    /// kernel has both commands. Returns null on success, else why not: the kernel predates them (Linux 4.16), or a
    /// seccomp filter refuses the call.
    /// </summary>
    public static string? TryRegister()
    {
        long supported = LibC.SyscallMembarrier(LibC.SYS_membarrier, LibC.MEMBARRIER_CMD_QUERY, 0, 0);
        if (supported < 0) return $"membarrier(MEMBARRIER_CMD_QUERY) failed: {Errno.Describe(Errno.Last)}";
        const long needed = LibC.MEMBARRIER_CMD_GLOBAL_EXPEDITED | LibC.MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;
        if ((supported & needed) != needed) return $"the kernel's membarrier lacks the expedited global commands (supported mask 0x{supported:x})";
        if (LibC.SyscallMembarrier(LibC.SYS_membarrier, LibC.MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) != 0)
            return $"membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) failed: {Errno.Describe(Errno.Last)}";
        return null;
    }

    /// <summary>Runs the barrier on every CPU that runs a thread of a registered process; false if the kernel refused.</summary>
    public static bool TryGlobalExpedited() =>
        LibC.SyscallMembarrier(LibC.SYS_membarrier, LibC.MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) == 0;
}
