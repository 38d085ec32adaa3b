using System.Globalization;
using System.Text.RegularExpressions;

namespace Ring.Cli;

/// <summary>Sizes (64KiB, 1 MiB, 4096), durations (500ms, 5s, 2m) and octal modes (0600), in and out.</summary>
internal static partial class Units
{
    private static readonly (string Name, long Factor)[] SizeUnits =
    [
        ("TiB", 1L << 40), ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10), ("B", 1),
    ];

    public const string SizeHelp = "a byte count with an optional unit: B, KiB, MiB, GiB, TiB (64KiB, 1MiB, 4096)";
    public const string DurationHelp = "a number with an optional unit: ms, s, m, h; plain numbers are seconds (500ms, 5s)";

    public static bool TryParseSize(string text, out long bytes, out string? error)
    {
        bytes = 0;
        Match match = SizePattern().Match(text);
        if (!match.Success)
        {
            error = $"'{text}' is not a size: use {SizeHelp}.";
            return false;
        }
        string unit = match.Groups["unit"].Value;
        long factor = 1;
        if (unit.Length > 0)
        {
            int known = Array.FindIndex(SizeUnits, u => string.Equals(u.Name, unit, StringComparison.OrdinalIgnoreCase));
            if (known < 0)
            {
                // KB/MB would be ambiguous (1000 or 1024?): only the binary units are accepted.
                error = $"'{text}': unknown unit '{unit}'; use B, KiB, MiB, GiB or TiB.";
                return false;
            }
            factor = SizeUnits[known].Factor;
        }
        if (!long.TryParse(match.Groups["value"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long value)
            || value > long.MaxValue / factor)
        {
            error = $"'{text}' is too large.";
            return false;
        }
        bytes = value * factor;
        error = null;
        return true;
    }

    /// <summary>Exact in the largest unit that divides the value ("1 MiB"), else one decimal ("12.5 KiB").</summary>
    public static string FormatSize(long bytes)
    {
        foreach ((string name, long factor) in SizeUnits)
        {
            if (factor == 1 || bytes < factor) continue;
            return bytes % factor == 0
                ? $"{(bytes / factor).ToString(CultureInfo.InvariantCulture)} {name}"
                : $"{((double)bytes / factor).ToString("0.0", CultureInfo.InvariantCulture)} {name}";
        }
        return $"{bytes.ToString(CultureInfo.InvariantCulture)} B";
    }

    public static bool TryParseDuration(string text, out TimeSpan duration, out string? error)
    {
        duration = TimeSpan.Zero;
        Match match = DurationPattern().Match(text);
        if (!match.Success || !double.TryParse(match.Groups["value"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value))
        {
            error = $"'{text}' is not a duration: use {DurationHelp}.";
            return false;
        }
        double milliseconds = value * match.Groups["unit"].Value.ToLowerInvariant() switch
        {
            "ms" => 1,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => 1000,
        };
        if (milliseconds > int.MaxValue)
        {
            error = $"'{text}' is too long (at most {TimeSpan.FromMilliseconds(int.MaxValue).TotalDays:0} days).";
            return false;
        }
        duration = TimeSpan.FromMilliseconds(milliseconds);
        error = null;
        return true;
    }

    public static string FormatDuration(TimeSpan duration) =>
        duration < TimeSpan.FromSeconds(1)
            ? $"{duration.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)}ms"
            : $"{duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s";

    /// <summary>Permission bits in octal, like chmod: 600, 0640, 0666.</summary>
    public static bool TryParseMode(string text, out UnixFileMode mode, out string? error)
    {
        mode = 0;
        if (!ModePattern().IsMatch(text))
        {
            error = $"'{text}' is not a file mode: give octal permission bits like 0600 or 0660.";
            return false;
        }
        mode = (UnixFileMode)Convert.ToInt32(text, 8);
        error = null;
        return true;
    }

    public static string FormatMode(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0x1FF, 8).PadLeft(3, '0');

    [GeneratedRegex(@"^\s*(?<value>[0-9]+)\s*(?<unit>[A-Za-z]*)\s*$")]
    private static partial Regex SizePattern();

    [GeneratedRegex(@"^\s*(?<value>[0-9]+(\.[0-9]+)?)\s*(?<unit>ms|s|m|h)?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex DurationPattern();

    [GeneratedRegex("^0?[0-7]{3}$")]
    private static partial Regex ModePattern();
}
