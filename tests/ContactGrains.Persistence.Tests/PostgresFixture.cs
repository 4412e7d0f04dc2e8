using System.Collections.Concurrent;
using ContactGrains.Testing;
using Orleans.TestingHost;

namespace ContactGrains.Persistence.Tests;

/// <summary>
/// One throwaway PostgreSQL server for the whole assembly. Each test class gets its own database
/// with the schema applied by <see cref="SchemaMigrator"/>, exactly as a deployment would; tests in
/// a class keep apart by ServiceId and ClusterId, as services sharing a database do.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _databases = new(StringComparer.Ordinal);
    private readonly Lazy<Task<SharedCluster>> _sharedCluster;
    private int _created;

    public PostgresFixture() => _sharedCluster = new(StartSharedClusterAsync);

    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_sharedCluster.IsValueCreated && _sharedCluster.Value.IsCompletedSuccessfully)
        {
            await _sharedCluster.Value.Result.Cluster.DisposeAsync();
        }

        await Server.DisposeAsync();
    }

    /// <summary>
    /// One single-silo cluster for tests that only need a silo's providers (storage, reminder table):
    /// they keep apart by grain id and state name, not by cluster.
    /// </summary>
    public Task<SharedCluster> SharedClusterAsync() => _sharedCluster.Value;

    /// <summary>The migrated database shared by the tests of one class, created on first use.</summary>
    public Task<string> DatabaseAsync(string owner) =>
        _databases.GetOrAdd(owner, name => new Lazy<Task<string>>(() => CreateMigratedDatabaseAsync(name))).Value;

    /// <summary>A new database with no schema at all.</summary>
    public Task<string> CreateEmptyDatabaseAsync(string prefix) =>
        Server.CreateDatabaseAsync($"{prefix.ToLowerInvariant()}_{Interlocked.Increment(ref _created)}");

    private async Task<SharedCluster> StartSharedClusterAsync()
    {
        var connectionString = await DatabaseAsync("shared");
        var serviceId = TestIds.Unique("shared");
        var cluster = await PostgresCluster.StartAsync(connectionString, serviceId, TestIds.Unique("cluster"));
        return new SharedCluster(connectionString, serviceId, cluster);
    }

    private async Task<string> CreateMigratedDatabaseAsync(string owner)
    {
        var connectionString = await CreateEmptyDatabaseAsync(owner);
        await SchemaMigrator.MigrateAsync(connectionString);
        return connectionString;
    }
}

public sealed record SharedCluster(string ConnectionString, string ServiceId, InProcessTestCluster Cluster);

/// <summary>Every test class shares the server, and runs one at a time: the machine has two cores.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
