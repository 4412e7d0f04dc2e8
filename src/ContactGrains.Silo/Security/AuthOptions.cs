using System.Buffers;
using ContactGrains.Client;

namespace ContactGrains.Silo.Security;

/// <summary>
/// The "ContactGrains:Auth" section: who may call. Channel adapters present an API key, stored here
/// only as its SHA-256; agents and supervisors present a JWT signed with <see cref="SigningKey"/>.
/// </summary>
public sealed class AuthOptions
{
    public const string SectionName = "ContactGrains:Auth";

    /// <summary>
    /// Accept <see cref="ContactGrains.Client.DevelopmentCredentials"/> (keys and a signing key
    /// everyone knows). Unset: yes on the in-memory development profile when nothing else is
    /// configured, no otherwise. Never for a real deployment.
    /// </summary>
    public bool? DevelopmentCredentials { get; set; }

    /// <summary>One entry per key: a channel may have several (to rotate without downtime).</summary>
    public List<ChannelKey> Channels { get; set; } = [];

    /// <summary>The agent-token signing key, base64, at least 32 bytes (<c>ContactGrains.Silo key signing</c> makes one).</summary>
    public string? SigningKey { get; set; }

    public string Issuer { get; set; } = AccessTokens.DefaultIssuer;

    public string Audience { get; set; } = AccessTokens.DefaultAudience;

    public sealed class ChannelKey
    {
        /// <summary>The channel this key calls as (a-z, 0-9, '-', '_'; at most 32 characters).</summary>
        public string Channel { get; set; } = "";

        /// <summary>The key's SHA-256, hex (<c>ContactGrains.Silo key channel NAME</c> prints both).</summary>
        public string KeySha256 { get; set; } = "";
    }

    /// <summary>Whether development credentials are accepted, given whether the storage is in memory.</summary>
    public bool UsesDevelopmentCredentials(bool inMemoryProfile) =>
        DevelopmentCredentials ?? (inMemoryProfile && Channels.Count == 0 && string.IsNullOrEmpty(SigningKey));

    /// <summary>The signing key's bytes, or null when none is configured.</summary>
    public byte[]? SigningKeyBytes() => string.IsNullOrEmpty(SigningKey) ? null : Convert.FromBase64String(SigningKey);

    /// <summary>Why these settings cannot work, or null.</summary>
    public string? Validate(bool inMemoryProfile)
    {
        foreach (var key in Channels)
        {
            if (!ChannelNames.IsValid(key.Channel))
            {
                return $"{SectionName}:Channels has a key for channel '{Shorten(key.Channel)}': a channel is {ChannelNames.Rule}.";
            }

            if (key.KeySha256.Length != 64 || !key.KeySha256.All(char.IsAsciiHexDigit))
            {
                return $"{SectionName}:Channels: the key of channel '{key.Channel}' must be given as its SHA-256 in hex (64 characters); `ContactGrains.Silo key channel {key.Channel}` prints a new key and its hash.";
            }
        }

        if (Channels.GroupBy(k => k.KeySha256.ToLowerInvariant()).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
        {
            return $"{SectionName}:Channels lists one key twice (for {string.Join(" and ", duplicate.Select(k => $"'{k.Channel}'"))}): each key calls as exactly one channel; make a new key with `ContactGrains.Silo key channel NAME`.";
        }

        byte[]? signingKey;
        try
        {
            signingKey = SigningKeyBytes();
        }
        catch (FormatException)
        {
            return $"{SectionName}:SigningKey is not base64; `ContactGrains.Silo key signing` prints a new one.";
        }

        if (signingKey is { Length: < AccessTokens.MinSigningKeyBytes })
        {
            return $"{SectionName}:SigningKey is {signingKey.Length} bytes; it needs at least {AccessTokens.MinSigningKeyBytes} (`ContactGrains.Silo key signing` prints one).";
        }

        if (signingKey is not null && signingKey.AsSpan().SequenceEqual(ContactGrains.Client.DevelopmentCredentials.SigningKey))
        {
            return $"{SectionName}:SigningKey is the published development key; `ContactGrains.Silo key signing` prints a real one.";
        }

        if (!UsesDevelopmentCredentials(inMemoryProfile) && (Channels.Count == 0 || signingKey is null))
        {
            return $"this profile needs credentials: {SectionName}:Channels (an API key hash per channel adapter; `ContactGrains.Silo key channel NAME` makes one) and {SectionName}:SigningKey (for agent tokens; `ContactGrains.Silo key signing`). "
                + $"Set {SectionName}:DevelopmentCredentials=true only for tests on one machine.";
        }

        return null;
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";
}

/// <summary>The rule for channel names (they appear in keys, grain keys and metrics).</summary>
public static class ChannelNames
{
    public const int MaxLength = 32;

    public const string Rule = "1 to 32 characters from a-z, 0-9, '-' and '_'";

    private static readonly SearchValues<char> Allowed = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-_");

    public static bool IsValid(string? channel) =>
        channel is { Length: > 0 and <= MaxLength } && !channel.AsSpan().ContainsAnyExcept(Allowed);
}
