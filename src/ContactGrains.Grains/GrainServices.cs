using ContactGrains.Bot;
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
    /// (configure them with <c>Configure&lt;RoutingOptions&gt;</c>).
    /// </summary>
    public static IServiceCollection AddContactGrainsDomain(this IServiceCollection services, KnowledgeBase knowledgeBase)
    {
        services.AddSingleton<IBot>(new KnowledgeBaseBot(knowledgeBase));
        services.AddSingleton(provider => RoutingCatalog.From(knowledgeBase, provider.GetRequiredService<IOptions<RoutingOptions>>().Value));
        services.AddOptions<RoutingOptions>();
        services.AddOptions<Conversations.ConversationOptions>();
        return services;
    }
}
