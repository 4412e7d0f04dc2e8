using ContactGrains.Protos.V1;
using Grpc.Net.Client;

namespace ContactGrains.Client;

/// <summary>How an <see cref="AgentConnection"/> reaches the cluster and behaves on trouble.</summary>
public sealed record AgentConnectionOptions
{
    /// <summary>The agent's id ("alice"; see <see cref="AgentClient.AgentIdRule"/>), sent with every call.</summary>
    public required string AgentId { get; init; }

    /// <summary>
    /// The agent's bearer token (<see cref="AccessTokens"/>); null for a development token, which only
    /// a development silo accepts.
    /// </summary>
    public string? Token { get; init; }

    /// <summary>Sent on the first stream (required at the agent's first sign-in; replaces the stored one). Later streams reuse the stored profile.</summary>
    public AgentProfile? Profile { get; init; }

    /// <summary>Silo addresses; after a broken stream the connection moves to the next. Ignored when <see cref="GrpcChannels"/> is set.</summary>
    public IReadOnlyList<string> Addresses { get; init; } = [];

    /// <summary>Ready-made gRPC channels to use instead of <see cref="Addresses"/>; the caller keeps ownership.</summary>
    public IReadOnlyList<GrpcChannel>? GrpcChannels { get; init; }

    /// <summary>
    /// How to reconnect after a broken stream. Attempts also stop when the server's grace period
    /// (from the latest sync) has run out: by then the agent is offline and its work reassigned.
    /// </summary>
    public ReconnectPolicy Reconnect { get; init; } = ReconnectPolicy.Default;

    /// <summary>Events buffered per reader; a reader further behind gets a <see cref="AgentDeskEvent.Synced"/> instead of what it missed.</summary>
    public int EventBufferCapacity { get; init; } = 256;

    /// <summary>Deadline of each unary call (accept, send, resolve, ...).</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(15);
}
