using Ring.Tooling;

namespace Ring.Tests;

/// <summary>The one spelling of a wait strategy that every tool's --wait and report uses.</summary>
public sealed class WaitStrategyNamesTests
{
    [Theory]
    [InlineData(WaitStrategy.BusySpin, "busy-spin")]
    [InlineData(WaitStrategy.SpinThenYield, "spin-then-yield")]
    [InlineData(WaitStrategy.SpinThenBlock, "spin-then-block")]
    [InlineData(WaitStrategy.Block, "block")]
    public void Of_EveryStrategy_IsItsEnumNameKebabCased_AndParsesBack(WaitStrategy wait, string name)
    {
        Assert.Equal(name, WaitStrategyNames.Of(wait));
        Assert.Equal(wait, WaitStrategyNames.Parse(name));
    }

    [Fact]
    public void All_NamesEveryStrategyOnceInTheEnumsOrder() =>
        Assert.Equal(Enum.GetValues<WaitStrategy>().Select(WaitStrategyNames.Of), WaitStrategyNames.All);

    [Theory]
    [InlineData("spin")]
    [InlineData("hybrid")]
    [InlineData("yield")]
    [InlineData("sleep")]
    [InlineData("BusySpin")]
    public void Parse_FormerOrEnumSpelling_Throws(string name) =>
        Assert.Throws<ArgumentException>(() => WaitStrategyNames.Parse(name));
}
