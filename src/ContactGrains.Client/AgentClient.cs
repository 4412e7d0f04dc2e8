using System.Buffers;
using Grpc.Net.Client;
using ContactGrains.Protos.V1;

namespace ContactGrains.Client;

/// <summary>Helpers for callers of the agent API (agent desktops).</summary>
public static class AgentClient
{
    /// <summary>
    /// The request header that names the calling agent. The silo takes the agent from the token;
    /// when this header is sent too, it must name the token's agent.
    /// </summary>
    public const string AgentHeader = "contactgrains-agent";

    /// <summary>Longest agent id.</summary>
    public const int MaxAgentIdLength = 128;

    /// <summary>The characters an agent id may use (it travels in a header).</summary>
    public static readonly SearchValues<char> AgentIdChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@");

    /// <summary>The agent-id rule in words, for error messages.</summary>
    public const string AgentIdRule = "1 to 128 characters from letters, digits, '-', '_', '.' and '@'";

    /// <summary>Whether <paramref name="agentId"/> follows <see cref="AgentIdRule"/>.</summary>
    public static bool IsValidAgentId(string? agentId) =>
        agentId is { Length: > 0 and <= MaxAgentIdLength } && !agentId.AsSpan().ContainsAnyExcept(AgentIdChars);

    /// <summary>
    /// Creates an agent API client over <paramref name="grpcChannel"/> that calls as agent
    /// <paramref name="agentId"/> with a bearer token (<see cref="AccessTokens"/>). Without a token it
    /// uses a development token, which only a development silo accepts.
    /// </summary>
    public static AgentService.AgentServiceClient Create(GrpcChannel grpcChannel, string agentId, string? token = null) =>
        new(ChannelClient.WithHeaders(grpcChannel,
            (AgentHeader, agentId),
            (AuthorizationHeader, "Bearer " + (token ?? DevelopmentCredentials.AgentToken(agentId)))));

    /// <summary>
    /// Creates a supervisor API client over <paramref name="grpcChannel"/> that calls with
    /// <paramref name="token"/>, which must carry the supervisor role (<see cref="AccessTokens"/>).
    /// </summary>
    public static SupervisorService.SupervisorServiceClient CreateSupervisor(GrpcChannel grpcChannel, string token) =>
        new(ChannelClient.WithHeaders(grpcChannel, (AuthorizationHeader, "Bearer " + token)));

    /// <summary>The standard header that carries the bearer token.</summary>
    public const string AuthorizationHeader = "authorization";
}
