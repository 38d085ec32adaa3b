using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;

namespace Ring.Cli;

/// <summary>Options and arguments shared by several commands, with the unit-aware parsers.</summary>
internal static class CliOptions
{
    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "On an error, print the exception with its stack trace too.",
        Recursive = true,
    };

    public static Argument<string> SegmentName(string what) => new("NAME")
    {
        Description = $"{what}: a name in the segment directory ($RING_DIR, or /dev/shm/ring-<uid>) or an absolute path.",
    };

    /// <summary>Repeatable; <see cref="OpenOptions"/> turns it into what the library takes.</summary>
    public static Option<uint[]> TrustOwner() => new("--trust-owner")
    {
        Description = "Also use segments, and segment directories, that USER owns (a name or a uid); repeat it for several. " +
            "Without it only your own are used, by root too: whoever owns a segment can show you any message, or crash you with SIGBUS by truncating it.",
        HelpName = "USER|UID",
        CustomParser = result =>
        {
            List<uint> uids = [];
            foreach (Token token in result.Tokens)
            {
                if (Users.Uid(token.Value) is { } uid) uids.Add(uid);
                else result.AddError($"--trust-owner: '{token.Value}' is neither a uid nor a user in /etc/passwd.");
            }
            return [.. uids];
        },
    };

    public static RingOpenOptions OpenOptions(this ParseResult parsed, Option<uint[]> trustOwner) =>
        new() { TrustedOwners = parsed.GetValue(trustOwner) ?? [] };

    /// <summary>
    /// Why the ring is completed, for its readers. Checked when parsed (a reason is at most
    /// <see cref="RingWriter.MaxCompletionReasonBytes"/> bytes of UTF-8), so a send does not fail after its messages.
    /// </summary>
    public static Option<string?> Reason() => new("--reason")
    {
        Description = $"Why the ring is completed, for its readers (at most {RingWriter.MaxCompletionReasonBytes} bytes of UTF-8).",
        HelpName = "TEXT",
        CustomParser = result =>
        {
            string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            int bytes = Encoding.UTF8.GetByteCount(text);
            if (bytes > RingWriter.MaxCompletionReasonBytes) result.AddError($"--reason: {bytes} bytes of UTF-8; a reason is at most {RingWriter.MaxCompletionReasonBytes}.");
            return text;
        },
    };

    public static Option<bool> Json(string what) => new("--json") { Description = $"Print {what} as JSON (snake_case fields) instead of text." };

    public static Option<long?> Size(string name, string description) => new(name)
    {
        Description = $"{description}; {Units.SizeHelp}.",
        HelpName = "SIZE",
        CustomParser = result => Parse<long>(result, Units.TryParseSize),
    };

    /// <param name="positive">Refuse 0 (for an interval; a timeout of 0 means "do not wait").</param>
    public static Option<TimeSpan?> Duration(string name, string description, bool positive = false) => new(name)
    {
        Description = $"{description}; {Units.DurationHelp}.",
        HelpName = "DURATION",
        // Checked here rather than in a validator, which System.CommandLine also runs after a parse error (and
        // whose GetValueOrDefault then throws).
        CustomParser = result => Parse(result, (string text, out TimeSpan value, out string? error) =>
        {
            if (!Units.TryParseDuration(text, out value, out error)) return false;
            if (positive && value <= TimeSpan.Zero) error = $"'{text}': must be more than 0.";
            return error is null;
        }),
    };

    /// <summary>A whole number of at least 1.</summary>
    public static Option<int?> Count(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "N",
        CustomParser = result => Parse(result, (string text, out int value, out string? error) =>
        {
            bool valid = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0;
            error = valid ? null : $"'{text}' is not a whole number of at least 1.";
            return valid;
        }),
    };

    public delegate bool TryParse<T>(string text, out T value, out string? error);

    /// <summary>Runs a unit parser on the option's one token, turning its error into a parse error naming the option.</summary>
    public static T? Parse<T>(ArgumentResult result, TryParse<T> parse) where T : struct
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (parse(text, out T value, out string? error)) return value;
        string option = result.Parent is OptionResult parent ? parent.Option.Name : result.Argument.Name;
        result.AddError($"{option}: {error}");
        return null;
    }
}
