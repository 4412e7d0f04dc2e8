using Orleans.Serialization;
using Orleans.Storage;

namespace ContactGrains.Grains;

/// <summary>Names of the grain storage providers the grains are written against.</summary>
public static class StorageNames
{
    /// <summary>Conversations, threads, customers, agents and queues. Memory in the dev profile, PostgreSQL in production.</summary>
    public const string Default = "contactgrains";

    /// <summary>
    /// Memory grain storage that stores state in Orleans' own binary format, as the PostgreSQL
    /// profile does. With the memory provider's default (Newtonsoft JSON), an agent grain's state
    /// failed to load after a deactivation, so the agent could not be used again in the dev profile.
    /// </summary>
    public static ISiloBuilder AddContactGrainsMemoryStorage(this ISiloBuilder silo, string name = Default) =>
        silo.AddMemoryGrainStorage(name, options => options.Configure<Serializer>((o, serializer) =>
            o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer)));
}
