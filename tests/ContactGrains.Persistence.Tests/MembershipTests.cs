using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;
using Orleans.Runtime.MembershipService;
using static ContactGrains.Persistence.Tests.TestIds;

namespace ContactGrains.Persistence.Tests;

/// <summary>ADO.NET clustering on our membership tables: a real cluster forms, and the table keeps its contract.</summary>
[Collection(PostgresCollection.Name)]
public sealed class MembershipTests(PostgresFixture fixture)
{
    private const int Active = (int)SiloStatus.Active;
    private const int Dead = (int)SiloStatus.Dead;

    [Fact]
    public async Task Two_silos_form_a_cluster_through_the_membership_table()
    {
        var connectionString = await fixture.DatabaseAsync(nameof(MembershipTests));
        var clusterId = Unique("cluster");
        await using var cluster = await PostgresCluster.StartAsync(connectionString, Unique("service"), clusterId, silos: 2);
        var expected = cluster.Silos.Select(s => s.SiloAddress).OrderBy(a => a.Endpoint.Port).ToList();
        var management = cluster.Client.GetGrain<IManagementGrain>(0);

        var hosts = await management.GetHosts(onlyActive: true);

        Assert.Equal(expected, hosts.Keys.OrderBy(a => a.Endpoint.Port));
        Assert.All(hosts.Values, status => Assert.Equal(SiloStatus.Active, status));

        var rows = await MembersAsync(connectionString, clusterId);
        Assert.Equal(expected.Select(a => (a.Endpoint.Address.ToString(), a.Endpoint.Port, a.Generation, Active)), rows);
        // Each silo inserted its row and then declared itself active: at least two changes each.
        Assert.True(await VersionAsync(connectionString, clusterId) >= 4);

        // The client found the silos' gateways through the same table.
        var gateways = await cluster.Client.ServiceProvider.GetRequiredService<IGatewayListProvider>().GetGateways();
        Assert.Equal(2, gateways.Count);

        // A silo that leaves says so in the table.
        var leaving = cluster.Silos[1];
        await cluster.StopSiloAsync(leaving);
        var after = await MembersAsync(connectionString, clusterId);
        Assert.Contains((leaving.SiloAddress.Endpoint.Address.ToString(), leaving.SiloAddress.Endpoint.Port, leaving.SiloAddress.Generation, Dead), after);

        // The other silo learns it from the table or by gossip; poll, bounded by a safety limit.
        using var safety = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var remaining = await management.GetHosts(onlyActive: true);
        while (remaining.Count != 1 && !safety.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100));
            remaining = await management.GetHosts(onlyActive: true);
        }

        Assert.Equal([cluster.Silos[0].SiloAddress], remaining.Keys);
    }

    [Fact]
    public async Task Membership_changes_are_conditional_on_the_table_version_and_heartbeats_do_not_move_it()
    {
        var connectionString = await fixture.DatabaseAsync(nameof(MembershipTests));
        var clusterId = Unique("cluster");
        var table = new AdoNetClusteringTable(
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = Unique("service") }),
            Options.Create(new AdoNetClusteringSiloOptions { Invariant = PostgresCluster.Invariant, ConnectionString = connectionString }),
            NullLogger<AdoNetClusteringTable>.Instance);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true, CancellationToken.None);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true, CancellationToken.None); // every silo does this at start

        var empty = await table.ReadAllAsync(CancellationToken.None);
        Assert.Empty(empty.Members);
        Assert.Equal(0, empty.Version.Version);

        // Whole seconds: PostgreSQL keeps microseconds, .NET ticks are finer.
        var now = new DateTime(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        var silo = Entry(SiloAddress.New(IPAddress.Loopback, 11111, 1), SiloStatus.Joining, now);
        Assert.True(await table.InsertRowAsync(silo, empty.Version.Next()));
        Assert.False(await table.InsertRowAsync(Entry(SiloAddress.New(IPAddress.Loopback, 11112, 1), SiloStatus.Joining, now), empty.Version.Next()));
        var one = await table.ReadAllAsync(CancellationToken.None);
        Assert.Equal(1, one.Version.Version);
        var (read, etag) = Assert.Single(one.Members);
        Assert.Equal(silo.SiloAddress, read.SiloAddress);
        Assert.Equal(silo.SiloName, read.SiloName);
        Assert.Equal(silo.HostName, read.HostName);
        Assert.Equal(SiloStatus.Joining, read.Status);
        Assert.Equal(silo.ProxyPort, read.ProxyPort);
        Assert.Equal(now, read.StartTime);
        Assert.Equal(now, read.IAmAliveTime);
        Assert.Null(read.SuspectTimes);
        // Inserting a silo that already has a row changes nothing, even at the current version.
        Assert.False(await table.InsertRowAsync(silo, one.Version.Next()));
        Assert.Equal(1, (await table.ReadAllAsync(CancellationToken.None)).Version.Version);

        var suspicion = new List<Tuple<SiloAddress, DateTime>> { Tuple.Create(SiloAddress.New(IPAddress.Loopback, 22222, 7), now.AddSeconds(1)) };
        var activeSilo = Entry(silo.SiloAddress, SiloStatus.Active, now, suspicion);
        Assert.False(await table.UpdateRowAsync(activeSilo, etag, empty.Version.Next()));
        Assert.True(await table.UpdateRowAsync(activeSilo, etag, one.Version.Next()));
        Assert.False(await table.UpdateRowAsync(Entry(SiloAddress.New(IPAddress.Loopback, 11113, 1), SiloStatus.Active, now), etag, (await table.ReadAllAsync(CancellationToken.None)).Version.Next()));
        var two = await table.ReadRowAsync(silo.SiloAddress);
        Assert.Equal(2, two.Version.Version);
        var updated = Assert.Single(two.Members).Item1;
        Assert.Equal(SiloStatus.Active, updated.Status);
        Assert.Equal(suspicion.Select(s => (s.Item1, s.Item2)), updated.SuspectTimes!.Select(s => (s.Item1, s.Item2)));

        await table.UpdateIAmAliveAsync(Entry(silo.SiloAddress, SiloStatus.Active, now.AddMinutes(1)));
        var alive = await table.ReadRowAsync(silo.SiloAddress);
        Assert.Equal(2, alive.Version.Version);
        Assert.Equal(now.AddMinutes(1), Assert.Single(alive.Members).Item1.IAmAliveTime);

        // A silo with no row: the version still comes back, with no member.
        var stranger = await table.ReadRowAsync(SiloAddress.New(IPAddress.Loopback, 33333, 1));
        Assert.Empty(stranger.Members);
        Assert.Equal(2, stranger.Version.Version);

        // Clean-up removes dead silos silent since the cutoff, and nothing else.
        var deadOld = Entry(SiloAddress.New(IPAddress.Loopback, 11114, 1), SiloStatus.Dead, now.AddDays(-2));
        var deadRecent = Entry(SiloAddress.New(IPAddress.Loopback, 11115, 1), SiloStatus.Dead, now);
        Assert.True(await table.InsertRowAsync(deadOld, (await table.ReadAllAsync(CancellationToken.None)).Version.Next()));
        Assert.True(await table.InsertRowAsync(deadRecent, (await table.ReadAllAsync(CancellationToken.None)).Version.Next()));
        await table.CleanupDefunctSiloEntriesAsync(new DateTimeOffset(now.AddDays(-1)));
        Assert.Equal(
            [(11111, Active), (11115, Dead)],
            (await MembersAsync(connectionString, clusterId)).Select(m => (m.Port, m.Status)));

        Assert.Equal(4, (await table.ReadAllAsync(CancellationToken.None)).Version.Version);
        await table.DeleteMembershipTableEntriesAsync(clusterId);
        Assert.Empty(await MembersAsync(connectionString, clusterId));
        Assert.Equal(0L, await Sql.ScalarAsync<long>(connectionString,
            "SELECT count(*) FROM orleans_membership_version WHERE deploymentid = @cluster", ("cluster", clusterId)));
    }

    private static MembershipEntry Entry(SiloAddress address, SiloStatus status, DateTime time, List<Tuple<SiloAddress, DateTime>>? suspectTimes = null) => new()
    {
        SiloAddress = address,
        SiloName = $"silo-{address.Endpoint.Port}",
        HostName = "test-host",
        Status = status,
        ProxyPort = address.Endpoint.Port + 1000,
        StartTime = time,
        IAmAliveTime = time,
        SuspectTimes = suspectTimes,
    };

    private static Task<List<(string Address, int Port, int Generation, int Status)>> MembersAsync(string connectionString, string clusterId) =>
        Sql.ReadAsync(connectionString,
            "SELECT address, port, generation, status FROM orleans_membership WHERE deploymentid = @cluster ORDER BY port, generation",
            row => (row.GetString(0), row.GetInt32(1), row.GetInt32(2), row.GetInt32(3)),
            ("cluster", clusterId));

    private static Task<int> VersionAsync(string connectionString, string clusterId) =>
        Sql.ScalarAsync<int>(connectionString,
            "SELECT version FROM orleans_membership_version WHERE deploymentid = @cluster", ("cluster", clusterId));
}
