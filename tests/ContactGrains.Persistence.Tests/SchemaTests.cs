using System.Text.RegularExpressions;

namespace ContactGrains.Persistence.Tests;

/// <summary>The migration against the providers' contract: which queries exist and what they bind.</summary>
[Collection(PostgresCollection.Name)]
public sealed partial class SchemaTests(PostgresFixture fixture)
{
    private static readonly string[] StorageIdentity =
        ["GrainIdHash", "GrainIdN0", "GrainIdN1", "GrainTypeHash", "GrainTypeString", "GrainIdExtensionString", "ServiceId"];

    /// <summary>
    /// Every query key the three providers (Orleans 10.4.2) look up, with the parameters the provider
    /// binds for it. A query may use fewer, never others: an unbound @Name is a syntax error at run time.
    /// </summary>
    private static readonly Dictionary<string, string[]> ProviderQueries = new(StringComparer.Ordinal)
    {
        // Clustering (silos and clients). CleanupDefunctSiloEntryKey is optional and deliberately absent.
        ["GatewaysQueryKey"] = ["DeploymentId", "Status"],
        ["MembershipReadRowKey"] = ["DeploymentId", "Address", "Port", "Generation"],
        ["MembershipReadAllKey"] = ["DeploymentId"],
        ["InsertMembershipVersionKey"] = ["DeploymentId"],
        ["InsertMembershipKey"] = ["DeploymentId", "Address", "Port", "Generation", "SiloName", "HostName", "Status", "ProxyPort", "StartTime", "IAmAliveTime", "Version"],
        ["UpdateMembershipKey"] = ["DeploymentId", "Address", "Port", "Generation", "Status", "SuspectTimes", "IAmAliveTime", "Version"],
        ["UpdateIAmAlivetimeKey"] = ["DeploymentId", "Address", "Port", "Generation", "IAmAliveTime"],
        ["DeleteMembershipTableEntriesKey"] = ["DeploymentId"],
        ["CleanupDefunctSiloEntriesKey"] = ["DeploymentId", "IAmAliveTime"],

        // The ADO.NET grain storage, which databases written before 0002 used: its rows are still
        // read (and copied) by ContactGrains' storage, and the upgrade test writes them with it.
        ["ReadFromStorageKey"] = StorageIdentity,
        ["WriteToStorageKey"] = [.. StorageIdentity, "GrainStateVersion", "PayloadBinary"],
        ["ClearStorageKey"] = [.. StorageIdentity, "GrainStateVersion"],
        ["DeleteStorageKey"] = [.. StorageIdentity, "GrainStateVersion"],

        // Reminders.
        ["ReadReminderRowsKey"] = ["ServiceId", "GrainId"],
        ["ReadRangeRows1Key"] = ["ServiceId", "BeginHash", "EndHash"],
        ["ReadRangeRows2Key"] = ["ServiceId", "BeginHash", "EndHash"],
        ["ReadReminderRowKey"] = ["ServiceId", "GrainId", "ReminderName"],
        ["UpsertReminderRowKey"] = ["ServiceId", "GrainHash", "GrainId", "ReminderName", "StartTime", "Period"],
        ["DeleteReminderRowKey"] = ["ServiceId", "GrainId", "ReminderName", "Version"],
        ["DeleteReminderRowsKey"] = ["ServiceId"],
    };

    [Fact]
    public async Task Migrating_an_empty_database_creates_exactly_the_queries_the_providers_need()
    {
        var connectionString = await fixture.CreateEmptyDatabaseAsync("schema");

        var applied = await SchemaMigrator.MigrateAsync(connectionString);

        Assert.Equal(["0001_orleans_providers", "0002_grain_state_rows"], applied);
        // The providers' own statement, unquoted: it must resolve to our lower-case table and columns.
        var queries = await Sql.ReadAsync(connectionString, "SELECT QueryKey, QueryText FROM OrleansQuery",
            row => (Key: row.GetString(0), Text: row.GetString(1)));
        Assert.Equal(ProviderQueries.Keys.Order(StringComparer.Ordinal), queries.Select(q => q.Key).Order(StringComparer.Ordinal));
        foreach (var (key, text) in queries)
        {
            var used = ParameterPattern().Matches(text).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
            var unbound = used.Except(ProviderQueries[key], StringComparer.Ordinal).ToList();
            Assert.True(unbound.Count == 0, $"{key} uses parameters the provider does not bind: {string.Join(", ", unbound)}");
            Assert.NotEmpty(used);
        }
    }

    [Fact]
    public async Task Migrating_creates_the_provider_tables_and_nothing_named_in_mixed_case()
    {
        var connectionString = await fixture.CreateEmptyDatabaseAsync("schema");
        await SchemaMigrator.MigrateAsync(connectionString);

        var tables = await Sql.ReadAsync(connectionString,
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
            row => row.GetString(0));
        var mixedCase = await Sql.ScalarAsync<long>(connectionString,
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' AND (column_name <> lower(column_name) OR table_name <> lower(table_name))");

        Assert.Equal(
            ["contactgrains_grain_state", "contactgrains_schema_migrations", "orleans_grain_state", "orleans_membership", "orleans_membership_version", "orleans_reminders", "orleansquery"],
            tables);
        Assert.Equal(0, mixedCase);
    }

    [Fact]
    public async Task Migrating_twice_applies_nothing_the_second_time()
    {
        var connectionString = await fixture.CreateEmptyDatabaseAsync("schema");

        var first = await SchemaMigrator.MigrateAsync(connectionString);
        var second = await SchemaMigrator.MigrateAsync(connectionString);

        Assert.Equal(["0001_orleans_providers", "0002_grain_state_rows"], first);
        Assert.Empty(second);
        Assert.Equal((long)SchemaMigrator.Migrations.Count, await Sql.ScalarAsync<long>(connectionString, $"SELECT count(*) FROM {SchemaMigrator.HistoryTable}"));
        Assert.Equal((long)ProviderQueries.Count, await Sql.ScalarAsync<long>(connectionString, "SELECT count(*) FROM orleansquery"));
    }

    [Fact]
    public void The_migrations_leave_transactions_to_the_migrator()
    {
        Assert.NotEmpty(SchemaMigrator.Migrations);
        foreach (var migration in SchemaMigrator.Migrations)
        {
            Assert.DoesNotMatch(TransactionControlPattern(), migration.Sql);
            Assert.DoesNotContain(SchemaMigrator.HistoryTable, migration.Sql, StringComparison.OrdinalIgnoreCase);
        }
    }

    [GeneratedRegex(@"@([A-Za-z][A-Za-z0-9]*)")]
    private static partial Regex ParameterPattern();

    [GeneratedRegex(@"^\s*(BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION)\b", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex TransactionControlPattern();
}
