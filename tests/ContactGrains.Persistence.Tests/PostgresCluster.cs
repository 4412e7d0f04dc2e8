using System.Reflection;
using ContactGrains.Bot;
using ContactGrains.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace ContactGrains.Persistence.Tests;

/// <summary>
/// In-process clusters on the durable profile: ADO.NET clustering and reminders and ContactGrains'
/// grain storage on PostgreSQL, configured as the silo host does. Starting a second cluster on the same database and
/// ServiceId is a full restart: nothing survives but what is in the database.
/// </summary>
internal static class PostgresCluster
{
    public const string Invariant = "Npgsql";

    /// <summary>
    /// Orleans' ADO.NET grain storage, as silos stored grain state before ContactGrains' own storage:
    /// the upgrade tests write rows with it that the default storage must find.
    /// </summary>
    public const string LegacyStorage = "adonet";

    private static readonly Lazy<KnowledgeBase> SampleKnowledgeBase = new(() => KnowledgeBase.Load(KnowledgeBase.DefaultPath));

    public static async Task<InProcessTestCluster> StartAsync(
        string connectionString,
        string serviceId,
        string clusterId,
        short silos = 1,
        Action<ISiloBuilder>? configureSilo = null)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ServiceId = serviceId;
        builder.Options.ClusterId = clusterId;
        UseConfiguredMembership(builder.Options);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureHost(host => host.Services.AddContactGrainsDomain(SampleKnowledgeBase.Value));
        builder.ConfigureSilo((_, silo) =>
        {
            silo.UseContactGrainsPostgreSql(connectionString, StorageNames.Default);
            silo.AddAdoNetGrainStorage(LegacyStorage, storage => storage.Configure<Serializer>((o, serializer) =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = connectionString;
                o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
            }));
            configureSilo?.Invoke(silo);
        });
        builder.ConfigureClient(client => client.UseAdoNetClustering(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
        }));

        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>
    /// Orleans 10.4.2 keeps InProcessTestClusterOptions.UseTestClusterMembership internal. Left at
    /// true, the cluster registers its in-memory membership table (and gateway list) after ours, and
    /// ADO.NET clustering would be configured but never used. The membership tests check the rows.
    /// </summary>
    private static void UseConfiguredMembership(InProcessTestClusterOptions options)
    {
        var property = typeof(InProcessTestClusterOptions).GetProperty("UseTestClusterMembership", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("InProcessTestClusterOptions.UseTestClusterMembership no longer exists: find the new way to turn off the test membership table.");
        property.SetValue(options, false);
    }

    /// <summary>A service provider of one silo: its storage providers, reminder table, serializer.</summary>
    public static IServiceProvider SiloServices(this InProcessTestCluster cluster, int index = 0) =>
        cluster.GetSiloServiceProvider(cluster.Silos[index].SiloAddress);
}
