using System.CommandLine;
using System.Text;

namespace Ring.Tooling;

/// <summary>
/// The one spelling of a <see cref="WaitStrategy"/> on every command line and in every report: the enum's name,
/// kebab-cased (<c>BusySpin</c> is <c>busy-spin</c>).
/// </summary>
public static class WaitStrategyNames
{
    /// <summary>Every strategy's name, in the enum's order.</summary>
    public static IReadOnlyList<string> All { get; } = [.. Enum.GetValues<WaitStrategy>().Select(Of)];

    /// <summary>The name of <paramref name="wait"/>.</summary>
    public static string Of(WaitStrategy wait)
    {
        string pascal = wait.ToString();
        StringBuilder kebab = new(pascal.Length + 4);
        foreach (char c in pascal)
        {
            if (char.IsAsciiLetterUpper(c) && kebab.Length > 0) kebab.Append('-');
            kebab.Append(char.ToLowerInvariant(c));
        }
        return kebab.ToString();
    }

    /// <summary>The strategy named <paramref name="name"/>, exactly as <see cref="Of"/> spells it.</summary>
    /// <exception cref="ArgumentException">No strategy has that name.</exception>
    public static WaitStrategy Parse(string name)
    {
        foreach (WaitStrategy wait in Enum.GetValues<WaitStrategy>())
        {
            if (Of(wait) == name) return wait;
        }
        throw new ArgumentException($"'{name}' is not a wait strategy: {string.Join(", ", All)}.", nameof(name));
    }

    /// <summary>
    /// A <c>--wait</c> option that takes only these names and lists them, in the enum's order, in --help; its value
    /// goes through <see cref="Parse"/>. Without <paramref name="defaultValue"/> it is required.
    /// </summary>
    /// <remarks>
    /// An option of the names rather than of <see cref="WaitStrategy"/>: --help would show an enum default as the
    /// enum spells it (SpinThenBlock).
    /// </remarks>
    public static Option<string> CreateOption(string description, WaitStrategy? defaultValue, string name = "--wait")
    {
        Option<string> option = new(name)
        {
            Description = description,
            HelpName = string.Join('|', All),
            Required = defaultValue is null,
        };
        if (defaultValue is { } value) option.DefaultValueFactory = _ => Of(value);
        option.AcceptOnlyFromAmong([.. All]);
        return option;
    }
}
