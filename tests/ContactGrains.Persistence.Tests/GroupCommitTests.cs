using ContactGrains.Grains;
using ContactGrains.Grains.Customers;
using ContactGrains.Persistence.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Storage;
using static ContactGrains.Persistence.Tests.TestIds;

namespace ContactGrains.Persistence.Tests;

/// <summary>
/// The grain storage's group commit: statements that arrive while others are in flight go to
/// PostgreSQL together, and each still succeeds or fails on its own version check.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class GroupCommitTests(PostgresFixture fixture)
{
    private readonly string _stateName = Unique("state");

    [Fact]
    public async Task Writes_that_queue_behind_a_busy_batch_share_one_transaction_and_a_stale_one_fails_alone()
    {
        var shared = await fixture.SharedClusterAsync();
        var storage = shared.Cluster.SiloServices().GetRequiredKeyedService<IGrainStorage>(StorageNames.Default);
        var groupCommit = shared.Cluster.SiloServices().GetRequiredService<GroupCommit>();

        // Grains that already have a row, at version 1.
        var ids = Enumerable.Range(0, 60).Select(i => GrainId.Create("cg-test", Unique($"g{i}"))).ToArray();
        var states = new List<GrainState<CustomerState>>();
        foreach (var id in ids)
        {
            var state = new GrainState<CustomerState>(new CustomerState { DisplayName = "v1" });
            await storage.WriteStateAsync(_stateName, id, state);
            states.Add(state);
        }

        await using var blocked = await BlockEveryLoopAsync(shared, storage);
        var loops = blocked.Stuck.Count;
        var before = groupCommit.Counts; // the stuck batches are counted already: they have started

        // 60 updates at the version they read, and 10 writes at a version their grains never had.
        var updates = states.Select((state, i) =>
        {
            state.State!.DisplayName = "v2";
            return storage.WriteStateAsync(_stateName, ids[i], state);
        }).ToArray();
        var staleWrites = ids.Take(10).Select(id => Record.ExceptionAsync(() =>
            storage.WriteStateAsync(_stateName, id, new GrainState<CustomerState>(new CustomerState { DisplayName = "stale" }) { ETag = "7", RecordExists = true }))).ToArray();

        await blocked.ReleaseAsync();
        await Task.WhenAll(updates);
        var staleFailures = await Task.WhenAll(staleWrites);
        // Of the stuck writes at version 1, one wins; the others find version 2.
        var stuckFailures = await Task.WhenAll(blocked.Stuck.Select(task => Record.ExceptionAsync(() => task)));

        var after = groupCommit.Counts;
        Assert.Equal(70, after.Statements - before.Statements);
        // What queued behind the stuck batches: one batch per loop at most, not 70.
        Assert.InRange(after.Batches - before.Batches, 1, loops);

        Assert.All(staleFailures, failure => Assert.IsType<InconsistentStateException>(failure));
        Assert.Single(stuckFailures, failure => failure is null);
        Assert.All(stuckFailures.Where(f => f is not null), failure => Assert.IsType<InconsistentStateException>(failure));
        for (var i = 0; i < ids.Length; i++)
        {
            var stored = new GrainState<CustomerState>();
            await storage.ReadStateAsync(_stateName, ids[i], stored);
            Assert.Equal("v2", stored.State!.DisplayName);
            Assert.Equal("2", stored.ETag);
            Assert.Equal("2", states[i].ETag);
        }
    }

    [Fact]
    public async Task States_of_every_size_written_at_once_each_come_back_as_written()
    {
        // Each write serializes into a pooled buffer that goes back to the pool once its batch has
        // ended: writes that share batches, some larger than the buffer's first size, must not see
        // each other's bytes.
        var shared = await fixture.SharedClusterAsync();
        var storage = shared.Cluster.SiloServices().GetRequiredKeyedService<IGrainStorage>(StorageNames.Default);
        var sizes = new[] { 0, 1, 100, 4_000, 8_000, 8_192, 9_000, 20_000, 70_000 };
        var writes = Enumerable.Range(0, 45).Select(i =>
        {
            var name = new string((char)('a' + i % 26), sizes[i % sizes.Length]) + $"#{i}";
            return (Id: GrainId.Create("cg-test", Unique($"size{i}")), Name: name);
        }).ToArray();

        await Task.WhenAll(writes.Select(w => storage.WriteStateAsync(_stateName, w.Id, new GrainState<CustomerState>(new CustomerState { DisplayName = w.Name }))));

        foreach (var (id, name) in writes)
        {
            var stored = new GrainState<CustomerState>();
            await storage.ReadStateAsync(_stateName, id, stored);
            Assert.Equal(name, stored.State!.DisplayName);
            Assert.Equal("1", stored.ETag);
        }
    }

    [Fact]
    public async Task A_statement_PostgreSQL_refuses_fails_alone_and_the_rest_of_its_batch_is_stored()
    {
        var shared = await fixture.SharedClusterAsync();
        var storage = shared.Cluster.SiloServices().GetRequiredKeyedService<IGrainStorage>(StorageNames.Default);
        var groupCommit = shared.Cluster.SiloServices().GetRequiredService<GroupCommit>();
        var ids = Enumerable.Range(0, 20).Select(i => GrainId.Create("cg-test", Unique($"ok{i}"))).ToArray();
        // PostgreSQL cannot store a NUL character in text: this grain's row is refused.
        var refused = GrainId.Create("cg-test", Unique("nul") + "\0end");

        var before = groupCommit.Counts;
        Task[] writes;
        Exception? refusal;
        await using (var blocked = await BlockEveryLoopAsync(shared, storage))
        {
            writes = [.. ids.Select(id => storage.WriteStateAsync(_stateName, id, new GrainState<CustomerState>(new CustomerState { DisplayName = "stored" })))];
            var refusedWrite = Record.ExceptionAsync(() => storage.WriteStateAsync(_stateName, refused, new GrainState<CustomerState>(new CustomerState { DisplayName = "refused" })));
            await blocked.ReleaseAsync();
            refusal = await refusedWrite;
        }

        await Task.WhenAll(writes);
        Assert.IsType<PostgresException>(refusal);
        foreach (var id in ids)
        {
            var stored = new GrainState<CustomerState>();
            await storage.ReadStateAsync(_stateName, id, stored);
            Assert.Equal(("stored", "1"), (stored.State!.DisplayName, stored.ETag));
        }

        // The refused batch was sent again statement by statement: more batches than the two stuck
        // ones and the one (or two, if both loops took some) that carried the queued writes.
        Assert.True(groupCommit.Counts.Batches - before.Batches > 4, $"{groupCommit.Counts.Batches - before.Batches} batches");
    }

    /// <summary>
    /// Holds a row's lock in a transaction of its own and sends each batch loop a write of that row,
    /// one at a time, so that every loop waits on the lock: whatever is written next queues up and is
    /// sent together once <see cref="BlockedLoops.ReleaseAsync"/> lets the lock go.
    /// </summary>
    private async Task<BlockedLoops> BlockEveryLoopAsync(SharedCluster shared, IGrainStorage storage)
    {
        var blocker = GrainId.Create("cg-test", Unique("blocked"));
        await storage.WriteStateAsync(_stateName, blocker, new GrainState<CustomerState>(new CustomerState()));
        var connection = new NpgsqlConnection(shared.ConnectionString);
        await connection.OpenAsync();
        var holder = await connection.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand(
            "SELECT 1 FROM contactgrains_grain_state WHERE service_id = @service AND state_name = @state AND grain_key = @key FOR UPDATE", connection, holder))
        {
            lockRow.Parameters.AddWithValue("service", shared.ServiceId);
            lockRow.Parameters.AddWithValue("state", _stateName);
            lockRow.Parameters.AddWithValue("key", blocker.Key.ToString());
            await lockRow.ExecuteNonQueryAsync();
        }

        var stuck = new List<Task>();
        for (var loop = 1; loop <= new GroupCommitOptions().Loops; loop++)
        {
            stuck.Add(storage.WriteStateAsync(_stateName, blocker, new GrainState<CustomerState>(new CustomerState()) { ETag = "1", RecordExists = true }));
            await WaitForLockWaitsAsync(shared.ConnectionString, loop);
        }

        return new BlockedLoops(connection, holder, stuck);
    }

    private sealed class BlockedLoops(NpgsqlConnection connection, NpgsqlTransaction holder, List<Task> stuck) : IAsyncDisposable
    {
        /// <summary>The writes the loops are stuck on: one of them succeeds once released, the others find a newer version.</summary>
        public IReadOnlyList<Task> Stuck => stuck;

        public Task ReleaseAsync() => holder.RollbackAsync();

        public async ValueTask DisposeAsync()
        {
            await holder.DisposeAsync();
            await connection.DisposeAsync();
            await Task.WhenAll(stuck.Select(task => Record.ExceptionAsync(() => task)));
        }
    }

    private static async Task WaitForLockWaitsAsync(string connectionString, int count)
    {
        const string Waiting = "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.datname = current_database()";
        for (var attempt = 0; attempt < 500; attempt++)
        {
            if (await Sql.ScalarAsync<long>(connectionString, Waiting) >= count)
            {
                return;
            }

            await Task.Delay(20);
        }

        Assert.Fail($"{count} batch loop(s) never waited on the locked row");
    }
}
