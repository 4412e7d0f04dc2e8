using System.Security.Cryptography;
using System.Text;

namespace ContactGrains.Grains.Conversations;

/// <summary>
/// A thread's conversations have fixed ids: the n-th is derived from the thread's key and n. A start
/// that fails halfway (the conversation stored, the thread not) is therefore retried on the same
/// conversation without the thread storing the id it chose before starting it, which saves a write
/// on every new conversation's first message.
/// </summary>
internal static class ConversationIds
{
    // Part of the hashed text: a different derivation must change it, never reuse it.
    private const string Label = "contactgrains/conversation/v1";

    /// <summary>The id of the conversation numbered <paramref name="ordinal"/> (0 for the first) on the thread <paramref name="threadKey"/>.</summary>
    public static string ForThread(string threadKey, int ordinal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        // 32 lowercase hex digits, the shape conversation ids have always had (a GUID's "N" format).
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{Label}\n{threadKey}\n{ordinal}"), hash);
        return Convert.ToHexStringLower(hash[..16]);
    }
}
