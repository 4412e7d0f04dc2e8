using ContactGrains.Testing;
using Npgsql;

namespace ContactGrains.Persistence.Tests;

/// <summary>What a silo in the PostgreSQL profile says before it starts, when the database is not usable.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ReadinessTests(PostgresFixture fixture)
{
    private const string Migrate = "<migrate command>";

    [Fact]
    public async Task Database_without_the_schema_is_refused_with_the_command_that_creates_it()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync($"empty_{Guid.NewGuid():N}");

        var problem = await DatabaseReadiness.CheckAsync(connectionString, Migrate);

        Assert.NotNull(problem);
        Assert.Contains("has no ContactGrains schema", problem, StringComparison.Ordinal);
        Assert.EndsWith(Migrate, problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrated_database_is_ready()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync($"ready_{Guid.NewGuid():N}");
        await SchemaMigrator.MigrateAsync(connectionString);

        Assert.Null(await DatabaseReadiness.CheckAsync(connectionString, Migrate));
    }

    [Fact]
    public async Task Database_from_a_newer_build_is_refused()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync($"newer_{Guid.NewGuid():N}");
        await SchemaMigrator.MigrateAsync(connectionString);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"INSERT INTO {SchemaMigrator.HistoryTable} (version, name, checksum) VALUES (999, 'future', 'x')", connection);
            await command.ExecuteNonQueryAsync();
        }

        var problem = await DatabaseReadiness.CheckAsync(connectionString, Migrate);

        Assert.Contains("is at schema version 999, newer than this build knows", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_server_is_named_with_its_host_and_port()
    {
        var port = FreePorts.Next();

        var problem = await DatabaseReadiness.CheckAsync($"Host=127.0.0.1;Port={port};Database=contactgrains;Username=postgres;Timeout=3", Migrate);

        Assert.NotNull(problem);
        Assert.StartsWith($"Cannot reach PostgreSQL at 127.0.0.1:{port}/contactgrains", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_connection_string_is_refused_before_any_connection()
    {
        var problem = await DatabaseReadiness.CheckAsync("Hots=127.0.0.1", Migrate);

        Assert.NotNull(problem);
        Assert.StartsWith("The PostgreSQL connection string is malformed", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Edited_migration_is_refused()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync($"edited_{Guid.NewGuid():N}");
        await SchemaMigrator.MigrateAsync(connectionString);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"UPDATE {SchemaMigrator.HistoryTable} SET checksum = 'edited' WHERE version = 1", connection);
            await command.ExecuteNonQueryAsync();
        }

        var error = await Assert.ThrowsAsync<SchemaException>(() => SchemaMigrator.MigrateAsync(connectionString));

        Assert.Contains("was changed after it was applied", error.Message, StringComparison.Ordinal);
    }
}
