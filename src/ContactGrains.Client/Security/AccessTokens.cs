using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ContactGrains.Client;

/// <summary>
/// Issues the bearer tokens agents and supervisors call the agent API with: JWTs signed with
/// HMAC-SHA256, carrying the agent id (<c>sub</c>), a display name and roles. The silo validates them
/// with ASP.NET Core's JWT bearer handler against the same key, issuer and audience.
/// </summary>
public static class AccessTokens
{
    /// <summary>The role every agent desktop needs.</summary>
    public const string AgentRole = "agent";

    /// <summary>The role for supervisor operations (the agent directory, taking conversations over).</summary>
    public const string SupervisorRole = "supervisor";

    /// <summary>The issuer ContactGrains tokens carry unless configured otherwise.</summary>
    public const string DefaultIssuer = "contactgrains";

    /// <summary>The audience ContactGrains tokens carry unless configured otherwise.</summary>
    public const string DefaultAudience = "contactgrains";

    /// <summary>The smallest signing key accepted: 32 bytes (256 bits), as HMAC-SHA256 needs.</summary>
    public const int MinSigningKeyBytes = 32;

    /// <summary>A signed token for <paramref name="agentId"/> with <paramref name="roles"/>, valid until <paramref name="expires"/>.</summary>
    public static string Issue(
        string agentId, IReadOnlyCollection<string> roles, byte[] signingKey, DateTimeOffset expires,
        string issuer = DefaultIssuer, string audience = DefaultAudience, string? name = null, DateTimeOffset? now = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(agentId);
        if (signingKey.Length < MinSigningKeyBytes)
        {
            throw new ArgumentException($"The signing key is {signingKey.Length} bytes; it needs at least {MinSigningKeyBytes}.", nameof(signingKey));
        }

        var issuedAt = (now ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        var header = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["alg"] = "HS256", ["typ"] = "JWT" });
        var claims = new Dictionary<string, object>
        {
            ["iss"] = issuer,
            ["aud"] = audience,
            ["sub"] = agentId,
            ["iat"] = issuedAt,
            ["nbf"] = issuedAt,
            ["exp"] = expires.ToUnixTimeSeconds(),
            ["role"] = roles.ToArray(),
        };
        if (name is not null)
        {
            claims["name"] = name;
        }

        var signedPart = $"{Base64Url.EncodeToString(header)}.{Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(claims))}";
        var signature = HMACSHA256.HashData(signingKey, Encoding.ASCII.GetBytes(signedPart));
        return $"{signedPart}.{Base64Url.EncodeToString(signature)}";
    }

    /// <summary>A new random signing key, base64 (what ContactGrains:Auth:SigningKey holds).</summary>
    public static string NewSigningKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(MinSigningKeyBytes));
}
