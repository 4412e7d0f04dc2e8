using Microsoft.Extensions.DependencyInjection;
using System.Data.Common;
using Npgsql;
using Orleans.Configuration;
using Orleans.Serialization;
using ContactGrains.Persistence.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime.Hosting;

namespace ContactGrains.Persistence;

/// <summary>The Orleans providers on PostgreSQL, set up once for the silo host and the tests alike.</summary>
public static class PostgreSqlSiloBuilderExtensions
{
    /// <summary>The ADO.NET invariant of Npgsql.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>Seconds to open a connection (or wait for a pooled one), unless the connection string says otherwise (Npgsql's default: 15).</summary>
    public const int DefaultConnectTimeoutSeconds = 5;

    /// <summary>Seconds a command may run, unless the connection string says otherwise (Npgsql's default: 30).</summary>
    public const int DefaultCommandTimeoutSeconds = 5;

    /// <summary>
    /// Connections a silo may hold, unless the connection string says otherwise. Npgsql's default
    /// (100) is more than PostgreSQL lets an ordinary role open (100 slots, 3 reserved for
    /// superusers): under load the pool would grow past the server's limit and every write beyond
    /// it would be refused. 20 per silo leaves room for several silos, and more connections than a
    /// few per database core only queue inside PostgreSQL instead of here.
    /// </summary>
    public const int DefaultMaxPoolSize = 20;

    /// <summary>
    /// Clustering (Orleans' ADO.NET provider), grain storage (provider <paramref name="storageName"/>,
    /// <see cref="PostgreSqlGrainStorage"/>) and reminders (<see cref="PostgreSqlReminderTable"/>) in the
    /// PostgreSQL database at <paramref name="connectionString"/>, whose schema
    /// <see cref="SchemaMigrator"/> created.
    /// </summary>
    public static ISiloBuilder UseContactGrainsPostgreSql(
        this ISiloBuilder silo,
        string connectionString,
        string storageName,
        Action<GroupCommitOptions>? configureGroupCommit = null)
    {
        connectionString = WithSiloDefaults(connectionString);
        // A database failure in a grain on another silo must reach the caller as what it is (so it
        // maps to UNAVAILABLE), not as an exception Orleans refuses to serialize.
        silo.Services.Configure<ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("Npgsql"));
        silo.UseAdoNetClustering(clustering =>
        {
            clustering.Invariant = Invariant;
            clustering.ConnectionString = connectionString;
        });
        // Grain state and reminders: ContactGrains' own, sending the changes that arrive together in
        // one transaction (docs/architecture.md, "Durable state: group commit").
        silo.Services.AddOptions<GroupCommitOptions>();
        if (configureGroupCommit is not null)
        {
            silo.Services.Configure(configureGroupCommit);
        }

        silo.Services.AddSingleton(services => new GroupCommit(
            connectionString,
            services.GetRequiredService<IOptions<GroupCommitOptions>>().Value,
            services.GetRequiredService<ILogger<GroupCommit>>()));
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services => services.GetRequiredService<GroupCommit>());
        silo.Services.AddGrainStorage(storageName, (services, _) => new PostgreSqlGrainStorage(
            services.GetRequiredService<GroupCommit>(),
            services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
            services.GetRequiredService<Serializer>(),
            services.GetRequiredService<ILogger<PostgreSqlGrainStorage>>()));
        silo.AddReminders();
        silo.Services.AddSingleton<IReminderTable>(services => new PostgreSqlReminderTable(
            services.GetRequiredService<GroupCommit>(),
            services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId));
        return silo;
    }

    /// <summary>
    /// The silo's connection settings, where the connection string does not set its own:
    /// <list type="bullet">
    /// <item>short timeouts: a state write takes milliseconds, so when the database is gone or hangs a
    /// caller should hear so in seconds, not after Npgsql's defaults (15 s to connect, 30 s per command);</item>
    /// <item>a pool within PostgreSQL's default connection limit (<see cref="DefaultMaxPoolSize"/>);</item>
    /// <item>no <c>DISCARD ALL</c> when a connection returns to the pool: the providers' statements set
    /// no session state, so resetting it would be one more round trip per transaction for nothing.</item>
    /// </list>
    /// </summary>
    public static string WithSiloDefaults(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString }.Keys
            .Cast<string>()
            .Select(key => key.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant())
            .ToHashSet();
        if (!given.Contains("TIMEOUT"))
        {
            builder.Timeout = DefaultConnectTimeoutSeconds;
        }

        if (!given.Contains("COMMANDTIMEOUT"))
        {
            builder.CommandTimeout = DefaultCommandTimeoutSeconds;
        }

        if (!given.Contains("MAXIMUMPOOLSIZE") && !given.Contains("MAXPOOLSIZE")) // the spellings Npgsql accepts
        {
            builder.MaxPoolSize = DefaultMaxPoolSize;
        }

        if (!given.Contains("NORESETONCLOSE"))
        {
            builder.NoResetOnClose = true;
        }

        return builder.ConnectionString;
    }
}
