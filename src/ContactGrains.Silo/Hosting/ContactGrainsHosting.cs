using ContactGrains.Bot;
using ContactGrains.Grains;
using ContactGrains.Silo.Channels;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ContactGrains.Silo.Hosting;

/// <summary>Registration of everything a ContactGrains silo runs: the host's table of contents.</summary>
public static partial class ContactGrainsHosting
{
    /// <summary>
    /// Adds Orleans, the bot and the gRPC services. Returns false, after writing one clear line to
    /// <paramref name="errors"/>, when the configuration cannot work (e.g. a broken knowledge base).
    /// </summary>
    public static bool TryAddContactGrains(this WebApplicationBuilder builder, TextWriter errors)
    {
        var options = builder.Configuration.GetSection(ContactGrainsOptions.SectionName).Get<ContactGrainsOptions>() ?? new();

        IBot bot;
        try
        {
            // Loaded now, not on the first message: a bad file stops the silo before it listens.
            var path = string.IsNullOrWhiteSpace(options.Bot.KnowledgeBasePath) ? KnowledgeBase.DefaultPath : options.Bot.KnowledgeBasePath;
            bot = new KnowledgeBaseBot(KnowledgeBase.Load(path));
        }
        catch (KnowledgeBaseException ex)
        {
            errors.WriteLine($"ContactGrains cannot start: the bot's knowledge base is unusable. {ex.Message}");
            return false;
        }

        builder.WebHost.UseUrls(options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2));

        builder.Services.AddSingleton(bot);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(options.Cluster.SiloPort, options.Cluster.GatewayPort, serviceId: options.Cluster.ServiceId, clusterId: options.Cluster.ClusterId)
            .AddMemoryGrainStorage(StorageNames.Default));

        builder.Services.AddGrpc(grpc => grpc.Interceptors.Add<ErrorMappingInterceptor>());
        builder.Services.AddGrpcReflection();
        builder.Services.AddGrpcHealthChecks().AddCheck("silo", () => Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy());
        builder.Services.AddSingleton<ConversationRouter>();
        return true;
    }

    /// <summary>Maps the gRPC endpoints and announces where the silo listens.</summary>
    public static WebApplication MapContactGrains(this WebApplication app)
    {
        app.MapGrpcService<ChannelGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ContactGrains");
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            LogListening(logger, string.Join(", ", addresses));
            LogNotDurable(logger);
        });
        return app;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "ContactGrains silo listening for gRPC (HTTP/2) on {Addresses}")]
    private static partial void LogListening(ILogger logger, string addresses);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Development profile: single silo, localhost clustering, in-memory storage. Conversations are NOT durable and are lost when this process stops.")]
    private static partial void LogNotDurable(ILogger logger);
}
