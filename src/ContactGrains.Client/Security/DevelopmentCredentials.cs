using System.Text;

namespace ContactGrains.Client;

/// <summary>
/// Credentials everyone knows, for the development silo only (in-memory storage, loopback): the key
/// of channel <c>X</c> is <c>dev-key-X</c>, and agent tokens are signed with a published key. They let
/// the two README commands, the terminal client and the web chat work on a fresh machine with no
/// set-up. A silo on the PostgreSQL profile refuses them unless told otherwise
/// (<c>ContactGrains:Auth:DevelopmentCredentials</c>), and refuses to start without real ones.
/// </summary>
public static class DevelopmentCredentials
{
    /// <summary>What every development channel key starts with.</summary>
    public const string ChannelKeyPrefix = "dev-key-";

    /// <summary>The published signing key for development agent tokens (never use it in production).</summary>
    public static readonly byte[] SigningKey = Encoding.ASCII.GetBytes("contactgrains-development-signing-key-NOT-SECRET");

    /// <summary>The development API key of <paramref name="channel"/>.</summary>
    public static string ChannelKey(string channel) => ChannelKeyPrefix + channel;

    /// <summary>A development token for <paramref name="agentId"/> (roles: agent, unless given), valid 12 hours.</summary>
    public static string AgentToken(string agentId, params string[] roles) =>
        AccessTokens.Issue(agentId, roles.Length == 0 ? [AccessTokens.AgentRole] : roles, SigningKey, DateTimeOffset.UtcNow.AddHours(12));
}
