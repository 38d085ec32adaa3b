namespace Ring.Nats;

/// <summary>Where a bridge connects and what it publishes to or subscribes from.</summary>
public sealed record BridgeOptions
{
    /// <summary>The NATS server, as <c>nats://host:port</c>.</summary>
    public required string Url { get; init; }

    /// <summary>The subject every message goes to (out) or comes from (in).</summary>
    public required string Subject { get; init; }

    /// <summary>The JetStream stream (created bound to <see cref="Subject"/>, file storage, when missing); null for core NATS.</summary>
    public string? Stream { get; init; }

    /// <summary>In, with JetStream: the durable pull consumer's name (created when missing).</summary>
    public string? Durable { get; init; }

    /// <summary>
    /// Out, with JetStream: how many publishes may await their acknowledgement at once (each one's message stays in the
    /// ring until then). In, with JetStream: how many messages one pull asks for.
    /// </summary>
    public int Window { get; init; } = 256;

    /// <summary>A name the server shows for the connection.</summary>
    public string ConnectionName { get; init; } = "ring bridge";
}
