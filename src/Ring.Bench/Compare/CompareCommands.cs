using System.CommandLine;
using System.Globalization;
using Ring.Bench.Common;
using Ring.Bench.Compare.Iceoryx;

namespace Ring.Bench.Compare;

/// <summary>The <c>compare</c> command and the hidden <c>compare-child</c> command it starts as its peer.</summary>
internal static class CompareCommands
{
    public const string ChildCommandName = "compare-child";
    public const string TransportOptionName = "--transport";
    public const string SizeOptionName = "--size";
    public const string EndpointOptionName = "--endpoint";
    private const int MaxSize = 1 << 16;

    public static Command CreateCompare()
    {
        Option<string> sizes = new("--sizes")
        {
            Description = $"Comma-separated message sizes in bytes, {CompareWire.MinMessageSize} to {MaxSize}.",
            DefaultValueFactory = _ => "64,4096",
        };
        sizes.Validators.Add(result =>
        {
            if (ParseSizes(result.GetValueOrDefault<string>()) is null)
                result.AddError($"--sizes must be a comma-separated list of sizes from {CompareWire.MinMessageSize} to {MaxSize} bytes.");
        });
        Option<string> transports = new("--transports")
        {
            Description = "Comma-separated transports to run, in this order: " + string.Join(",", Transport.All.Select(t => t.Name)) + " (default: all).",
            DefaultValueFactory = _ => string.Join(",", Transport.All.Select(t => t.Name)),
        };
        transports.Validators.Add(result =>
        {
            if (ParseTransports(result.GetValueOrDefault<string>()) is null)
                result.AddError("--transports must be a comma-separated list of: " + string.Join(", ", Transport.All.Select(t => t.Name)) + ".");
        });
        Option<bool> quick = new("--quick") { Description = "2 rounds, 1.5 s warm-ups, 10k round trips, 0.25 s streams: about 7 s per transport and size." };
        Option<string> json = new("--json") { Description = "Also write the medians and each round's figures as JSON to this file; src/Ring.Bench.Chart draws them." };
        Command compare = new("compare", "Compares Ring with a raw shared-memory floor, pipes, Unix sockets, TCP and iceoryx, between two processes: round-trip latency and one-way throughput.")
        {
            sizes, transports, quick, json,
        };
        compare.SetAction(parse => CompareParent.Run(CompareSettings.ForCommand(
            ParseSizes(parse.GetValue(sizes))!, ParseTransports(parse.GetValue(transports))!, parse.GetValue(quick), parse.GetValue(json))));
        return compare;
    }

    public static Command CreateChild()
    {
        Option<string> transport = new(TransportOptionName) { Required = true };
        Option<int> size = new(SizeOptionName) { Required = true };
        Option<string> endpoint = new(EndpointOptionName) { Required = true };
        Command child = new(ChildCommandName, "The compare command's peer process; started by 'compare'.")
        {
            transport, size, endpoint,
        };
        child.Hidden = true;
        child.SetAction(parse =>
        {
            try
            {
                return CompareChild.Run(Transport.Parse(parse.GetValue(transport)!), parse.GetValue(size), parse.GetValue(endpoint)!);
            }
            catch (BenchFailure e)
            {
                Console.Error.WriteLine($"compare-child: error: {e.Message}");
                return 1;
            }
        });
        return child;
    }

    /// <summary>The hidden command that keeps RouDi for the iceoryx transport; started by 'compare'.</summary>
    public static Command CreateRoudiKeeper()
    {
        Option<string> roudi = new(IceoryxDaemon.RoudiOptionName) { Required = true };
        Option<string> config = new(IceoryxDaemon.ConfigOptionName) { Required = true };
        Command keeper = new(IceoryxDaemon.KeeperCommandName, "Runs iox-roudi for the compare command's iceoryx transport and stops it once 'compare' has exited.")
        {
            roudi, config,
        };
        keeper.Hidden = true;
        keeper.SetAction(parse => IceoryxDaemon.Keep(parse.GetValue(roudi)!, parse.GetValue(config)!));
        return keeper;
    }

    private static List<Transport>? ParseTransports(string? text)
    {
        List<Transport> transports = [];
        foreach (string part in (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            Transport? transport = Transport.All.FirstOrDefault(t => t.Name == part);
            if (transport is null) return null;
            transports.Add(transport);
        }
        return transports.Count == 0 ? null : transports.Distinct().ToList();
    }

    private static List<int>? ParseSizes(string? text)
    {
        List<int> sizes = [];
        foreach (string part in (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int size) || size < CompareWire.MinMessageSize || size > MaxSize) return null;
            sizes.Add(size);
        }
        return sizes.Count == 0 ? null : sizes.Distinct().ToList();
    }
}
