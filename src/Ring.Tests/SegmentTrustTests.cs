using Ring.Platform.Linux;

namespace Ring.Tests;

/// <summary>
/// What Ring checks before it uses a path (docs/design.md, "Trust model"): the directory and the file belong to the
/// caller or to an owner it names in <see cref="RingOpenOptions.TrustedOwners"/>, nobody else can write the
/// directory, and the file is a regular file, not a symbolic link, a FIFO or a directory; root is held to the same
/// rules. The other user is a throwaway system user; the tests that need it run only as root.
/// </summary>
public sealed class SegmentTrustTests(ThrowawayUser stranger) : IClassFixture<ThrowawayUser>, IDisposable
{
    private const UnixFileMode Mode0666 = (UnixFileMode)0b110_110_110;
    private const UnixFileMode Mode0700 = (UnixFileMode)0b111_000_000;
    private const UnixFileMode Mode0777 = (UnixFileMode)0b111_111_111;
    private static readonly RingOptions Small = new() { Capacity = 4096 };
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly TempSegmentDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private RingOpenOptions TrustStranger => new() { TrustedOwners = [stranger.Uid] };

    // ---- The directory ----

    [RootFact]
    public void EveryEntryPoint_DirectoryAnotherUserOwns_IsRefusedNamingTheDirectoryItsOwnerAndMode()
    {
        // The attack: another user made the directory (0777), and replaced the caller's segment in it with a 0666
        // file of its own holding its own message.
        (string theirs, string name) = StrangersSegment("rootseg", "planted", Mode0777, Mode0666);

        foreach ((string entryPoint, Action call) in EntryPoints(name, trust: null))
        {
            SegmentAccessException error = Assert.Throws<SegmentAccessException>(call);
            AssertNames(error, entryPoint, theirs, stranger.Uid, Mode0777);
        }
        AssertNames(Assert.Throws<SegmentAccessException>(() => RingSegment.Create(Path.Combine(theirs, "fresh"), Small)), "Create", theirs, stranger.Uid, Mode0777);
        Assert.Equal(["rootseg"], Directory.GetFileSystemEntries(theirs).Select(Path.GetFileName));
    }

    [RootFact]
    public void Open_TrustedOwnersDirectoryOthersCanWrite_IsRefusedUntilTheyCannot()
    {
        (string theirs, string name) = StrangersSegment("shared", "hello", Mode0777, Mode0666);

        SegmentAccessException error = Assert.Throws<SegmentAccessException>(() => RingSegment.Open(name, TrustStranger));

        AssertNames(error, "Open", theirs, stranger.Uid, Mode0777);
        Assert.Contains("writable by its group and others", error.Message, StringComparison.Ordinal);
        File.SetUnixFileMode(theirs, (UnixFileMode)0b111_101_101);
        Assert.Equal("hello", ReadOne(name, TrustStranger));
    }

    [Theory]
    [InlineData(0b111_111_000, "its group")]
    [InlineData(0b111_000_011, "others")]
    [InlineData(0b111_111_111, "its group and others")]
    [InlineData(0b1_111_111_111, "its group and others")] // sticky, like /dev/shm itself: others can still add names
    public void EveryEntryPoint_OwnDirectoryGroupOrOthersCanWrite_IsRefused(int mode, string who)
    {
        string name = CreateWithMessage(_dir.NewName(), "mine");
        File.SetUnixFileMode(_dir.DirectoryPath, (UnixFileMode)mode);
        try
        {
            foreach ((string entryPoint, Action call) in EntryPoints(name, trust: null))
            {
                SegmentAccessException error = Assert.Throws<SegmentAccessException>(call);
                AssertNames(error, entryPoint, _dir.DirectoryPath, Posix.EffectiveUid, (UnixFileMode)mode);
                Assert.Contains($"writable by {who},", error.Message, StringComparison.Ordinal);
            }
            Assert.Throws<SegmentAccessException>(() => RingSegment.Create(_dir.NewName(), Small));
        }
        finally
        {
            File.SetUnixFileMode(_dir.DirectoryPath, Mode0700);
        }
        Assert.Equal("mine", ReadOne(name, new RingOpenOptions()));
    }

    [Theory]
    [InlineData(0b111_000_000)]
    [InlineData(0b111_101_000)]
    [InlineData(0b111_101_101)]
    [InlineData(0b111_001_001)]
    public void Open_OwnDirectoryOthersCanOnlyReadOrSearch_Opens(int mode)
    {
        string name = CreateWithMessage(_dir.NewName(), "mine");
        File.SetUnixFileMode(_dir.DirectoryPath, (UnixFileMode)mode);

        Assert.Equal("mine", ReadOne(name, new RingOpenOptions()));
    }

    [Fact]
    public void Open_DirectoryIsASymbolicLink_IsRefused()
    {
        string name = CreateWithMessage(_dir.NewName(), "mine");
        string link = Path.Combine(_dir.DirectoryPath, "link");
        Directory.CreateSymbolicLink(link, _dir.DirectoryPath);

        SegmentAccessException error = Assert.Throws<SegmentAccessException>(() => RingSegment.Open(Path.Combine(link, Path.GetFileName(name))));

        Assert.Equal(link, error.Path);
        Assert.Contains("symbolic link", error.Message, StringComparison.Ordinal);
    }

    // ---- The file ----

    [RootFact]
    public void EveryEntryPoint_SegmentAnotherUserOwnsInOwnDirectory_IsRefusedEvenForRoot()
    {
        string name = CreateWithMessage(_dir.NewName(), "planted");
        stranger.Chown(name);
        File.SetUnixFileMode(name, Mode0666);

        foreach ((string entryPoint, Action call) in EntryPoints(name, trust: null).Concat(EntryPoints(name, new RingOpenOptions { TrustedOwners = [stranger.Uid + 1] })))
        {
            SegmentAccessException error = Assert.Throws<SegmentAccessException>(call);
            AssertNames(error, entryPoint, name, stranger.Uid, Mode0666);
        }
        Assert.True(File.Exists(name), "Unlink must leave another user's segment where it is");
    }

    [RootFact]
    public void EveryEntryPoint_SegmentOfATrustedOwner_Works()
    {
        string name = CreateWithMessage(_dir.NewName(), "planted");
        stranger.Chown(name);
        File.SetUnixFileMode(name, Mode0666); // writable by anyone: still used, since its owner is trusted

        Assert.Equal(stranger.Uid, RingSegment.Stat(name, TrustStranger).OwnerUid);
        using (RingSegment.OpenReadOnly(name, TrustStranger))
        using (RingSegment.OpenOrCreate(name, Small, TrustStranger))
        {
        }
        Assert.False(RingSegment.UnlinkIfStale(name, TrustStranger)); // idle, not stale
        Assert.Equal("planted", ReadOne(name, TrustStranger));
        Assert.True(RingSegment.Unlink(name, TrustStranger));
        Assert.False(File.Exists(name));
    }

    [Fact]
    public void EveryEntryPoint_DirectoryInPlaceOfASegment_ThrowsFileTypeAndLeavesIt()
    {
        string name = _dir.NewName();
        Directory.CreateDirectory(name);

        foreach ((string entryPoint, Action call) in EntryPoints(name, trust: null))
        {
            SegmentFormatException error = Assert.Throws<SegmentFormatException>(call);
            Assert.True(error.Field == "FileType", $"{entryPoint}: {error.Message}");
            Assert.Contains("a directory, not a regular file", error.Message, StringComparison.Ordinal);
        }
        Assert.True(Directory.Exists(name));
    }

    [Fact]
    public async Task EveryEntryPoint_Fifo_ThrowsFileTypeWithoutBlocking()
    {
        string name = _dir.NewName();
        Tooling.Platform.LibC.MakeFifo(name, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        foreach ((string entryPoint, Action call) in EntryPoints(name, trust: null))
        {
            // Opening a FIFO for I/O waits for the other end: a call that did would never return.
            SegmentFormatException error = await Assert.ThrowsAsync<SegmentFormatException>(() => Task.Run(call).WaitAsync(Deadline));
            Assert.True(error.Field == "FileType", $"{entryPoint}: {error.Message}");
            Assert.Contains("a FIFO", error.Message, StringComparison.Ordinal);
        }
        Assert.True(File.Exists(name));
    }

    [Fact]
    public void Unlink_SymbolicLinkToASegment_IsRefusedAndKeepsLinkAndSegment()
    {
        string name = CreateWithMessage(_dir.NewName(), "kept");
        string link = Path.Combine(_dir.DirectoryPath, "link");
        File.CreateSymbolicLink(link, name);

        SegmentAccessException error = Assert.Throws<SegmentAccessException>(() => RingSegment.Unlink(link));

        Assert.Equal(link, error.Path);
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.Equal("kept", ReadOne(name, new RingOpenOptions()));
    }

    [Theory]
    [InlineData("text")]
    [InlineData("random")]
    [InlineData("zeros")] // a header never published: what a staging file holds, not a segment
    public void Unlink_OwnRegularFileWithoutRingMagic_ThrowsNamingMagicAndKeepsIt(string kind)
    {
        string name = _dir.NewName();
        byte[] contents = kind switch
        {
            "text" => "not a segment"u8.ToArray(),
            "random" => Payload.Make(11, 64 * 1024),
            _ => new byte[SegmentLayout.HeaderLength],
        };
        File.WriteAllBytes(name, contents);

        SegmentFormatException error = Assert.Throws<SegmentFormatException>(() => RingSegment.Unlink(name));

        Assert.Equal("Magic", error.Field);
        Assert.Equal(contents, File.ReadAllBytes(name));
    }

    // ---- Helpers ----

    /// <summary>Every static entry point that opens or removes an existing segment; with trust null, the overloads without it.</summary>
    private static IEnumerable<(string EntryPoint, Action Call)> EntryPoints(string name, RingOpenOptions? trust) => trust is null
        ?
        [
            ("Open", () => RingSegment.Open(name).Dispose()),
            ("OpenReadOnly", () => RingSegment.OpenReadOnly(name).Dispose()),
            ("OpenOrCreate", () => RingSegment.OpenOrCreate(name, Small).Dispose()),
            ("Stat", () => RingSegment.Stat(name)),
            ("Unlink", () => RingSegment.Unlink(name)),
            ("UnlinkIfStale", () => RingSegment.UnlinkIfStale(name)),
        ]
        :
        [
            ("Open", () => RingSegment.Open(name, trust).Dispose()),
            ("OpenReadOnly", () => RingSegment.OpenReadOnly(name, trust).Dispose()),
            ("OpenOrCreate", () => RingSegment.OpenOrCreate(name, Small, trust).Dispose()),
            ("Stat", () => RingSegment.Stat(name, trust)),
            ("Unlink", () => RingSegment.Unlink(name, trust)),
            ("UnlinkIfStale", () => RingSegment.UnlinkIfStale(name, trust)),
        ];

    private static void AssertNames(SegmentAccessException error, string entryPoint, string path, uint owner, UnixFileMode mode)
    {
        Assert.True((path, owner, mode) == (error.Path, error.OwnerUid, error.Mode),
            $"{entryPoint}: expected {path} uid {owner} mode {mode}, got {error.Path} uid {error.OwnerUid} mode {error.Mode}: {error.Message}");
        string octal = Convert.ToString((int)mode, 8).PadLeft(4, '0');
        foreach (string expected in new[] { $"'{path}'", $"uid {owner}", $"mode {octal}" })
            Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), $"{entryPoint}: the message does not name {expected}: {error.Message}");
    }

    /// <summary>A directory of the stranger's with these modes, holding a segment of the stranger's with one message.</summary>
    private (string Directory, string Segment) StrangersSegment(string name, string message, UnixFileMode directoryMode, UnixFileMode segmentMode)
    {
        string theirs = Path.Combine(_dir.DirectoryPath, "theirs");
        Directory.CreateDirectory(theirs);
        string segment = CreateWithMessage(Path.Combine(theirs, name), message);
        foreach ((string path, UnixFileMode mode) in new[] { (segment, segmentMode), (theirs, directoryMode) })
        {
            stranger.Chown(path);
            File.SetUnixFileMode(path, mode);
        }
        return (theirs, segment);
    }

    /// <summary>A new segment holding one message, detached.</summary>
    private static string CreateWithMessage(string name, string message)
    {
        using RingSegment segment = RingSegment.Create(name, Small);
        using RingWriter writer = segment.CreateWriter();
        Assert.True(writer.TryWrite(System.Text.Encoding.UTF8.GetBytes(message)));
        return name;
    }

    private static string ReadOne(string name, RingOpenOptions trust)
    {
        using RingSegment segment = RingSegment.Open(name, trust);
        using RingReader reader = segment.CreateReader();
        byte[] buffer = new byte[segment.MaxMessageLength];
        Assert.True(reader.TryRead(buffer, out int length));
        return System.Text.Encoding.UTF8.GetString(buffer, 0, length);
    }
}
