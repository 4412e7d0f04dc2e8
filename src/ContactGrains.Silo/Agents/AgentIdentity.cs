using System.Buffers;
using ContactGrains.Client;
using Grpc.Core;

namespace ContactGrains.Silo.Agents;

/// <summary>Reads which agent is calling from the connection, never from message bodies.</summary>
internal static class AgentIdentity
{
    private const int MaxLength = 128;
    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@");

    /// <summary>The caller's agent id, or an RpcException saying how to provide it.</summary>
    public static string Require(ServerCallContext context)
    {
        var agentId = context.RequestHeaders.GetValue(AgentClient.AgentHeader);
        if (string.IsNullOrEmpty(agentId))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                $"Missing '{AgentClient.AgentHeader}' header: every agent call must name the agent (its agent id)."));
        }

        if (agentId.Length > MaxLength || agentId.AsSpan().ContainsAnyExcept(Allowed))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"Invalid '{AgentClient.AgentHeader}' header: use 1 to {MaxLength} characters from letters, digits, '-', '_', '.' and '@'."));
        }

        return agentId;
    }
}
