using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using static ContactGrains.Persistence.Tests.TestIds;

namespace ContactGrains.Persistence.Tests;

/// <summary>Reminders stored in PostgreSQL: they survive the cluster, and the table keeps its contract.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ReminderTests(PostgresFixture fixture)
{
    // A safety net against a hang, not an expectation: a tick normally arrives within seconds.
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(90);

    private static readonly TimeSpan ShortPeriod = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_reminder_keeps_ticking_in_a_new_cluster_without_anyone_calling_the_grain()
    {
        var connectionString = await fixture.DatabaseAsync(nameof(ReminderTests));
        await Sql.ExecuteAsync(connectionString, TickLog.CreateTable);
        var serviceId = Unique("service");
        var clusterId = Unique("cluster");
        var grain = Unique("probe");
        const string reminder = "tick";

        await using (var cluster = await StartAsync(connectionString, serviceId, clusterId, clusterLabel: "first"))
        {
            await cluster.Client.GetGrain<IReminderProbeGrain>(grain).Start(reminder, ShortPeriod);
            await WaitForTicksAsync(connectionString, grain, reminder, "first", atLeast: 1);
        }

        // Nothing calls the grain here: the new silo finds the reminder in the table and activates it.
        await using (await StartAsync(connectionString, serviceId, clusterId, clusterLabel: "second"))
        {
            await WaitForTicksAsync(connectionString, grain, reminder, "second", atLeast: 2);
        }

        var rows = await Sql.ReadAsync(connectionString,
            "SELECT grainid, remindername, period FROM orleans_reminders WHERE serviceid = @service",
            row => (GrainId: row.GetString(0), Name: row.GetString(1), Period: row.GetInt64(2)),
            ("service", serviceId));
        var row = Assert.Single(rows);
        Assert.Equal(reminder, row.Name);
        Assert.EndsWith(grain, row.GrainId, StringComparison.Ordinal);
        Assert.Equal((long)ShortPeriod.TotalMilliseconds, row.Period);
    }

    [Fact]
    public async Task The_reminder_table_upserts_with_new_versions_deletes_only_the_current_version_and_reads_ring_ranges()
    {
        var shared = await fixture.SharedClusterAsync();
        var table = shared.Cluster.SiloServices().GetRequiredService<IReminderTable>();
        var grainId = GrainId.Create("cg-reminder-contract", Unique("grain"));
        var name = Unique("reminder");
        // Whole milliseconds: PostgreSQL keeps microseconds, .NET ticks are finer.
        var startAt = new DateTime(2030, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc);
        var longPeriod = TimeSpan.FromDays(30); // more milliseconds than an int holds: bound as int8

        var firstEtag = await table.UpsertRow(new ReminderEntry { GrainId = grainId, ReminderName = name, StartAt = startAt, Period = TimeSpan.FromHours(1) });
        var secondEtag = await table.UpsertRow(new ReminderEntry { GrainId = grainId, ReminderName = name, StartAt = startAt, Period = longPeriod });

        Assert.NotNull(firstEtag);
        Assert.NotNull(secondEtag);
        Assert.NotEqual(firstEtag, secondEtag);
        var stored = await table.ReadRow(grainId, name);
        Assert.NotNull(stored);
        Assert.Equal(grainId, stored.GrainId);
        Assert.Equal(startAt, stored.StartAt);
        Assert.Equal(DateTimeKind.Utc, stored.StartAt.Kind);
        Assert.Equal(longPeriod, stored.Period);
        Assert.Equal(secondEtag, stored.ETag);
        Assert.Equal([name], (await table.ReadRows(grainId)).Reminders.Select(r => r.ReminderName));

        // Ranges are (begin, end] on the hash ring; a range that wraps goes through the other query.
        var hash = grainId.GetUniformHashCode();
        var around = await table.ReadRows(unchecked(hash - 1), hash);
        var allButThis = await table.ReadRows(hash, unchecked(hash - 1));
        Assert.Contains(around.Reminders, r => r.GrainId == grainId && r.ReminderName == name);
        Assert.DoesNotContain(allButThis.Reminders, r => r.GrainId == grainId);

        Assert.False(await table.RemoveRow(grainId, name, firstEtag));
        Assert.NotNull(await table.ReadRow(grainId, name));
        Assert.True(await table.RemoveRow(grainId, name, secondEtag));
        Assert.Null(await table.ReadRow(grainId, name));
        Assert.False(await table.RemoveRow(grainId, name, secondEtag));
    }

    [Fact]
    public async Task Ranges_that_split_the_ring_find_each_reminder_exactly_once()
    {
        var shared = await fixture.SharedClusterAsync();
        var table = shared.Cluster.SiloServices().GetRequiredService<IReminderTable>();
        var name = Unique("ring");
        var grains = Enumerable.Range(0, 40).Select(i => GrainId.Create("cg-reminder-ring", Unique($"g{i}"))).ToList();
        await Task.WhenAll(grains.Select(g => table.UpsertRow(new ReminderEntry { GrainId = g, ReminderName = name, StartAt = DateTime.UtcNow, Period = TimeSpan.FromHours(1) })));

        // Boundaries on both sides of 0x80000000, where signed and unsigned order part, and a range
        // that wraps past 0xFFFFFFFF.
        uint[] bounds = [0x10000000, 0x7FFFFFFF, 0x80000000, 0xC0000000, 0xF0000000];
        var found = new List<GrainId>();
        for (var i = 0; i < bounds.Length; i++)
        {
            var rows = await table.ReadRows(bounds[i], bounds[(i + 1) % bounds.Length]);
            found.AddRange(rows.Reminders.Where(r => r.ReminderName == name).Select(r => r.GrainId));
        }

        Assert.Equal(grains.Order(), found.Order());
        // begin = end is the whole ring.
        Assert.Equal(grains.Count, (await table.ReadRows(0x12345678, 0x12345678)).Reminders.Count(r => r.ReminderName == name));
        foreach (var grain in grains)
        {
            var row = await table.ReadRow(grain, name);
            Assert.True(await table.RemoveRow(grain, name, row!.ETag!));
        }
    }

    private static Task<Orleans.TestingHost.InProcessTestCluster> StartAsync(string connectionString, string serviceId, string clusterId, string clusterLabel) =>
        PostgresCluster.StartAsync(connectionString, serviceId, clusterId, configureSilo: silo =>
        {
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = ShortPeriod);
            silo.Services.AddSingleton(new TickLog(connectionString, clusterLabel));
        });

    private static async Task WaitForTicksAsync(string connectionString, string grain, string reminder, string clusterLabel, long atLeast)
    {
        using var safety = new CancellationTokenSource(SafetyTimeout);
        long ticks;
        while ((ticks = await TickLog.CountAsync(connectionString, grain, reminder, clusterLabel)) < atLeast)
        {
            if (safety.IsCancellationRequested)
            {
                Assert.Fail($"The reminder ticked {ticks} time(s) in cluster '{clusterLabel}' before the safety timeout; expected at least {atLeast}.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
    }
}
