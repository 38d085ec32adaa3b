using Ring.Tooling;

namespace Ring.Tests;

/// <summary>The one spelling of a wait strategy that every tool's --wait and report uses.</summary>
public sealed class EnumNamesTests
{
    [Theory]
    [InlineData(WaitStrategy.BusySpin, "busy-spin")]
    [InlineData(WaitStrategy.SpinThenYield, "spin-then-yield")]
    [InlineData(WaitStrategy.SpinThenBlock, "spin-then-block")]
    [InlineData(WaitStrategy.Block, "block")]
    public void Of_EveryWaitStrategy_IsItsNameKebabCased_AndParsesBack(WaitStrategy wait, string name)
    {
        Assert.Equal(name, EnumNames.Of(wait));
        Assert.Equal(wait, EnumNames.Parse<WaitStrategy>(name));
    }

    [Fact]
    public void All_NamesEveryWaitStrategyOnceInTheEnumsOrder() =>
        Assert.Equal(Enum.GetValues<WaitStrategy>().Select(EnumNames.Of), EnumNames.All<WaitStrategy>());

    [Theory]
    [InlineData("spin")]
    [InlineData("hybrid")]
    [InlineData("yield")]
    [InlineData("sleep")]
    [InlineData("BusySpin")]
    public void Parse_FormerOrEnumSpellingOfAWaitStrategy_Throws(string name) =>
        Assert.Throws<ArgumentException>(() => EnumNames.Parse<WaitStrategy>(name));
}
