namespace Ring.Integrity;

/// <summary>The soak factor: one variable multiplies the CI budgets of the integrity checks in the tests and in the tool alike.</summary>
public static class Soak
{
    /// <summary>Multiplies the schedules per shape of the property tests and the runs per scenario of <c>interleave</c>.</summary>
    public const string ScaleVariable = "RING_INTEGRITY_SCALE";

    /// <summary>The factor from <see cref="ScaleVariable"/>: a positive integer, 1 when unset.</summary>
    public static int Scale
    {
        get
        {
            string? text = Environment.GetEnvironmentVariable(ScaleVariable);
            if (string.IsNullOrEmpty(text)) return 1;
            if (!int.TryParse(text, out int scale) || scale < 1)
                throw new InvalidOperationException($"{ScaleVariable} must be a positive integer, not '{text}'.");
            return scale;
        }
    }
}
