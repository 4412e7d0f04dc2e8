using ContactGrains.Contracts;
using ContactGrains.Grains;
using ContactGrains.Grains.Conversations;
using ContactGrains.Grains.Customers;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using static ContactGrains.Persistence.Tests.TestIds;

namespace ContactGrains.Persistence.Tests;

/// <summary>
/// Optimistic concurrency on the version column: a writer holding a stale version fails loudly and
/// never overwrites, for first inserts, updates and clears alike.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ConcurrencyTests(PostgresFixture fixture)
{
    // Each test writes its own state name, so row counts in the shared database are its own.
    private readonly string _stateName = Unique("state");

    // Keys that look like a GUID and keys that do not must behave the same (the ADO.NET storage
    // stored them differently; rows it wrote are still read, see StorageUpgradeTests).
    public static TheoryData<string> Keys() => new() { "string-key", "guid-key" };

    private static GrainId NewGrainId(string kind) =>
        GrainId.Create("cg-test", kind == "guid-key" ? Guid.NewGuid().ToString("N") : Unique("customer"));

    private async Task<IGrainStorage> StorageAsync(string name = StorageNames.Default) =>
        (await fixture.SharedClusterAsync()).Cluster.SiloServices().GetRequiredKeyedService<IGrainStorage>(name);

    private async Task<GrainState<CustomerState>> ReadAsync(IGrainStorage storage, GrainId id)
    {
        var state = new GrainState<CustomerState>();
        await storage.ReadStateAsync(_stateName, id, state);
        return state;
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public async Task Second_writer_at_the_same_version_fails_and_the_first_write_stays(string key)
    {
        var id = NewGrainId(key);
        var storage = await StorageAsync();
        var seed = await ReadAsync(storage, id);
        Assert.False(seed.RecordExists);
        Assert.Null(seed.ETag);
        seed.State!.DisplayName = "seed";
        await storage.WriteStateAsync(_stateName, id, seed);
        Assert.Equal("1", seed.ETag);

        var first = await ReadAsync(storage, id);
        var second = await ReadAsync(storage, id);
        Assert.Equal("1", first.ETag);
        Assert.Equal("1", second.ETag);

        first.State!.DisplayName = "first";
        await storage.WriteStateAsync(_stateName, id, first);
        second.State!.DisplayName = "second";
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(_stateName, id, second));

        var reread = await ReadAsync(storage, id);
        Assert.True(reread.RecordExists);
        Assert.Equal("2", reread.ETag);
        Assert.Equal("first", reread.State!.DisplayName);
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public async Task Two_first_writers_cannot_both_insert(string key)
    {
        var id = NewGrainId(key);
        var storage = await StorageAsync();
        var first = await ReadAsync(storage, id);
        var second = await ReadAsync(storage, id);

        first.State!.DisplayName = "first";
        await storage.WriteStateAsync(_stateName, id, first);
        second.State!.DisplayName = "second";
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(_stateName, id, second));

        var reread = await ReadAsync(storage, id);
        Assert.Equal("1", reread.ETag);
        Assert.Equal("first", reread.State!.DisplayName);
        Assert.Equal(1L, await RowCountAsync());

        // The key as stored: exactly Orleans' key string, whatever it looks like.
        var shared = await fixture.SharedClusterAsync();
        Assert.Equal([id.Key.ToString()], await Sql.ReadAsync(shared.ConnectionString,
            "SELECT grain_key FROM contactgrains_grain_state WHERE service_id = @service AND state_name = @state",
            row => row.GetString(0), ("service", shared.ServiceId), ("state", _stateName)));
    }

    [Fact]
    public async Task Of_many_simultaneous_writers_at_one_version_exactly_one_wins()
    {
        const int writers = 8;
        var id = NewGrainId("string-key");
        var storage = await StorageAsync();

        // Simultaneous first inserts: the unique index decides.
        var inserts = await Task.WhenAll(Enumerable.Range(0, writers).Select(i => TryWriteAsync(storage, id, new GrainState<CustomerState>(new CustomerState()), $"insert-{i}")));
        // Simultaneous updates of version 1: the row lock and the version check decide.
        var updates = await Task.WhenAll(Enumerable.Range(0, writers).Select(i =>
            TryWriteAsync(storage, id, new GrainState<CustomerState>(new CustomerState()) { ETag = "1", RecordExists = true }, $"update-{i}")));

        var inserted = Assert.Single(inserts, name => name is not null);
        var updated = Assert.Single(updates, name => name is not null);
        var stored = await ReadAsync(storage, id);
        Assert.Equal("2", stored.ETag);
        Assert.Equal(updated, stored.State!.DisplayName);
        Assert.StartsWith("insert-", inserted, StringComparison.Ordinal);
        Assert.Equal(1L, await RowCountAsync());
    }

    [Fact]
    public async Task Clear_keeps_counting_versions_and_refuses_a_stale_version()
    {
        var id = NewGrainId("string-key");
        var storage = await StorageAsync();
        var state = await ReadAsync(storage, id);
        state.State!.DisplayName = "to be cleared";
        await storage.WriteStateAsync(_stateName, id, state);
        var stale = await ReadAsync(storage, id);
        state.State!.DisplayName = "changed";
        await storage.WriteStateAsync(_stateName, id, state);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(_stateName, id, stale));
        await storage.ClearStateAsync(_stateName, id, state);

        Assert.Equal("3", state.ETag);
        var cleared = await ReadAsync(storage, id);
        Assert.Equal("3", cleared.ETag);
        Assert.Null(cleared.State!.DisplayName);
        // The cleared row remains, so the writer from before the clear still cannot overwrite.
        stale.State!.DisplayName = "stale";
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(_stateName, id, stale));
        cleared.State!.DisplayName = "after clear";
        await storage.WriteStateAsync(_stateName, id, cleared);
        Assert.Equal("4", cleared.ETag);
    }

    [Fact]
    public async Task Keys_that_differ_only_in_case_or_leading_zeros_are_different_grains()
    {
        // Orleans' ADO.NET storage read these as one hexadecimal integer (0xA1) and gave them one row.
        var storage = await StorageAsync();
        string[] keys = ["a1", "A1", "0a1"];
        foreach (var key in keys)
        {
            var state = await ReadAsync(storage, GrainId.Create("cg-test", key));
            Assert.False(state.RecordExists);
            state.State!.DisplayName = key;
            await storage.WriteStateAsync(_stateName, GrainId.Create("cg-test", key), state);
        }

        foreach (var key in keys)
        {
            var state = await ReadAsync(storage, GrainId.Create("cg-test", key));
            Assert.Equal(key, state.State!.DisplayName);
            Assert.Equal("1", state.ETag);
        }

        Assert.Equal(3L, await RowCountAsync());
    }

    [Fact]
    public async Task A_version_changed_underneath_a_live_conversation_fails_the_turn_and_the_next_turn_runs_on_what_is_stored()
    {
        var connectionString = await fixture.DatabaseAsync(nameof(ConcurrencyTests));
        var serviceId = Unique("service");
        await using var cluster = await PostgresCluster.StartAsync(connectionString, serviceId, Unique("cluster"));
        var grains = cluster.Client;
        var started = await grains.GetGrain<IConversationThreadGrain>(GrainKeys.Thread(Channel, Unique("thread")))
            .GetOrStart(Customer(Unique("cust")), knownClosedId: null);
        var conversation = grains.GetGrain<IConversationGrain>(started!.ConversationId);
        var accepted = await conversation.ReceiveCustomerMessage(Message("m1", "Where is my refund?"), deliverTo: null);
        Assert.Equal(3, accepted.LastSequence);

        // Another writer (a second activation, an operator) moves the stored version on.
        var before = await StoredConversationRowAsync(connectionString, serviceId);
        Assert.Equal(1, await Sql.ExecuteAsync(connectionString,
            "UPDATE contactgrains_grain_state SET version = version + 1 WHERE service_id = @service AND state_name = 'conversation'",
            ("service", serviceId)));

        var failure = await Record.ExceptionAsync(() => conversation.ReceiveCustomerMessage(Message("m2", "When is my payment due?"), deliverTo: null));

        Assert.IsType<InconsistentStateException>(failure);
        // Not overwritten: the row is exactly what the other writer left.
        var after = await StoredConversationRowAsync(connectionString, serviceId);
        Assert.Equal(before.Version + 1, after.Version);
        Assert.Equal(before.Payload, after.Payload);

        // The activation reloaded (or was replaced): the next turn succeeds on top of what is stored,
        // and the failed message was never kept, so its resend is new, not a duplicate.
        var next = await conversation.ReceiveCustomerMessage(Message("m3", "How do I reset my password?"), deliverTo: null);
        var resend = await conversation.ReceiveCustomerMessage(Message("m2", "When is my payment due?"), deliverTo: null);

        Assert.Equal(InboundOutcome.Accepted, next.Outcome);
        Assert.Equal(4, next.Sequence);
        Assert.Equal(InboundOutcome.Accepted, resend.Outcome);
        Assert.Equal(6, resend.Sequence);
        Assert.Equal(7, resend.LastSequence);

        var stored = new GrainState<ConversationState>();
        await cluster.SiloServices().GetRequiredKeyedService<IGrainStorage>(StorageNames.Default).ReadStateAsync("conversation", conversation.GetGrainId(), stored);
        var snapshot = await conversation.GetSnapshot();
        Assert.Equal((before.Version + 3).ToString(System.Globalization.CultureInfo.InvariantCulture), stored.ETag);
        Assert.Equal(snapshot.LastSequence, stored.State!.LastSequence);
        // The stored deduplication index knows m1, m3 and m2 at the sequences they were accepted at.
        Assert.Equal(3, stored.State!.RecentMessageIds.Count);
        Assert.Equal([2L, 4L, 6L], new[] { "m1", "m3", "m2" }.Select(id => stored.State.RecentMessageIds.TryFind(id, out var sequence) ? sequence : -1));
    }

    private async Task<string?> TryWriteAsync(IGrainStorage storage, GrainId id, GrainState<CustomerState> state, string name)
    {
        state.State!.DisplayName = name;
        try
        {
            await storage.WriteStateAsync(_stateName, id, state);
            return name;
        }
        catch (InconsistentStateException)
        {
            return null;
        }
    }

    private async Task<long> RowCountAsync()
    {
        var shared = await fixture.SharedClusterAsync();
        return await Sql.ScalarAsync<long>(shared.ConnectionString,
            "SELECT count(*) FROM contactgrains_grain_state WHERE service_id = @service AND state_name = @state",
            ("service", shared.ServiceId), ("state", _stateName));
    }

    private static async Task<(long Version, byte[] Payload)> StoredConversationRowAsync(string connectionString, string serviceId) =>
        Assert.Single(await Sql.ReadAsync(connectionString,
            "SELECT version, payload FROM contactgrains_grain_state WHERE service_id = @service AND state_name = 'conversation'",
            row => (row.GetInt64(0), (byte[])row.GetValue(1)),
            ("service", serviceId)));
}
