using System.Threading.Channels;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Ring.Nats;

/// <summary>The connection and the stream both directions start from.</summary>
internal static class NatsSetup
{
    /// <summary>JetStream's answer when a stream or consumer does not exist.</summary>
    private const int NotFound = 404;

    /// <summary>
    /// A connection that keeps trying to reconnect, for as long as the bridge runs, and counts each reconnection.
    /// Core subscriptions drop the newest message when the bridge's pending buffer is full (counted): the server would
    /// cut a slow consumer off anyway, and this way the bridge says how many it lost.
    /// </summary>
    public static NatsConnection Connect(BridgeOptions options, BridgeCounters counters)
    {
        NatsConnection connection = new(NatsOpts.Default with
        {
            Url = options.Url,
            Name = options.ConnectionName,
            MaxReconnectRetry = -1,
            ReconnectWaitMin = TimeSpan.FromMilliseconds(50),
            ReconnectWaitMax = TimeSpan.FromSeconds(1),
            RetryOnInitialConnect = true,
            SubPendingChannelFullMode = BoundedChannelFullMode.DropNewest,
            SuppressSlowConsumerWarnings = true,
        });
        bool opened = false;
        connection.ConnectionOpened += (_, _) =>
        {
            if (opened) counters.AddReconnect();
            opened = true;
            return ValueTask.CompletedTask;
        };
        connection.MessageDropped += (_, _) =>
        {
            counters.AddDropped();
            return ValueTask.CompletedTask;
        };
        return connection;
    }

    /// <summary>
    /// The stream, created bound to the subject with file storage when it does not exist. An existing stream is used as
    /// it is: its owner's settings (subjects, retention, duplicate window) are not the bridge's to change.
    /// </summary>
    public static async Task EnsureStreamAsync(NatsJSContext js, string stream, string subject, CancellationToken cancellationToken)
    {
        try
        {
            await js.GetStreamAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (NatsJSApiException e) when (e.Error.Code == NotFound)
        {
        }
        try
        {
            await js.CreateStreamAsync(new StreamConfig(stream, [subject]) { Storage = StreamConfigStorage.File }, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException e) when (e.Error.ErrCode == 10058)
        {
            // The other bridge created it between the lookup and the creation (stream name already in use).
        }
    }
}
