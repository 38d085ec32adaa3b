using System.Globalization;
using Ring.Platform.Linux;
using Ring.Tooling;

namespace Ring.Tests;

/// <summary>
/// A fact that needs root, to create a <see cref="ThrowawayUser"/> and hand files to it; skipped with the reason
/// for anyone else. xunit 2 reads Skip from the attribute and has no dynamic skip, so it is decided here.
/// </summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!ThrowawayUser.IsRoot)
            Skip = "needs root: it creates a throwaway system user (useradd) and gives files to it (chown); run the tests as root to include it";
    }
}

/// <summary>
/// A system user made for one test class and removed after it (<c>useradd --system</c>, which gives it a group of
/// its own; <c>userdel</c>): the other user of the trust tests, an attacker or a peer sharing a segment. As anyone
/// but root it does nothing, and the tests that need it are skipped (<see cref="RootFactAttribute"/>).
/// </summary>
public sealed class ThrowawayUser : IAsyncLifetime
{
    private static readonly TimeSpan CommandDeadline = TimeSpan.FromSeconds(30);

    /// <summary>useradd and userdel lock /etc/passwd and fail rather than wait: test classes take turns.</summary>
    private static readonly SemaphoreSlim AccountsLock = new(1, 1);

    public static bool IsRoot => Posix.EffectiveUid == 0;

    public string Name { get; } = $"ring-t-{Guid.NewGuid().ToString("N")[..8]}";

    public uint Uid { get; private set; }

    public uint Gid { get; private set; }

    /// <summary>Its HOME for child processes: a directory of its own, since it has none.</summary>
    public string Home { get; } = Path.Combine(Path.GetTempPath(), $"ring-t-home-{Guid.NewGuid():N}");

    public async Task InitializeAsync()
    {
        if (!IsRoot) return;
        await RunAsync("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", Name);
        string[] entry = File.ReadLines("/etc/passwd").Select(line => line.Split(':')).Single(fields => fields[0] == Name);
        Uid = uint.Parse(entry[2], CultureInfo.InvariantCulture);
        Gid = uint.Parse(entry[3], CultureInfo.InvariantCulture);
        Directory.CreateDirectory(Home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Chown(Home);
    }

    private string? _reachableCopy;

    public async Task DisposeAsync()
    {
        if (_reachableCopy is not null) Directory.Delete(_reachableCopy, recursive: true);
        if (Uid == 0) return;
        Directory.Delete(Home, recursive: true);
        await RunAsync("userdel", Name);
    }

    /// <summary>
    /// A copy of the files in <paramref name="directory"/> (not its subdirectories) that any user can read, made once per
    /// fixture: programs this user runs must be reachable, and a checkout or build directory may sit under a directory
    /// closed to others (a clone into <c>mktemp -d</c> is 0700).
    /// </summary>
    public string ReachableCopy(string directory)
    {
        if (_reachableCopy is not null) return _reachableCopy;
        string copy = Path.Combine(Path.GetTempPath(), $"ring-t-programs-{Guid.NewGuid():N}");
        Directory.CreateDirectory(copy, (UnixFileMode)0b111_101_101);
        foreach (string file in Directory.EnumerateFiles(directory))
        {
            string target = Path.Combine(copy, Path.GetFileName(file));
            File.Copy(file, target);
            File.SetUnixFileMode(target, (UnixFileMode)0b110_100_100);
        }
        return _reachableCopy = copy;
    }

    /// <summary>Gives the file (a symbolic link itself, not its target) to this user and its group.</summary>
    public void Chown(string path)
    {
        Tooling.Platform.LibC.ChangeOwnerOfLink(path, Uid, Gid);
    }

    /// <summary>The command prefix that runs a program as this user, with its own group and no other.</summary>
    public IReadOnlyList<string> RunAs() => RunAs(Uid, Gid, Home);

    /// <summary>
    /// The command prefix that runs a program as <paramref name="uid"/> with group <paramref name="gid"/>, exactly
    /// <paramref name="groups"/> besides (setpriv), and HOME (where the .NET host may keep files) at <paramref name="home"/>.
    /// </summary>
    public static IReadOnlyList<string> RunAs(uint uid, uint gid, string home, params uint[] groups) =>
    [
        "setpriv",
        $"--reuid={uid}",
        $"--regid={gid}",
        groups.Length == 0 ? "--clear-groups" : $"--groups={string.Join(',', groups)}",
        "env",
        $"HOME={home}",
        $"DOTNET_CLI_HOME={home}",
    ];

    private static async Task RunAsync(string program, params string[] arguments)
    {
        if (!await AccountsLock.WaitAsync(CommandDeadline)) throw new TimeoutException($"{program}: another test held /etc/passwd for {CommandDeadline.TotalSeconds} s");
        try
        {
            using ChildProcess child = ChildProcess.Start(program, arguments);
            int exitCode = await child.WaitForExitAsync(CommandDeadline);
            if (exitCode != 0) throw new InvalidOperationException($"{program} failed.\n{child.Describe()}");
        }
        finally
        {
            AccountsLock.Release();
        }
    }
}
