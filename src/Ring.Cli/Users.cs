using System.Globalization;

namespace Ring.Cli;

/// <summary>User names for uids, from /etc/passwd (.NET has no getpwuid); the number when there is no entry.</summary>
internal static class Users
{
    private static readonly Lazy<Dictionary<uint, string>> Names = new(Load);

    public static string Name(uint uid) =>
        Names.Value.TryGetValue(uid, out string? name) ? name : uid.ToString(CultureInfo.InvariantCulture);

    private static Dictionary<uint, string> Load()
    {
        Dictionary<uint, string> names = [];
        try
        {
            foreach (string line in File.ReadLines("/etc/passwd"))
            {
                string[] fields = line.Split(':');
                if (fields.Length > 2 && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out uint uid))
                    names.TryAdd(uid, fields[0]);
            }
        }
        catch (IOException)
        {
            // No passwd file (a minimal container): numbers it is.
        }
        return names;
    }
}
