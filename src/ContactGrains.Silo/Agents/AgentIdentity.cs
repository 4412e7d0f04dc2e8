using ContactGrains.Client;
using Grpc.Core;

namespace ContactGrains.Silo.Agents;

/// <summary>Reads which agent is calling from the connection, never from message bodies.</summary>
internal static class AgentIdentity
{
    /// <summary>The caller's agent id, or an RpcException saying how to provide it.</summary>
    public static string Require(ServerCallContext context)
    {
        var agentId = context.RequestHeaders.GetValue(AgentClient.AgentHeader);
        if (string.IsNullOrEmpty(agentId))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                $"Missing '{AgentClient.AgentHeader}' header: every agent call must name the agent (its agent id)."));
        }

        if (!AgentClient.IsValidAgentId(agentId))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"Invalid '{AgentClient.AgentHeader}' header: use {AgentClient.AgentIdRule}."));
        }

        return agentId;
    }
}
