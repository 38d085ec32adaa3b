using System.CommandLine;
using Ring.Integrity;

namespace Ring.Stress.Integrity;

/// <summary>
/// The <c>--mutation</c> option of the commands that run on real cores: a ring whose tail or head is published without
/// its fence, which they must catch and the step scheduler cannot (it is sequentially consistent).
/// </summary>
public static class FenceMutationOption
{
    public static Option<string> Create(string description)
    {
        Option<string> option = new("--mutation")
        {
            Description = description,
            HelpName = "none|tail-without-fence|head-without-fence",
            DefaultValueFactory = _ => "none",
        };
        option.AcceptOnlyFromAmong("none", "tail-without-fence", "head-without-fence");
        return option;
    }

    public static RingVariant Variant(string? value) => value switch
    {
        "tail-without-fence" => RingVariant.PublishTailWithoutFence,
        "head-without-fence" => RingVariant.PublishHeadWithoutFence,
        _ => RingVariant.Correct,
    };
}
