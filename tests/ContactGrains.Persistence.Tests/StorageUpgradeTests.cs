using ContactGrains.Contracts;
using ContactGrains.Grains;
using ContactGrains.Grains.Customers;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using static ContactGrains.Persistence.Tests.TestIds;

namespace ContactGrains.Persistence.Tests;

/// <summary>
/// A database whose grain state was written by Orleans' ADO.NET storage (before migration 0002):
/// after the upgrade every grain finds its state, at its version, and goes on from there.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StorageUpgradeTests(PostgresFixture fixture)
{
    private const string StateName = "customer";

    // Each way the ADO.NET storage identified a grain: GUID halves, a hexadecimal integer, the key itself.
    public static TheoryData<string> Keys() => new() { Guid.NewGuid().ToString("N"), "beef", "0A1", "webchat:cust-42" };

    [Theory]
    [MemberData(nameof(Keys))]
    public async Task A_grain_written_by_the_adonet_storage_is_read_at_its_version_and_written_on_from_there(string key)
    {
        var connectionString = await fixture.DatabaseAsync(nameof(StorageUpgradeTests));
        var serviceId = Unique("service");
        var id = GrainId.Create("customer", key);

        // Before the upgrade: two writes through the ADO.NET storage (version 2).
        await using (var before = await PostgresCluster.StartAsync(connectionString, serviceId, Unique("cluster")))
        {
            var legacy = before.SiloServices().GetRequiredKeyedService<IGrainStorage>(PostgresCluster.LegacyStorage);
            var state = new GrainState<CustomerState>(new CustomerState { DisplayName = "Ada", Language = "fr" });
            await legacy.WriteStateAsync(StateName, id, state);
            state.State!.Tier = CustomerTier.Vip;
            await legacy.WriteStateAsync(StateName, id, state);
            Assert.Equal("2", state.ETag);
        }

        // After: a silo that starts on this database finds the rows and copies each when first read.
        await using var after = await PostgresCluster.StartAsync(connectionString, serviceId, Unique("cluster"));
        var storage = after.SiloServices().GetRequiredKeyedService<IGrainStorage>(StorageNames.Default);
        var read = new GrainState<CustomerState>();
        await storage.ReadStateAsync(StateName, id, read);

        Assert.True(read.RecordExists);
        Assert.Equal("2", read.ETag);
        Assert.Equal(("Ada", "fr", CustomerTier.Vip), (read.State!.DisplayName, read.State.Language, read.State.Tier));
        Assert.Equal(2L, await Sql.ScalarAsync<long>(connectionString,
            "SELECT version FROM contactgrains_grain_state WHERE service_id = @service AND state_name = @state AND grain_key = @key",
            ("service", serviceId), ("state", StateName), ("key", key)));

        // A writer holding the ADO.NET version from before cannot overwrite what came after.
        read.State.DisplayName = "Ada L.";
        await storage.WriteStateAsync(StateName, id, read);
        Assert.Equal("3", read.ETag);
        var stale = new GrainState<CustomerState>(new CustomerState { DisplayName = "stale" }) { ETag = "2", RecordExists = true };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, id, stale));

        var reread = new GrainState<CustomerState>();
        await storage.ReadStateAsync(StateName, id, reread);
        Assert.Equal(("Ada L.", "3"), (reread.State!.DisplayName, reread.ETag));
    }

    [Fact]
    public async Task Another_service_in_the_same_database_does_not_see_the_rows()
    {
        var connectionString = await fixture.DatabaseAsync(nameof(StorageUpgradeTests));
        var serviceId = Unique("service");
        var id = GrainId.Create("customer", Unique("cust"));
        await using (var before = await PostgresCluster.StartAsync(connectionString, serviceId, Unique("cluster")))
        {
            var legacy = before.SiloServices().GetRequiredKeyedService<IGrainStorage>(PostgresCluster.LegacyStorage);
            await legacy.WriteStateAsync(StateName, id, new GrainState<CustomerState>(new CustomerState { DisplayName = "Ada" }));
        }

        await using var other = await PostgresCluster.StartAsync(connectionString, Unique("other-service"), Unique("cluster"));
        var read = new GrainState<CustomerState>();
        await other.SiloServices().GetRequiredKeyedService<IGrainStorage>(StorageNames.Default).ReadStateAsync(StateName, id, read);

        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
    }
}
