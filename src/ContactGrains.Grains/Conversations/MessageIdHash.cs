namespace ContactGrains.Grains.Conversations;

/// <summary>
/// A stable 64-bit FNV-1a hash of an adapter message id, for the deduplication index. Stable across
/// processes and versions (unlike string.GetHashCode), because it is stored. With a few hundred ids
/// per conversation, the chance that two different ids collide is about 1 in 10^13.
/// </summary>
internal static class MessageIdHash
{
    private const ulong Offset = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    public static ulong Of(string id)
    {
        var hash = Offset;
        foreach (var c in id)
        {
            hash = (hash ^ (byte)c) * Prime;
            hash = (hash ^ (byte)(c >> 8)) * Prime;
        }

        return hash;
    }
}
