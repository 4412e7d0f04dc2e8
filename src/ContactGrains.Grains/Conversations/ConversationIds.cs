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

    /// <summary>
    /// The id of the conversation numbered <paramref name="ordinal"/> (0 for the first) on the thread
    /// <paramref name="threadKey"/>, under <paramref name="seed"/> (<see cref="ConversationIdOptions.Seed"/>).
    /// </summary>
    public static string ForThread(string threadKey, int ordinal, string seed = "")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        ArgumentNullException.ThrowIfNull(seed);
        // The seed goes on the first line, which nothing else can reach (the label and a seed have no
        // line break): no key, ordinal and seed hash the same text as another.
        var text = seed.Length == 0 ? $"{Label}\n{threadKey}\n{ordinal}" : $"{Label}/{seed}\n{threadKey}\n{ordinal}";
        // 32 lowercase hex digits, the shape conversation ids have always had (a GUID's "N" format).
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return Convert.ToHexStringLower(hash[..16]);
    }
}

/// <summary>How a thread derives its conversations' ids (<see cref="ConversationIds"/>).</summary>
public sealed class ConversationIdOptions
{
    /// <summary>
    /// Empty where grain state is durable: a thread's ids must be the same after a restart, so that a
    /// start that failed halfway is retried on the same conversation. Storage that forgets every
    /// thread when its process ends (the development profile's) sets a random one per process.
    /// </summary>
    public string Seed { get; set; } = "";
}
