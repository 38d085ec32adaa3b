namespace Ring;

/// <summary>A wait strategy as a type, so the JIT folds the choice into each endpoint's wait loop.</summary>
internal interface IWaitPolicy
{
    /// <summary>Spends one idle step; returns true when the caller should now sleep on the eventcount.</summary>
    static abstract bool Idle(ref int iteration);
}

internal struct BusySpinPolicy : IWaitPolicy
{
    public static bool Idle(ref int iteration)
    {
        Thread.SpinWait(1);
        return false;
    }
}

internal struct SpinThenYieldPolicy : IWaitPolicy
{
    private const int SpinIterations = 100;

    public static bool Idle(ref int iteration)
    {
        if (iteration < SpinIterations)
        {
            iteration++;
            Thread.SpinWait(1);
        }
        else
        {
            Thread.Yield();
        }
        return false;
    }
}

internal struct BlockPolicy : IWaitPolicy
{
    public static bool Idle(ref int iteration) => true;
}

internal struct SpinThenBlockPolicy : IWaitPolicy
{
    // Meant as about one blocking round trip of spinning (~10 µs, platform-facts.md), so a wait that ends
    // sooner never pays for a sleep. Counted in SpinWait steps, whose length varies: the compare harness
    // measured 13-63 µs for the 200 steps on a loaded 2-CPU VM, plus 19-44 µs for the yields.
    private const int SpinIterations = 200;
    private const int YieldIterations = 10;

    public static bool Idle(ref int iteration)
    {
        if (iteration < SpinIterations)
        {
            iteration++;
            Thread.SpinWait(1);
            return false;
        }
        if (iteration < SpinIterations + YieldIterations)
        {
            iteration++;
            Thread.Yield();
            return false;
        }
        return true;
    }
}
