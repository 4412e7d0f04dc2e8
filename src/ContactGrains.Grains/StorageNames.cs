namespace ContactGrains.Grains;

/// <summary>Names of the grain storage providers the grains are written against.</summary>
public static class StorageNames
{
    /// <summary>Conversations, threads and customers. Memory in the dev profile, PostgreSQL in production.</summary>
    public const string Default = "contactgrains";
}
