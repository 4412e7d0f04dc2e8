namespace ContactGrains.Grains;

/// <summary>
/// A 64-bit FNV-1a hash of a string that is the same in every process and version (unlike
/// string.GetHashCode), because what it decides is stored: the conversation's deduplication index
/// keeps message ids as these hashes (with a few hundred ids per conversation, two different ids
/// collide about once in 10^13), and a queue stores each waiting conversation in the partition its
/// id hashes to.
/// </summary>
internal static class StableHash
{
    private const ulong Offset = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    public static ulong Of(string value)
    {
        var hash = Offset;
        foreach (var c in value)
        {
            hash = (hash ^ (byte)c) * Prime;
            hash = (hash ^ (byte)(c >> 8)) * Prime;
        }

        return hash;
    }
}
