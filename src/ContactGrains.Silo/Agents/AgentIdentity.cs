using ContactGrains.Client;
using ContactGrains.Silo.Security;
using Grpc.Core;

namespace ContactGrains.Silo.Agents;

/// <summary>Which agent is calling: the subject of its bearer token (<see cref="CallerAuthentication"/>), never a message body.</summary>
internal static class AgentIdentity
{
    public static string Require(ServerCallContext context) => CallerAuthentication.Agent(context).AgentId;

    /// <summary>The calling supervisor's id, or PERMISSION_DENIED for a caller without the supervisor role.</summary>
    public static string RequireSupervisor(ServerCallContext context)
    {
        var caller = CallerAuthentication.Agent(context);
        return caller.IsSupervisor
            ? caller.AgentId
            : throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"This call needs the '{AccessTokens.SupervisorRole}' role; the token of '{caller.AgentId}' does not have it."));
    }
}
