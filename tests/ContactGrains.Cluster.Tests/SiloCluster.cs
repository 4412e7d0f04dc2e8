using ContactGrains.Persistence;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Configuration;

namespace ContactGrains.Cluster.Tests;

/// <summary>
/// A cluster of silo processes on one database of a <see cref="PostgresServer"/>: its own database
/// (migrated with the shipped schema), ClusterId and ServiceId, so tests never share state.
/// Disposing it kills every silo it started, whatever happened in the test.
/// </summary>
internal sealed class SiloCluster : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly List<SiloProcess> _silos = [];
    private readonly string _root;
    private readonly string _logDirectory;
    private readonly string _siloDll;
    private readonly IReadOnlyDictionary<string, string> _settings;
    private IHost? _client;

    private SiloCluster(string connectionString, string clusterId, string serviceId, IReadOnlyDictionary<string, string> settings)
    {
        ConnectionString = connectionString;
        ClusterId = clusterId;
        ServiceId = serviceId;
        _settings = settings;
        _root = Directory.CreateTempSubdirectory("contactgrains-cluster-").FullName;
        _logDirectory = Directory.CreateDirectory(Path.Combine(_root, "logs")).FullName;
        try
        {
            _siloDll = SiloBinary.CopyTo(Path.Combine(_root, "silo"));
        }
        catch
        {
            Directory.Delete(_root, recursive: true);
            throw;
        }
    }

    public string ConnectionString { get; }

    public string ClusterId { get; }

    public string ServiceId { get; }

    public IReadOnlyList<SiloProcess> Silos => _silos;

    /// <summary>Where the silos' output goes; deleted on dispose unless <see cref="KeepLogs"/>.</summary>
    public string LogDirectory => _logDirectory;

    /// <summary>Set when a test failed: its logs stay for a person to read.</summary>
    public bool KeepLogs { get; set; }

    /// <summary>
    /// Creates and migrates a fresh database, then starts <paramref name="silos"/> silos and waits until each serves.
    /// <paramref name="settings"/> ("Section:Key" to value, e.g. "ContactGrains:Routing:OfferTimeout") go to
    /// every silo of the cluster, also those started later, after the defaults.
    /// </summary>
    public static async Task<SiloCluster> StartAsync(PostgresServer postgres, string name, int silos, IReadOnlyDictionary<string, string>? settings = null)
    {
        SiloBinary.Require();
        var unique = $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];
        var databaseName = unique.Replace('-', '_');
        var database = await postgres.CreateDatabaseAsync(databaseName);
        await MakeCommitsDurableAsync(postgres, databaseName);
        await SchemaMigrator.MigrateAsync(database);

        // Each silo gets a bounded pool, so three silos under load stay below the server's 300 connections.
        var siloConnectionString = new NpgsqlConnectionStringBuilder(database) { MaxPoolSize = 40 }.ConnectionString;
        var cluster = new SiloCluster(siloConnectionString, unique, unique, settings ?? new Dictionary<string, string>());
        try
        {
            await cluster.StartSilosAsync(silos);
            return cluster;
        }
        catch (Exception ex)
        {
            // A silo that did not start is a failure too: its whole log stays for a person to read.
            cluster.KeepLogs = true;
            await cluster.DisposeAsync();
            throw new InvalidOperationException($"{ex.Message}\n(Every silo's whole log is kept in {cluster.LogDirectory}.)", ex);
        }
    }

    /// <summary>
    /// The throwaway server runs with synchronous_commit=off (speed): a commit is acknowledged before
    /// its WAL is written, and an immediate stop loses the last few hundred milliseconds of commits.
    /// The silos then rightly report as stored what the database later forgets. These tests crash the
    /// database on purpose, so their database commits durably, as a production server does: a
    /// per-database setting outranks the server's command line.
    /// </summary>
    private static async Task MakeCommitsDurableAsync(PostgresServer postgres, string databaseName)
    {
        await using var connection = new NpgsqlConnection(postgres.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"ALTER DATABASE \"{databaseName}\" SET synchronous_commit = on", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Starts more silos in this cluster (or, with another ClusterId, a new cluster on the same storage).</summary>
    public async Task<IReadOnlyList<SiloProcess>> StartSilosAsync(int count, string? clusterId = null)
    {
        var started = new List<SiloProcess>();
        for (var i = 0; i < count; i++)
        {
            var settings = new SiloSettings($"silo-{_silos.Count}", ConnectionString, clusterId ?? ClusterId, ServiceId) { Extra = _settings };
            var silo = SiloProcess.Start(settings, _siloDll, _logDirectory);
            _silos.Add(silo);
            started.Add(silo);
        }

        await Task.WhenAll(started.Select(s => s.WaitReadyAsync(StartTimeout)));
        return started;
    }

    /// <summary>An Orleans client of this cluster (through the membership table's gateways), for IManagementGrain.</summary>
    public async Task<IClusterClient> ClientAsync()
    {
        if (_client is null)
        {
            var host = new HostBuilder()
                .UseOrleansClient(client => client
                    .UseAdoNetClustering(o =>
                    {
                        o.Invariant = "Npgsql";
                        o.ConnectionString = ConnectionString;
                    })
                    .Configure<ClusterOptions>(o =>
                    {
                        o.ClusterId = ClusterId;
                        o.ServiceId = ServiceId;
                    }))
                .Build();
            await host.StartAsync().WaitAsync(StartTimeout);
            _client = host;
        }

        return _client.Services.GetRequiredService<IClusterClient>();
    }

    /// <summary>Which silo process has this silo port.</summary>
    public SiloProcess BySiloPort(int siloPort) =>
        _silos.SingleOrDefault(s => s.Settings.SiloPort == siloPort)
        ?? throw new InvalidOperationException($"No silo of this cluster has silo port {siloPort}.");

    /// <summary>Every silo's log tail, for failure messages.</summary>
    public string Diagnostics() => string.Join("\n", _silos.Select(s => s.LogTail()));

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            try
            {
                // Silos may be dead already: do not wait for a polite goodbye.
                using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _client.StopAsync(patience.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or OrleansException or TimeoutException)
            {
                // Nothing to say goodbye to.
            }

            _client.Dispose();
        }

        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }

        try
        {
            Directory.Delete(KeepLogs ? Path.Combine(_root, "silo") : _root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a dying process: the temp folder keeps it.
        }
    }
}
