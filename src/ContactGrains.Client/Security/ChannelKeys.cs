using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace ContactGrains.Client;

/// <summary>
/// API keys for channel adapters: random secrets, stored by the silo only as their SHA-256 (a key has
/// 256 random bits, so a fast hash is enough; nothing to guess from a leaked hash).
/// </summary>
public static class ChannelKeys
{
    /// <summary>The request header that carries a channel adapter's API key.</summary>
    public const string Header = "x-api-key";

    /// <summary>A new key: 32 random bytes, base64url, prefixed so it is recognisable in a secret store.</summary>
    public static string NewKey() => "cgk_" + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>What the silo's configuration stores for <paramref name="key"/>: its SHA-256, lowercase hex.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
