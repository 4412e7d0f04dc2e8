using ContactGrains.Bot;
using ContactGrains.Grains;
using ContactGrains.Grains.Conversations;
using ContactGrains.Grains.Routing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace ContactGrains.Grains.Tests;

/// <summary>A 2-silo in-process cluster with the real bot and memory storage, shared by a test collection.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    /// <summary>Short, so a test sees a waiting customer told their new place.</summary>
    public static readonly TimeSpan QueueUpdateInterval = TimeSpan.FromSeconds(1);

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var knowledgeBase = KnowledgeBase.Load(KnowledgeBase.DefaultPath);
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureHost(host =>
        {
            host.Services.AddContactGrainsDomain(knowledgeBase);
            host.Services.Configure<RoutingOptions>(o => o.QueueUpdateInterval = QueueUpdateInterval);
            // Long timelines are built here in one burst; the rate limit has tests of its own.
            host.Services.Configure<ConversationOptions>(o => o.MessageBurst = 100_000);
            // These tests count a close's entries; the rating request has tests of its own (OutcomeTests).
            host.Services.Configure<ConversationOptions>(o => o.AskForRating = false);
        });
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddContactGrainsMemoryStorage().UseInMemoryReminderService();

            // Orleans' default (resource-optimized placement) prefers the calling silo while both
            // silos look equally loaded, which in one process they may for a whole run. Tests that
            // need grains on a particular silo keep creating grains until enough land there, so
            // placement must be random for their bounded search to succeed.
            silo.Services.AddSingleton<PlacementStrategy, RandomPlacement>();
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>The grain factory of silo <paramref name="index"/>, as a host co-located with that silo uses it.</summary>
    public IGrainFactory SiloGrainFactory(int index) =>
        Cluster.GetSiloServiceProvider(Cluster.Silos[index].SiloAddress).GetRequiredService<IGrainFactory>();
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
