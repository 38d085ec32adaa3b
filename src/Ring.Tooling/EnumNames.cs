using System.CommandLine;
using System.Text;

namespace Ring.Tooling;

/// <summary>
/// The one spelling of an enum's values on every command line and in every report: the member's name, kebab-cased.
/// Every tool's <c>--wait</c> spells Ring's <c>WaitStrategy</c> this way (<c>BusySpin</c> is <c>busy-spin</c>).
/// </summary>
/// <remarks>
/// Generic rather than about <c>WaitStrategy</c> alone so that this project needs no reference to the library:
/// a fresh build compiles the two side by side instead of one after the other.
/// </remarks>
public static class EnumNames
{
    /// <summary>Every member's name, in the enum's order.</summary>
    public static IReadOnlyList<string> All<TEnum>() where TEnum : struct, Enum => [.. Enum.GetValues<TEnum>().Select(Of)];

    /// <summary>The name of <paramref name="value"/>.</summary>
    public static string Of<TEnum>(TEnum value) where TEnum : struct, Enum
    {
        string pascal = value.ToString();
        StringBuilder kebab = new(pascal.Length + 4);
        foreach (char c in pascal)
        {
            if (char.IsAsciiLetterUpper(c) && kebab.Length > 0) kebab.Append('-');
            kebab.Append(char.ToLowerInvariant(c));
        }
        return kebab.ToString();
    }

    /// <summary>The member named <paramref name="name"/>, exactly as <see cref="Of"/> spells it.</summary>
    /// <exception cref="ArgumentException">No member has that name.</exception>
    public static TEnum Parse<TEnum>(string name) where TEnum : struct, Enum
    {
        foreach (TEnum value in Enum.GetValues<TEnum>())
        {
            if (Of(value) == name) return value;
        }
        throw new ArgumentException($"'{name}' is not a {typeof(TEnum).Name}: {string.Join(", ", All<TEnum>())}.", nameof(name));
    }

    /// <summary>
    /// An option that takes only these names and lists them, in the enum's order, in --help; its value goes through
    /// <see cref="Parse"/>. Without <paramref name="defaultValue"/> it is required.
    /// </summary>
    /// <remarks>
    /// An option of the names rather than of <typeparamref name="TEnum"/>: --help would show an enum default as the
    /// enum spells it (SpinThenBlock).
    /// </remarks>
    public static Option<string> CreateOption<TEnum>(string name, string description, TEnum? defaultValue) where TEnum : struct, Enum
    {
        Option<string> option = new(name)
        {
            Description = description,
            HelpName = string.Join('|', All<TEnum>()),
            Required = defaultValue is null,
        };
        if (defaultValue is { } value) option.DefaultValueFactory = _ => Of(value);
        option.AcceptOnlyFromAmong([.. All<TEnum>()]);
        return option;
    }
}
