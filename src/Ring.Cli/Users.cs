using System.Globalization;

namespace Ring.Cli;

/// <summary>User names and uids, from /etc/passwd (.NET has no getpwuid or getpwnam); the number when there is no entry.</summary>
internal static class Users
{
    private static readonly Lazy<(Dictionary<uint, string> Names, Dictionary<string, uint> Uids)> Passwd = new(Load);

    public static string Name(uint uid) =>
        Passwd.Value.Names.TryGetValue(uid, out string? name) ? name : uid.ToString(CultureInfo.InvariantCulture);

    /// <summary>A uid given as a number, or the uid of a user name; null when it is neither.</summary>
    public static uint? Uid(string user) =>
        uint.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out uint uid) ? uid
        : Passwd.Value.Uids.TryGetValue(user, out uid) ? uid
        : null;

    private static (Dictionary<uint, string>, Dictionary<string, uint>) Load()
    {
        Dictionary<uint, string> names = [];
        Dictionary<string, uint> uids = new(StringComparer.Ordinal);
        try
        {
            foreach (string line in File.ReadLines("/etc/passwd"))
            {
                string[] fields = line.Split(':');
                if (fields.Length > 2 && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out uint uid))
                {
                    names.TryAdd(uid, fields[0]);
                    uids.TryAdd(fields[0], uid);
                }
            }
        }
        catch (IOException)
        {
            // No passwd file (a minimal container): numbers it is.
        }
        return (names, uids);
    }
}
