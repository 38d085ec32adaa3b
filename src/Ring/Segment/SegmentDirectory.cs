using System.Globalization;
using Ring.Platform.Linux;

namespace Ring;

/// <summary>
/// Where segment files live: a per-user directory on tmpfs, or wherever RING_DIR points. Whether a directory can be
/// used is judged when it is opened (<see cref="TrustedDirectory"/>), for every directory alike.
/// </summary>
internal static class SegmentDirectory
{
    public const string EnvironmentVariable = "RING_DIR";
    private const int MaxNameLength = 200;

    public static string Default => $"/dev/shm/ring-{Posix.EffectiveUid.ToString(CultureInfo.InvariantCulture)}";

    public static string Current
    {
        get
        {
            string? configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
            return string.IsNullOrEmpty(configured) ? Default : Path.GetFullPath(configured);
        }
    }

    /// <summary>Maps a segment name (or an absolute path) to its file, validating the name.</summary>
    public static string Resolve(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Path.IsPathRooted(name))
        {
            string full = Path.GetFullPath(name);
            ValidateName(Path.GetFileName(full), name);
            return full;
        }
        ValidateName(name, name);
        return Path.Combine(Current, name);
    }

    private static void ValidateName(string fileName, string given)
    {
        bool valid = fileName.Length is > 0 and <= MaxNameLength
            && fileName[0] != '.'
            && fileName.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
        if (!valid)
            throw new ArgumentException(
                $"'{given}' is not a valid segment name: use 1-{MaxNameLength} of [A-Za-z0-9._-], not starting with '.', or an absolute path ending in such a name.",
                "name");
    }
}
