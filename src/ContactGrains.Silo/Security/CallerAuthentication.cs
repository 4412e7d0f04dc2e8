using System.Collections.Frozen;
using ContactGrains.Client;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace ContactGrains.Silo.Security;

/// <summary>Who is calling, once <see cref="CallerAuthentication"/> has checked the credential.</summary>
internal sealed record AgentCaller(string AgentId, IReadOnlySet<string> Roles)
{
    public bool IsSupervisor => Roles.Contains(AccessTokens.SupervisorRole);
}

/// <summary>
/// Authenticates every call before its handler runs: the channel API by API key (the channel comes
/// from the key, never from a header the caller chooses), the agent API by JWT bearer token (the
/// agent id and roles come from its claims). A refusal is UNAUTHENTICATED (no credential, or one that
/// is not valid) or PERMISSION_DENIED (a valid credential used for someone else), with a sentence
/// saying which; nothing about the credential itself is echoed.
/// </summary>
internal sealed partial class CallerAuthentication(
    AuthOptions options,
    Hosting.ContactGrainsOptions silo,
    ILogger<CallerAuthentication> logger) : Interceptor
{
    private const string ChannelServicePrefix = "/contactgrains.v1.ChannelService/";
    private const string AgentServicePrefix = "/contactgrains.v1.AgentService/";
    private const string SupervisorServicePrefix = "/contactgrains.v1.SupervisorService/";

    private readonly bool _development = options.UsesDevelopmentCredentials(silo.Storage.Provider == Hosting.ContactGrainsOptions.StorageProvider.Memory);
    private readonly FrozenDictionary<string, string> _channelByKeyHash = options.Channels
        .ToFrozenDictionary(k => k.KeySha256.ToLowerInvariant(), k => k.Channel, StringComparer.Ordinal);

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        await AuthenticateAsync(context);
        return await continuation(request, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthenticateAsync(context);
        await continuation(request, responseStream, context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthenticateAsync(context);
        await continuation(requestStream, responseStream, context);
    }

    /// <summary>The authenticated channel of a channel API call.</summary>
    public static string Channel(ServerCallContext context) =>
        context.UserState.TryGetValue(typeof(ChannelKeys), out var channel) ? (string)channel
            : throw new RpcException(new Status(StatusCode.Unauthenticated, "This call was not authenticated."));

    /// <summary>The authenticated agent of an agent API call.</summary>
    public static AgentCaller Agent(ServerCallContext context) =>
        context.UserState.TryGetValue(typeof(AgentCaller), out var agent) ? (AgentCaller)agent
            : throw new RpcException(new Status(StatusCode.Unauthenticated, "This call was not authenticated."));

    private async Task AuthenticateAsync(ServerCallContext context)
    {
        if (context.Method.StartsWith(ChannelServicePrefix, StringComparison.Ordinal))
        {
            context.UserState[typeof(ChannelKeys)] = AuthenticateChannel(context);
        }
        else if (context.Method.StartsWith(AgentServicePrefix, StringComparison.Ordinal)
            || context.Method.StartsWith(SupervisorServicePrefix, StringComparison.Ordinal))
        {
            context.UserState[typeof(AgentCaller)] = await AuthenticateAgentAsync(context);
        }
    }

    private string AuthenticateChannel(ServerCallContext context)
    {
        var key = context.RequestHeaders.GetValue(ChannelKeys.Header);
        if (string.IsNullOrEmpty(key))
        {
            throw Refuse(StatusCode.Unauthenticated, context,
                $"Missing API key: send the channel's key in the '{ChannelKeys.Header}' header{(_development ? $" (this development silo takes '{DevelopmentCredentials.ChannelKeyPrefix}<channel>')" : "")}.");
        }

        var channel = _channelByKeyHash.GetValueOrDefault(ChannelKeys.Hash(key));
        if (channel is null && _development && key.StartsWith(DevelopmentCredentials.ChannelKeyPrefix, StringComparison.Ordinal))
        {
            channel = key[DevelopmentCredentials.ChannelKeyPrefix.Length..];
            if (!ChannelNames.IsValid(channel))
            {
                throw Refuse(StatusCode.InvalidArgument, context, $"A development key names its channel after '{DevelopmentCredentials.ChannelKeyPrefix}': {ChannelNames.Rule}.");
            }
        }

        if (channel is null)
        {
            throw Refuse(StatusCode.Unauthenticated, context, "The API key is not valid: it is unknown to this cluster or was revoked.");
        }

        var named = context.RequestHeaders.GetValue(ChannelClient.ChannelHeader);
        if (!string.IsNullOrEmpty(named) && named != channel)
        {
            throw Refuse(StatusCode.PermissionDenied, context,
                $"The API key belongs to channel '{channel}', not to the channel the '{ChannelClient.ChannelHeader}' header names.");
        }

        return channel;
    }

    private async Task<AgentCaller> AuthenticateAgentAsync(ServerCallContext context)
    {
        var result = await context.GetHttpContext().AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
        if (!result.Succeeded)
        {
            throw Refuse(StatusCode.Unauthenticated, context, result.Failure is null
                ? $"Missing bearer token: send 'authorization: Bearer <token>' (a supervisor issues tokens{(_development ? "; this development silo also takes development tokens" : "")})."
                : ExplainTokenFailure(result.Failure));
        }

        var principal = result.Principal!;
        var agentId = principal.FindFirst("sub")?.Value;
        if (!AgentClient.IsValidAgentId(agentId))
        {
            throw Refuse(StatusCode.Unauthenticated, context, $"The bearer token's subject is not an agent id ({AgentClient.AgentIdRule}).");
        }

        var roles = principal.FindAll("role").Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        if (!roles.Contains(AccessTokens.AgentRole) && !roles.Contains(AccessTokens.SupervisorRole))
        {
            throw Refuse(StatusCode.PermissionDenied, context, $"The bearer token has neither the '{AccessTokens.AgentRole}' nor the '{AccessTokens.SupervisorRole}' role.");
        }

        var named = context.RequestHeaders.GetValue(AgentClient.AgentHeader);
        if (!string.IsNullOrEmpty(named) && named != agentId)
        {
            throw Refuse(StatusCode.PermissionDenied, context,
                $"The bearer token belongs to agent '{agentId}', not to the agent the '{AgentClient.AgentHeader}' header names.");
        }

        return new AgentCaller(agentId!, roles);
    }

    private static string ExplainTokenFailure(Exception failure) => failure switch
    {
        SecurityTokenExpiredException expired => $"The bearer token expired at {expired.Expires:yyyy-MM-dd HH:mm:ss}Z; get a new one.",
        SecurityTokenNotYetValidException => "The bearer token is not valid yet (its nbf is in the future).",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException =>
            "The bearer token's signature is not valid: it was not issued with this cluster's signing key.",
        SecurityTokenInvalidIssuerException => "The bearer token's issuer is not this cluster's.",
        SecurityTokenInvalidAudienceException => "The bearer token's audience is not this cluster.",
        SecurityTokenInvalidAlgorithmException => "The bearer token is not signed with HS256.",
        SecurityTokenMalformedException or ArgumentException => "The bearer token is not a well-formed JWT.",
        _ => $"The bearer token is not valid ({failure.GetType().Name}).",
    };

    private RpcException Refuse(StatusCode code, ServerCallContext context, string detail)
    {
        LogRefused(context.Method, code, context.Peer);
        return new RpcException(new Status(code, detail));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Method} refused with {StatusCode} for {Peer}")]
    private partial void LogRefused(string method, StatusCode statusCode, string peer);
}
