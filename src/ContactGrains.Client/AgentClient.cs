using Grpc.Net.Client;
using ContactGrains.Protos.V1;

namespace ContactGrains.Client;

/// <summary>Helpers for callers of the agent API (agent desktops).</summary>
public static class AgentClient
{
    /// <summary>The request header that names the calling agent.</summary>
    public const string AgentHeader = "contactgrains-agent";

    /// <summary>
    /// Creates an agent API client over <paramref name="grpcChannel"/> that identifies itself as
    /// agent <paramref name="agentId"/> on every call.
    /// </summary>
    public static AgentService.AgentServiceClient Create(GrpcChannel grpcChannel, string agentId) =>
        new(ChannelClient.WithHeader(grpcChannel, AgentHeader, agentId));
}
