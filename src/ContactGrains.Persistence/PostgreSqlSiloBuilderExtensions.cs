using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;

namespace ContactGrains.Persistence;

/// <summary>The Orleans providers on PostgreSQL, set up once for the silo host and the tests alike.</summary>
public static class PostgreSqlSiloBuilderExtensions
{
    /// <summary>The ADO.NET invariant of Npgsql.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>
    /// Clustering, grain storage (provider <paramref name="storageName"/>) and reminders in the
    /// PostgreSQL database at <paramref name="connectionString"/>, whose schema
    /// <see cref="SchemaMigrator"/> created.
    /// </summary>
    public static ISiloBuilder UseContactGrainsPostgreSql(this ISiloBuilder silo, string connectionString, string storageName)
    {
        // A database failure in a grain on another silo must reach the caller as what it is (so it
        // maps to UNAVAILABLE), not as an exception Orleans refuses to serialize.
        silo.Services.Configure<ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("Npgsql"));
        silo.UseAdoNetClustering(clustering =>
        {
            clustering.Invariant = Invariant;
            clustering.ConnectionString = connectionString;
        });
        silo.AddAdoNetGrainStorage(storageName, storage => storage.Configure<Serializer>((o, serializer) =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
            // Orleans' own binary format: it round-trips every [GenerateSerializer] type, grain and
            // observer references included, and is versioned by [Id]. The providers' default
            // (Newtonsoft JSON) cannot represent grain references.
            o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        }));
        silo.UseAdoNetReminderService(reminders =>
        {
            reminders.Invariant = Invariant;
            reminders.ConnectionString = connectionString;
        });
        return silo;
    }
}
