using ContactGrains.Protos.V1;
using Grpc.Net.Client;

namespace ContactGrains.Client;

/// <summary>How a <see cref="ChannelConnection"/> reaches the cluster and behaves on trouble.</summary>
public sealed record ChannelConnectionOptions
{
    /// <summary>The adapter's channel name ("webchat", "sms", "whatsapp"), sent with every call.</summary>
    public required string Channel { get; init; }

    /// <summary>
    /// The channel's API key (<see cref="ChannelKeys"/>); null for the channel's development key,
    /// which only a development silo accepts.
    /// </summary>
    public string? ApiKey { get; init; }

    /// <summary>
    /// Silo addresses (e.g. "http://127.0.0.1:5000"). The connection uses the first; after a broken
    /// stream it moves to the next. Ignored when <see cref="GrpcChannels"/> is set.
    /// </summary>
    public IReadOnlyList<string> Addresses { get; init; } = [];

    /// <summary>Ready-made gRPC channels to use instead of <see cref="Addresses"/>; the caller keeps ownership.</summary>
    public IReadOnlyList<GrpcChannel>? GrpcChannels { get; init; }

    /// <summary>When and how often to open a new stream after one broke.</summary>
    public ReconnectPolicy Reconnect { get; init; } = ReconnectPolicy.Default;

    /// <summary>How long a sent message may wait for its ack, reconnections included, before <see cref="ChannelConnection.SendAsync(InboundMessage, CancellationToken)"/> throws <see cref="TimeoutException"/>.</summary>
    public TimeSpan AckTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Tries of a message the cluster refused as retryable (UNAVAILABLE, ABORTED), with the same id each time.</summary>
    public int SendAttempts { get; init; } = 4;

    /// <summary>Entries buffered per reader; a reader further behind gets them again later (see <see cref="ChannelConnection.ReadAllAsync"/>).</summary>
    public int ReadBufferCapacity { get; init; } = 512;

    /// <summary>Deadline of each unary call.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Told of every state change (connected, reconnecting, failed), on the connection's own task: return quickly.</summary>
    public Action<ConnectionStateChange>? OnStateChange { get; init; }
}
