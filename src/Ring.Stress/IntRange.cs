using System.Globalization;

namespace Ring.Stress;

/// <summary>An inclusive integer range, written <c>N</c> (exactly N) or <c>A..B</c> on the command line.</summary>
public readonly record struct IntRange(int Min, int Max)
{
    /// <summary>A range holding one value.</summary>
    public static IntRange Exactly(int value) => new(value, value);

    /// <summary>Parses <c>N</c> or <c>A..B</c> (non-negative, A ≤ B); false with a reason otherwise.</summary>
    public static bool TryParse(string text, out IntRange range, out string? error)
    {
        range = default;
        int separator = text.IndexOf("..", StringComparison.Ordinal);
        string low = separator < 0 ? text : text[..separator];
        string high = separator < 0 ? text : text[(separator + 2)..];
        if (!int.TryParse(low, NumberStyles.None, CultureInfo.InvariantCulture, out int min)
            || !int.TryParse(high, NumberStyles.None, CultureInfo.InvariantCulture, out int max))
        {
            error = $"'{text}' is not a count: write N or A..B with non-negative integers.";
            return false;
        }
        if (max < min)
        {
            error = $"'{text}' is an empty range: A..B needs A <= B.";
            return false;
        }
        range = new IntRange(min, max);
        error = null;
        return true;
    }

    /// <summary>A value uniform in the range, from a SplitMix64 stream kept in <paramref name="state"/>.</summary>
    public int Next(ref ulong state)
    {
        if (Min == Max) return Min;
        state += 0x9E3779B97F4A7C15;
        return Min + (int)(StressMessage.Mix(state) % ((ulong)(Max - Min) + 1));
    }

    /// <inheritdoc/>
    public override string ToString() => Min == Max
        ? Min.ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{Min}..{Max}");
}
