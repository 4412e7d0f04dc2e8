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

        // Every batch loop stuck on a row another transaction holds: what arrives now has to wait.
        var blocker = GrainId.Create("cg-test", Unique("blocked"));
        var blocked = new GrainState<CustomerState>(new CustomerState());
        await storage.WriteStateAsync(_stateName, blocker, blocked);
        await using var connection = new NpgsqlConnection(shared.ConnectionString);
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

        var before = groupCommit.Counts;
        var loops = new GroupCommitOptions().Loops;
        var stuck = new List<Task>();
        for (var loop = 1; loop <= loops; loop++)
        {
            // One at a time, so that each loop takes one and waits on the lock.
            stuck.Add(storage.WriteStateAsync(_stateName, blocker, new GrainState<CustomerState>(new CustomerState()) { ETag = "1", RecordExists = true }));
            await WaitForLockWaitsAsync(shared.ConnectionString, loop);
        }

        // 60 updates at the version they read, and 10 writes at a version their grains never had.
        var updates = states.Select((state, i) =>
        {
            state.State!.DisplayName = "v2";
            return storage.WriteStateAsync(_stateName, ids[i], state);
        }).ToArray();
        var staleWrites = ids.Take(10).Select(id => Record.ExceptionAsync(() =>
            storage.WriteStateAsync(_stateName, id, new GrainState<CustomerState>(new CustomerState { DisplayName = "stale" }) { ETag = "7", RecordExists = true }))).ToArray();

        await holder.RollbackAsync();
        await Task.WhenAll(updates);
        var staleFailures = await Task.WhenAll(staleWrites);
        // Of the stuck writes at version 1, one wins; the others find version 2.
        var stuckFailures = await Task.WhenAll(stuck.Select(task => Record.ExceptionAsync(() => task)));

        var after = groupCommit.Counts;
        Assert.Equal(70 + loops, after.Statements - before.Statements);
        // The stuck batches, then what queued behind them: a few batches, not 70.
        Assert.InRange(after.Batches - before.Batches, loops + 1, loops + 4);

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
