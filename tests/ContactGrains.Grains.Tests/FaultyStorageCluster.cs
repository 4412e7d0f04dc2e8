using ContactGrains.Bot;
using ContactGrains.Grains.Conversations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace ContactGrains.Grains.Tests;

/// <summary>A single-silo in-process cluster on a fake clock, with the real bot and grain storage that fails on demand.</summary>
internal static class FaultyStorageCluster
{
    public static async Task<(InProcessTestCluster Cluster, FaultyGrainStorage Storage)> StartAsync(FakeTimeProvider clock, Action<ISiloBuilder>? configureSilo = null)
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureHost(host =>
        {
            host.Services.AddContactGrainsDomain(KnowledgeBase.Load(KnowledgeBase.DefaultPath));
            host.Services.AddFakeClock(clock);
            // Long timelines are built here in one burst; the rate limit has tests of its own.
            host.Services.Configure<ConversationOptions>(o => o.MessageBurst = 100_000);
            // These tests count a close's entries; the rating request has tests of its own (OutcomeTests).
            host.Services.Configure<ConversationOptions>(o => o.AskForRating = false);
        });
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddContactGrainsMemoryStorage("memory").UseInMemoryReminderService();
            // The in-memory table under one that fails on demand (see Reminders).
            var memoryReminders = silo.Services.Last(service => service.ServiceType == typeof(IReminderTable)).ImplementationFactory
                ?? throw new InvalidOperationException("The in-memory reminder table is no longer registered through a factory.");
            silo.Services.AddSingleton<IReminderTable>(services => new FaultyReminderTable((IReminderTable)memoryReminders(services)));
            silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Default,
                (services, _) => new FaultyGrainStorage(services.GetRequiredKeyedService<IGrainStorage>("memory"), services.GetRequiredService<DeepCopier>()));
            configureSilo?.Invoke(silo);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        var storage = (FaultyGrainStorage)cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress)
            .GetRequiredKeyedService<IGrainStorage>(StorageNames.Default);
        return (cluster, storage);
    }

    /// <summary>The cluster's reminder table, which fails the registrations a test chooses.</summary>
    public static FaultyReminderTable Reminders(InProcessTestCluster cluster) =>
        (FaultyReminderTable)cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress).GetRequiredService<IReminderTable>();
}
