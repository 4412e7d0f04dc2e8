using ContactGrains.Bot;
using ContactGrains.Bot.Signals;
using ContactGrains.Grains.Ownership;
using ContactGrains.Grains.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ContactGrains.Grains;

/// <summary>What the grains need from a silo's services, registered in one place for hosts and tests alike.</summary>
public static class GrainServices
{
    /// <summary>
    /// Registers the bot answering from <paramref name="knowledgeBase"/> and the routing catalog built
    /// from its skills and languages. Routing options are read from <see cref="RoutingOptions"/>
    /// (configure them with <c>Configure&lt;RoutingOptions&gt;</c>), the ownership policy's from
    /// <see cref="OwnershipOptions"/>.
    /// </summary>
    public static IServiceCollection AddContactGrainsDomain(this IServiceCollection services, KnowledgeBase knowledgeBase)
    {
        services.AddMetrics();
        // Storage operations that complete at once cost no scheduler hop (see InlinePersistentState).
        services.AddSingleton<IPersistentStateFactory, InlinePersistentStateFactory>();
        services.AddSingleton<Diagnostics.ContactGrainsMetrics>();
        services.AddSingleton<IBot>(new KnowledgeBaseBot(knowledgeBase));
        services.AddSingleton<ISignalDetector, LexiconSignalDetector>();
        services.AddOptions<OwnershipOptions>();
        services.AddSingleton(provider => new OwnershipPolicy(provider.GetRequiredService<IOptions<OwnershipOptions>>().Value));
        services.AddOptions<Automation.AutomationOptions>();
        services.AddSingleton<Automation.AutomationLevelsCache>();
        services.AddHostedService<Automation.AutomationPolicyRefresher>();
        services.AddOptions<Automation.DemotionOptions>();
        services.AddSingleton<Automation.OutcomeRecorder>();
        services.AddHostedService<Automation.OutcomeFlusher>();
        services.AddSingleton<Supervision.ConversationIndexReporter>();
        services.AddHostedService<Supervision.ConversationIndexFlusher>();
        services.AddSingleton(provider => new Automation.IntentCatalog([.. knowledgeBase.Intents.Select(i => i.Id)
            .Where(id => id != provider.GetRequiredService<IOptions<RoutingOptions>>().Value.HumanRequestIntent)]));
        services.AddSingleton(provider => new TurnJudge(
            provider.GetRequiredService<IBot>(), provider.GetRequiredService<ISignalDetector>(), provider.GetRequiredService<OwnershipPolicy>(),
            provider.GetRequiredService<IOptions<RoutingOptions>>().Value.HumanRequestIntent,
            provider.GetRequiredService<Automation.AutomationLevelsCache>().LevelOf));
        services.AddSingleton(provider => RoutingCatalog.From(knowledgeBase, provider.GetRequiredService<IOptions<RoutingOptions>>().Value));
        services.AddOptions<RoutingOptions>();
        services.AddOptions<Conversations.ConversationOptions>();
        return services;
    }
}
