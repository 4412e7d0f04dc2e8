using System.Net;
using ContactGrains.Bot;
using ContactGrains.Grains;
using ContactGrains.Grains.Automation;
using ContactGrains.Grains.Conversations;
using ContactGrains.Grains.Ownership;
using ContactGrains.Grains.Routing;
using ContactGrains.Persistence;
using ContactGrains.Silo.Agents;
using ContactGrains.Silo.Channels;
using ContactGrains.Silo.Diagnostics;
using ContactGrains.Silo.Security;
using ContactGrains.Silo.Supervision;
using Microsoft.IdentityModel.Tokens;
using Orleans.Configuration;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using static ContactGrains.Silo.Hosting.ContactGrainsOptions;

namespace ContactGrains.Silo.Hosting;

/// <summary>Registration of everything a ContactGrains silo runs: the host's table of contents.</summary>
public static partial class ContactGrainsHosting
{
    /// <summary>What a person runs to create or upgrade the schema.</summary>
    public const string MigrateCommand = "dotnet run --project src/ContactGrains.Silo -- migrate --ContactGrains:Storage:ConnectionString=\"…\"";

    /// <summary>
    /// Adds Orleans, the bot and the gRPC services. Returns false, after writing one clear line to
    /// <paramref name="errors"/>, when the configuration cannot work: a broken knowledge base, or a
    /// PostgreSQL database that is unreachable or lacks the schema.
    /// </summary>
    public static async Task<bool> TryAddContactGrainsAsync(this WebApplicationBuilder builder, TextWriter errors)
    {
        ContactGrainsOptions options;
        try
        {
            options = ReadOptions(builder.Configuration);
        }
        catch (InvalidOperationException ex)
        {
            // e.g. Storage:Provider=Postgres: the binder names the key and the value it could not use.
            errors.WriteLine($"ContactGrains cannot start: a setting in the '{SectionName}' section is invalid. {ex.Message} (Storage:Provider is Memory or PostgreSql.)");
            return false;
        }

        if (options.Storage.GroupCommit.Validate() is { } groupCommitProblem)
        {
            errors.WriteLine($"ContactGrains cannot start: {groupCommitProblem}");
            return false;
        }

        KnowledgeBase knowledgeBase;
        try
        {
            // Loaded now, not on the first message: a bad file stops the silo before it listens.
            var path = string.IsNullOrWhiteSpace(options.Bot.KnowledgeBasePath) ? KnowledgeBase.DefaultPath : options.Bot.KnowledgeBasePath;
            knowledgeBase = KnowledgeBase.Load(path);
        }
        catch (KnowledgeBaseException ex)
        {
            errors.WriteLine($"ContactGrains cannot start: the bot's knowledge base is unusable. {ex.Message}");
            return false;
        }

        var routingSection = builder.Configuration.GetSection(RoutingOptions.SectionName);
        var routing = new RoutingOptions();
        try
        {
            routingSection.Bind(routing);
        }
        catch (InvalidOperationException ex)
        {
            errors.WriteLine($"ContactGrains cannot start: a setting in the '{RoutingOptions.SectionName}' section is invalid. {ex.Message}");
            return false;
        }

        if (routing.Validate() is { } routingProblem)
        {
            errors.WriteLine($"ContactGrains cannot start: {routingProblem}");
            return false;
        }

        var ownershipSection = builder.Configuration.GetSection(OwnershipOptions.SectionName);
        var ownership = new OwnershipOptions();
        try
        {
            ownershipSection.Bind(ownership);

            // The binder adds configured items to a list's defaults; a configured list replaces them.
            if (ownershipSection.GetSection(nameof(OwnershipOptions.HumanOnlyTopics)).Exists())
            {
                ownership.HumanOnlyTopics = ownershipSection.GetSection(nameof(OwnershipOptions.HumanOnlyTopics)).Get<List<string>>() ?? [];
            }

            // The defaults name the sample knowledge base's intents and skills: with another knowledge
            // base they keep what it has. Configured lists must match it (checked below).
            var intents = knowledgeBase.Intents.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
            var skills = RoutingCatalog.From(knowledgeBase, routing).Skills;
            ownership.HumanOnlyIntents = ownershipSection.GetSection(nameof(OwnershipOptions.HumanOnlyIntents)).Exists()
                ? ownershipSection.GetSection(nameof(OwnershipOptions.HumanOnlyIntents)).Get<List<string>>() ?? []
                : [.. ownership.HumanOnlyIntents.Where(intents.Contains)];
            ownership.HighStakesIntents = ownershipSection.GetSection(nameof(OwnershipOptions.HighStakesIntents)).Exists()
                ? ownershipSection.GetSection(nameof(OwnershipOptions.HighStakesIntents)).Get<List<string>>() ?? []
                : [.. ownership.HighStakesIntents.Where(intents.Contains)];
            if (!ownershipSection.GetSection(nameof(OwnershipOptions.TopicSkills)).Exists())
            {
                ownership.TopicSkills = ownership.TopicSkills.ToDictionary(t => t.Key, t => skills.Contains(t.Value) ? t.Value : routing.DefaultSkill);
            }
        }
        catch (InvalidOperationException ex)
        {
            errors.WriteLine($"ContactGrains cannot start: a setting in the '{OwnershipOptions.SectionName}' section is invalid. {ex.Message}");
            return false;
        }

        if (ownership.Validate(knowledgeBase, RoutingCatalog.From(knowledgeBase, routing).Skills) is { } ownershipProblem)
        {
            errors.WriteLine($"ContactGrains cannot start: {ownershipProblem}");
            return false;
        }

        ConversationOptions conversationOptions;
        try
        {
            conversationOptions = builder.Configuration.GetSection(ConversationOptions.SectionName).Get<ConversationOptions>() ?? new();
        }
        catch (InvalidOperationException ex)
        {
            errors.WriteLine($"ContactGrains cannot start: a setting in the '{ConversationOptions.SectionName}' section is invalid. {ex.Message}");
            return false;
        }

        if ((options.Limits.Validate() ?? conversationOptions.Validate()) is { } limitProblem)
        {
            errors.WriteLine($"ContactGrains cannot start: {limitProblem}");
            return false;
        }

        var auth = new AuthOptions();
        try
        {
            builder.Configuration.GetSection(AuthOptions.SectionName).Bind(auth);
        }
        catch (InvalidOperationException ex)
        {
            errors.WriteLine($"ContactGrains cannot start: a setting in the '{AuthOptions.SectionName}' section is invalid. {ex.Message}");
            return false;
        }

        var inMemory = options.Storage.Provider == StorageProvider.Memory;
        if (auth.Validate(inMemory) is { } authProblem)
        {
            errors.WriteLine($"ContactGrains cannot start: {authProblem}");
            return false;
        }

        Dictionary<string, AgentDirectory.Entry> directoryEntries;
        try
        {
            directoryEntries = builder.Configuration.GetSection(AgentDirectory.SectionName).Get<Dictionary<string, AgentDirectory.Entry>>() ?? [];
        }
        catch (InvalidOperationException ex)
        {
            errors.WriteLine($"ContactGrains cannot start: a setting in the '{AgentDirectory.SectionName}' section is invalid. {ex.Message}");
            return false;
        }

        var (seeds, directoryProblem) = AgentDirectory.ReadSeeds(directoryEntries, RoutingCatalog.From(knowledgeBase, routing), routing);
        if (directoryProblem is not null)
        {
            errors.WriteLine($"ContactGrains cannot start: {directoryProblem}");
            return false;
        }

        var automationSection = builder.Configuration.GetSection(AutomationOptions.SectionName);
        var automation = new AutomationOptions();
        try
        {
            automationSection.Bind(automation);
        }
        catch (InvalidOperationException ex)
        {
            errors.WriteLine($"ContactGrains cannot start: a setting in the '{AutomationOptions.SectionName}' section is invalid. {ex.Message} (Levels are HumanOnly, Copilot, Supervised or Autonomous.)");
            return false;
        }

        var demotion = new DemotionOptions();
        try
        {
            builder.Configuration.GetSection(DemotionOptions.SectionName).Bind(demotion);
        }
        catch (InvalidOperationException ex)
        {
            errors.WriteLine($"ContactGrains cannot start: a setting in the '{DemotionOptions.SectionName}' section is invalid. {ex.Message}");
            return false;
        }

        if (demotion.Validate() is { } demotionProblem)
        {
            errors.WriteLine($"ContactGrains cannot start: {demotionProblem}");
            return false;
        }

        if (automation.Levels.Keys.FirstOrDefault(intent => !knowledgeBase.Intents.Any(i => i.Id == intent)) is { } unknownIntent)
        {
            errors.WriteLine($"ContactGrains cannot start: {AutomationOptions.SectionName}:Levels names intent '{unknownIntent}', which is not in the knowledge base.");
            return false;
        }

        if (options.Cluster.CallTimeout <= TimeSpan.Zero || options.Cluster.CallTimeout > TimeSpan.FromMinutes(5))
        {
            errors.WriteLine($"ContactGrains cannot start: ContactGrains:Cluster:CallTimeout is {options.Cluster.CallTimeout}; it must be more than zero and at most 5 minutes (default 00:00:10).");
            return false;
        }

        if (options.Storage.Provider == StorageProvider.PostgreSql
            && await DatabaseReadiness.CheckAsync(options.Storage.ConnectionString, MigrateCommand) is { } databaseProblem)
        {
            errors.WriteLine($"ContactGrains cannot start: {databaseProblem}");
            return false;
        }

        var grpcUrls = options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var consoleUrls = options.ConsoleUrls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (Supervision.ConsoleHosting.CheckUrls(consoleUrls, grpcUrls) is { } consoleProblem)
        {
            errors.WriteLine($"ContactGrains cannot start: {consoleProblem}");
            return false;
        }

        var consolePorts = consoleUrls.Select(url => new Uri(url).Port).ToHashSet();
        builder.WebHost.UseUrls([.. grpcUrls, .. consoleUrls]);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // gRPC over HTTP/2 (cleartext needs HTTP/2 alone: prior knowledge); the console's ports speak HTTP/1.1 to browsers.
            kestrel.ConfigureEndpointDefaults(listen => listen.Protocols =
                listen.IPEndPoint is { } endpoint && consolePorts.Contains(endpoint.Port) ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http2);
            kestrel.Limits.Http2.KeepAlivePingDelay = options.Limits.KeepAlivePingDelay;
            kestrel.Limits.Http2.KeepAlivePingTimeout = options.Limits.KeepAlivePingTimeout;
        });

        var telemetry = new TelemetryOptions();
        try
        {
            builder.Configuration.GetSection(TelemetryOptions.SectionName).Bind(telemetry);
        }
        catch (InvalidOperationException ex)
        {
            errors.WriteLine($"ContactGrains cannot start: a setting in the '{TelemetryOptions.SectionName}' section is invalid. {ex.Message}");
            return false;
        }

        if (telemetry.PrometheusUrl.Length > 0 && !(Uri.TryCreate(telemetry.PrometheusUrl, UriKind.Absolute, out var scrape) && scrape.Scheme == Uri.UriSchemeHttp))
        {
            errors.WriteLine($"ContactGrains cannot start: {TelemetryOptions.SectionName}:PrometheusUrl must be an http:// address such as http://127.0.0.1:9464.");
            return false;
        }

        builder.AddContactGrainsTelemetry(telemetry);
        builder.Services.AddExpectedFaultLogging();
        builder.Services.AddContactGrainsDomain(knowledgeBase);
        builder.Services.Configure<RoutingOptions>(routingSection);
        builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(ownership));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(options);
        builder.Services.Configure<ConversationOptions>(builder.Configuration.GetSection(ConversationOptions.SectionName));
        builder.Services.Configure<AutomationOptions>(automationSection);
        builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(demotion));
        builder.UseOrleans(silo =>
        {
            silo.Configure<SiloMessagingOptions>(messaging => messaging.ResponseTimeout = options.Cluster.CallTimeout);
            // Traces continue through grain calls; log lines of a conversation name it in their scope.
            silo.AddActivityPropagation();
            silo.AddIncomingGrainCallFilter<Grains.Diagnostics.ConversationLogScope>();
            if (options.Storage.Provider == StorageProvider.PostgreSql)
            {
                UsePostgreSql(silo, options);
            }
            else
            {
                silo.UseLocalhostClustering(options.Cluster.SiloPort, options.Cluster.GatewayPort, serviceId: options.Cluster.ServiceId, clusterId: options.Cluster.ClusterId)
                    .AddContactGrainsInProcessStorage()
                    .UseInMemoryReminderService();
            }
        });

        builder.Services.AddSingleton(auth);
        // One instance each (grpc-dotnet would otherwise build an interceptor per call); both are stateless
        // apart from the key map, which is built once.
        builder.Services.AddSingleton<CallerAuthentication>();
        builder.Services.AddSingleton<ErrorMappingInterceptor>();
        builder.Services.AddSingleton(new AgentDirectory(seeds!, desktopsDeclareProfiles: auth.UsesDevelopmentCredentials(inMemory)));
        builder.Services.AddAuthentication().AddJwtBearer(jwt =>
        {
            // The claims stay as issued ("sub", "role"): no mapping to the long XML claim names.
            jwt.MapInboundClaims = false;
            jwt.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = auth.Issuer,
                ValidAudience = auth.Audience,
                IssuerSigningKeys = SigningKeys(auth, inMemory),
                ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                NameClaimType = "sub",
                RoleClaimType = "role",
                ClockSkew = TimeSpan.FromSeconds(30),
            };
        });
        builder.Services.AddGrpc(grpc =>
        {
            // Outermost first: a call is authenticated before anything else runs for it.
            grpc.Interceptors.Add<CallerAuthentication>();
            grpc.Interceptors.Add<ErrorMappingInterceptor>();
            // The API's own limit (RequestDecoding.MaxRequestBytes) is checked per message, so an
            // adapter stream refuses one oversize frame and goes on; this bounds what is read at all.
            grpc.MaxReceiveMessageSize = Wire.RequestDecoding.MaxTransportBytes;
        }).AddJsonTranscoding();
        builder.Services.AddGrpcReflection();
        builder.Services.AddGrpcHealthChecks().AddCheck<SiloHealthCheck>("silo");
        builder.Services.AddSingleton<ThreadDirectory>();
        builder.Services.AddSingleton<ChannelRateLimits>();
        builder.Services.AddSingleton<ConversationRouter>();
        return true;
    }

    /// <summary>Runs <c>migrate</c>: applies the missing schema migrations and says which.</summary>
    public static async Task<int> MigrateAsync(IConfiguration configuration, TextWriter output, TextWriter errors)
    {
        var connectionString = ReadOptions(configuration).Storage.ConnectionString;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            errors.WriteLine("migrate needs a PostgreSQL connection string: --ContactGrains:Storage:ConnectionString=\"Host=…;Database=…;Username=…;Password=…\"");
            return 2;
        }

        try
        {
            var applied = await SchemaMigrator.MigrateAsync(connectionString);
            output.WriteLine(applied.Count == 0
                ? $"The schema is up to date (version {SchemaMigrator.RequiredVersion})."
                : $"Applied {string.Join(", ", applied)}; the schema is at version {SchemaMigrator.RequiredVersion}.");
            return 0;
        }
        catch (Exception ex) when (ex is SchemaException or global::Npgsql.NpgsqlException or ArgumentException)
        {
            errors.WriteLine($"migrate failed: {ex.Message}");
            return 1;
        }
    }

    private static List<SecurityKey> SigningKeys(AuthOptions auth, bool inMemory)
    {
        var keys = new List<SecurityKey>();
        if (auth.SigningKeyBytes() is { } configured)
        {
            keys.Add(new SymmetricSecurityKey(configured));
        }

        if (auth.UsesDevelopmentCredentials(inMemory))
        {
            keys.Add(new SymmetricSecurityKey(ContactGrains.Client.DevelopmentCredentials.SigningKey));
        }

        return keys;
    }

    private static ContactGrainsOptions ReadOptions(IConfiguration configuration) =>
        configuration.GetSection(SectionName).Get<ContactGrainsOptions>() ?? new();

    private static void UsePostgreSql(ISiloBuilder silo, ContactGrainsOptions options)
    {
        var connectionString = options.Storage.ConnectionString;
        silo.Configure<Orleans.Configuration.ClusterOptions>(cluster =>
        {
            cluster.ServiceId = options.Cluster.ServiceId;
            cluster.ClusterId = options.Cluster.ClusterId;
        });
        silo.ConfigureEndpoints(IPAddress.Parse(options.Cluster.AdvertisedAddress), options.Cluster.SiloPort, options.Cluster.GatewayPort, listenOnAnyHostAddress: false);
        silo.UseContactGrainsPostgreSql(connectionString!, StorageNames.Default, groupCommit =>
        {
            groupCommit.Loops = options.Storage.GroupCommit.Loops;
            groupCommit.MaxBatch = options.Storage.GroupCommit.MaxBatch;
        });
        if (options.Cluster.FastFailureDetection)
        {
            silo.Configure<ClusterMembershipOptions>(membership =>
            {
                membership.ProbeTimeout = TimeSpan.FromSeconds(1);
                membership.NumMissedProbesLimit = 2;
                membership.NumProbedSilos = 2;
                membership.NumVotesForDeathDeclaration = 1;
                membership.TableRefreshTimeout = TimeSpan.FromSeconds(1);
                membership.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(2);
            });
        }
    }

    /// <summary>Maps the gRPC endpoints and announces where the silo listens.</summary>
    public static WebApplication MapContactGrains(this WebApplication app)
    {
        app.MapGrpcService<ChannelGrpcService>();
        app.MapGrpcService<AgentGrpcService>();
        app.MapGrpcService<Supervision.SupervisorGrpcService>();
        app.MapSupervisorConsole();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();

        var options = app.Services.GetRequiredService<ContactGrainsOptions>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ContactGrains");
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var consolePorts = options.ConsoleUrls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(url => new Uri(url).Port).ToHashSet();
            var (console, grpc) = (addresses.Where(a => consolePorts.Contains(new Uri(a).Port)).ToList(), addresses.Where(a => !consolePorts.Contains(new Uri(a).Port)).ToList());
            LogListening(logger, string.Join(", ", grpc));
            if (console.Count > 0)
            {
                LogConsole(logger, string.Join(", ", console.Select(a => a.TrimEnd('/') + ConsoleHosting.Path + "/")));
            }
            var auth = app.Services.GetRequiredService<AuthOptions>();
            if (auth.UsesDevelopmentCredentials(options.Storage.Provider == StorageProvider.Memory))
            {
                LogDevelopmentCredentials(logger);
            }

            if (options.Storage.Provider == StorageProvider.PostgreSql)
            {
                LogDurable(logger, options.Cluster.ClusterId, options.Cluster.SiloPort);
            }
            else
            {
                LogNotDurable(logger);
            }
        });
        return app;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "ContactGrains silo listening for gRPC (HTTP/2) on {Addresses}")]
    private static partial void LogListening(ILogger logger, string addresses);

    [LoggerMessage(Level = LogLevel.Information, Message = "Supervisor console (HTTP/1.1, with the JSON supervisor API under /api/v1) on {Addresses}")]
    private static partial void LogConsole(ILogger logger, string addresses);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Development profile: single silo, localhost clustering, in-memory storage. Conversations are NOT durable and are lost when this process stops.")]
    private static partial void LogNotDurable(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Development credentials accepted: anyone who reaches this silo can call as any channel (API key 'dev-key-<channel>') or agent (tokens signed with the published development key). Configure ContactGrains:Auth for anything else.")]
    private static partial void LogDevelopmentCredentials(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL profile: cluster '{ClusterId}', silo port {SiloPort}; state, membership and reminders are durable.")]
    private static partial void LogDurable(ILogger logger, string clusterId, int siloPort);
}
