namespace Ring.Platform.Linux;

/// <summary>
/// membarrier(2), the expedited global form: a barrier that every running thread of every registered process executes
/// before the call returns. It is what lets Ring's publishers drop the full fence from each publish (see
/// <see cref="PublishOrdering"/>).
/// <para>
/// The kernel sends the barrier only to CPUs whose runqueue holds a copy of a registered process's state, and refreshes
/// that copy when a CPU switches to the process's memory map and, at registration, on the CPUs running one of its threads
/// then. A CPU that ran the process before it registered and has idled since keeps the map lazily, so when the process's
/// threads come back no switch happens and the copy stays stale: the barrier skips that CPU while a publisher runs on it.
/// Measured on this machine's 6.18 kernel with <c>eng/membarrier/stale-cpu.c</c> (a thread pinned to CPU 1, then asleep,
/// then spinning there after the registration): 0 of 10,000 barriers reached CPU 1; registered while that thread spun
/// there, 10,000 of 10,000.
/// Ring's free-thread blocking interleavings lost a wake-up about once in 270,000 runs until registration was done as
/// below (and still lose one about every 700,000 after it: <see cref="PublishOrdering"/>). So <see cref="TryRegister"/> registers while a thread of this process spins on every CPU it may use, then checks,
/// by the CPUs' function-call interrupt counts, that a barrier reaches each of them; otherwise the process publishes
/// fenced.
/// </para>
/// </summary>
internal static unsafe class Membarrier
{
    private const int CheckBarriers = 64;
    private static readonly TimeSpan OccupyLimit = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Registers this process for <see cref="TryGlobalExpedited"/> barriers sent by any process and checks that they
    /// reach every CPU. Returns null on success, else why not: the kernel predates the commands (Linux 4.16), a seccomp
    /// filter refuses them, or a barrier did not reach a CPU.
    /// </summary>
    public static string? TryRegister()
    {
        long supported = LibC.SyscallMembarrier(LibC.SYS_membarrier, LibC.MEMBARRIER_CMD_QUERY, 0, 0);
        if (supported < 0) return $"membarrier(MEMBARRIER_CMD_QUERY) failed: {Errno.Describe(Errno.Last)}";
        const long needed = LibC.MEMBARRIER_CMD_GLOBAL_EXPEDITED | LibC.MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;
        if ((supported & needed) != needed) return $"the kernel's membarrier lacks the expedited global commands (supported mask 0x{supported:x})";
        int[]? cpus = OnlineCpus();
        if (cpus is null) return "cannot read the online CPUs from /sys/devices/system/cpu/online";
        using CpuOccupation occupation = CpuOccupation.Start(cpus);
        if (!occupation.WaitUntilEveryCpuRuns(OccupyLimit)) return $"could not run a thread on every CPU within {OccupyLimit.TotalSeconds:0} s to register";
        return occupation.RunOnFirst(RegisterAndCheck) ?? occupation.RunOnSecond(CheckFromHere);

        string? RegisterAndCheck(IReadOnlyList<int> occupied, int here)
        {
            if (LibC.SyscallMembarrier(LibC.SYS_membarrier, LibC.MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) != 0)
                return $"membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) failed: {Errno.Describe(Errno.Last)}";
            return CheckFromHere(occupied, here);
        }
    }

    /// <summary>Runs the barrier on every CPU that runs a thread of a registered process; false if the kernel refused.</summary>
    public static bool TryGlobalExpedited() =>
        LibC.SyscallMembarrier(LibC.SYS_membarrier, LibC.MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) == 0;

    /// <summary>
    /// From a thread pinned to <paramref name="here"/>, sends barriers and checks that every other occupied CPU took at
    /// least one function-call interrupt meanwhile (the kernel never interrupts the caller's own CPU).
    /// </summary>
    private static string? CheckFromHere(IReadOnlyList<int> occupied, int here)
    {
        Dictionary<int, long>? before = FunctionCallInterrupts();
        if (before is null) return "cannot read the function-call interrupt counts from /proc/interrupts to check the barrier";
        for (int i = 0; i < CheckBarriers; i++)
        {
            if (!TryGlobalExpedited()) return $"membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) failed: {Errno.Describe(Errno.Last)}";
        }
        Dictionary<int, long>? after = FunctionCallInterrupts();
        if (after is null) return "cannot read the function-call interrupt counts from /proc/interrupts to check the barrier";
        foreach (int cpu in occupied)
        {
            if (cpu == here) continue;
            long taken = after.GetValueOrDefault(cpu) - before.GetValueOrDefault(cpu);
            // A stale CPU takes none; one whose spinner was pre-empted for part of the check takes fewer, and is not stale.
            if (taken == 0) return $"membarrier did not reach CPU {cpu} in {CheckBarriers} barriers (stale per-CPU state)";
        }
        return null;
    }

    /// <summary>CPU ids from <c>/sys/devices/system/cpu/online</c> ("0-3,6"); null if it cannot be read.</summary>
    private static int[]? OnlineCpus()
    {
        string text;
        try
        {
            text = File.ReadAllText("/sys/devices/system/cpu/online").Trim();
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        List<int> cpus = [];
        foreach (string range in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] ends = range.Split('-');
            if (!int.TryParse(ends[0], out int first) || !int.TryParse(ends[^1], out int last) || first < 0 || last < first || last >= CpuOccupation.MaxCpus) return null;
            for (int cpu = first; cpu <= last; cpu++) cpus.Add(cpu);
        }
        return cpus.Count == 0 ? null : [.. cpus];
    }

    /// <summary>Each CPU's count on the "Function call interrupts" line of /proc/interrupts (CAL on x86, IPI1 on arm64).</summary>
    private static Dictionary<int, long>? FunctionCallInterrupts()
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines("/proc/interrupts");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        if (lines.Length == 0) return null;
        string[] header = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string? line = Array.Find(lines, l => l.Contains("Function call interrupts", StringComparison.Ordinal));
        if (line is null) return null;
        string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Dictionary<int, long> counts = [];
        for (int column = 0; column < header.Length && column + 1 < fields.Length; column++)
        {
            if (!header[column].StartsWith("CPU", StringComparison.Ordinal) || !int.TryParse(header[column].AsSpan(3), out int cpu)) return null;
            if (!long.TryParse(fields[column + 1], out long count)) return null;
            counts[cpu] = count;
        }
        return counts;
    }

    /// <summary>One spinning thread pinned to each CPU the process may use, for the few milliseconds registration takes.</summary>
    private sealed class CpuOccupation : IDisposable
    {
        public const int MaxCpus = 1024;

        private readonly Thread[] _threads;
        private readonly int[] _cpus;
        private readonly bool[] _pinned;
        private int _started;
        private volatile bool _stop;
        private volatile int _workFor = -1;
        private Func<IReadOnlyList<int>, int, string?>? _work;
        private string? _result;
        private volatile bool _workDone;

        private CpuOccupation(int[] cpus)
        {
            _cpus = cpus;
            _pinned = new bool[cpus.Length];
            _threads = new Thread[cpus.Length];
        }

        public static CpuOccupation Start(int[] cpus)
        {
            CpuOccupation occupation = new(cpus);
            for (int i = 0; i < cpus.Length; i++)
            {
                int index = i;
                occupation._threads[i] = new Thread(() => occupation.Occupy(index)) { IsBackground = true, Name = $"ring-membarrier-{cpus[i]}" };
                occupation._threads[i].Start();
            }
            return occupation;
        }

        /// <summary>The CPUs a thread could be pinned to: the ones the process may use.</summary>
        private IReadOnlyList<int> Occupied => [.. _cpus.Where((_, i) => _pinned[i])];

        public bool WaitUntilEveryCpuRuns(TimeSpan limit)
        {
            long deadline = Environment.TickCount64 + (long)limit.TotalMilliseconds;
            SpinWait wait = default;
            while (Volatile.Read(ref _started) < _cpus.Length)
            {
                if (Environment.TickCount64 > deadline) return false;
                wait.SpinOnce();
            }
            return Occupied.Count > 0;
        }

        public string? RunOnFirst(Func<IReadOnlyList<int>, int, string?> work) => RunOn(0, work);

        /// <summary>Runs on the second occupied CPU, so the first one's own barrier state is checked too; nothing to do with one CPU.</summary>
        public string? RunOnSecond(Func<IReadOnlyList<int>, int, string?> work) => Occupied.Count > 1 ? RunOn(1, work) : null;

        public void Dispose()
        {
            _stop = true;
            foreach (Thread thread in _threads) thread.Join();
        }

        private string? RunOn(int occupiedIndex, Func<IReadOnlyList<int>, int, string?> work)
        {
            int index = Array.IndexOf(_cpus, Occupied[occupiedIndex]);
            _work = work;
            _workDone = false;
            _workFor = index; // volatile: publishes _work
            SpinWait wait = default;
            while (!_workDone) wait.SpinOnce();
            _workFor = -1;
            return _result;
        }

        private void Occupy(int index)
        {
            _pinned[index] = Pin(_cpus[index]);
            Interlocked.Increment(ref _started);
            if (!_pinned[index]) return; // a CPU outside the process's cpuset: its threads never run there
            while (!_stop)
            {
                if (_workFor == index && !_workDone)
                {
                    _result = _work!(Occupied, _cpus[index]);
                    _workDone = true; // volatile: publishes _result
                }
                Thread.SpinWait(8);
            }
        }

        private static bool Pin(int cpu)
        {
            ulong* mask = stackalloc ulong[MaxCpus / 64];
            new Span<ulong>(mask, MaxCpus / 64).Clear();
            mask[cpu / 64] = 1UL << (cpu % 64);
            return LibC.SchedSetAffinity(0, (nuint)(MaxCpus / 8), mask) == 0;
        }
    }
}
