using System.Globalization;
using ContactGrains.Client;
using ContactGrains.Console.Tests.Browser;
using ContactGrains.Protos.V1;
using ContactGrains.Silo.Hosting;
using ContactGrains.Testing;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace ContactGrains.Console.Tests;

/// <summary>
/// The real silo host in this process (gRPC on a free port, the console and its JSON API on another,
/// development credentials, delivery tracking supervised with every conversation reviewed), the
/// machine's Chromium, and gRPC clients that make the traffic a supervisor watches.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    public const string SupervisedIntent = "delivery_tracking";

    private WebApplication? _app;
    private Chromium? _chromium;

    /// <summary>The console and JSON API (HTTP/1.1), on a port of its own.</summary>
    public string ConsoleAddress { get; } = $"http://127.0.0.1:{FreePorts.Next()}";

    public string GrpcAddress { get; private set; } = "";

    public GrpcChannel Channel { get; private set; } = null!;

    public Chromium Chromium => _chromium ?? throw new InvalidOperationException("The browser has not started.");

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ContactGrains:Urls"] = "http://127.0.0.1:0",
            ["ContactGrains:ConsoleUrls"] = ConsoleAddress,
            ["ContactGrains:Cluster:SiloPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
            ["ContactGrains:Cluster:GatewayPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = "Warning",
            [$"ContactGrains:Automation:Levels:{SupervisedIntent}"] = "Supervised",
            ["ContactGrains:Automation:ReviewShare"] = "1",
            // Outcomes reach the intent figures quickly, so the automation screen shows a rating soon after it is given.
            ["ContactGrains:Automation:OutcomeFlushInterval"] = "00:00:00.200",
            // One rated conversation a side is evidence enough here, so a test can make the demotion rule act.
            ["ContactGrains:Automation:Demotion:MinimumSample"] = "1",
        });
        var errors = new StringWriter();
        if (!await builder.TryAddContactGrainsAsync(errors))
        {
            throw new InvalidOperationException(errors.ToString());
        }

        _app = builder.Build();
        _app.MapContactGrains();
        await _app.StartAsync();
        GrpcAddress = _app.Urls.Single(url => url != ConsoleAddress);
        Channel = ChannelClient.OpenChannel(GrpcAddress);
        _chromium = await Chromium.LaunchAsync();
        Microsoft.Playwright.Assertions.SetDefaultExpectTimeout(ConsolePage.PatienceMilliseconds);
    }

    public async Task DisposeAsync()
    {
        if (_chromium is not null)
        {
            await _chromium.DisposeAsync();
        }

        Channel?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    /// <summary>A development token for <paramref name="id"/> with the agent and supervisor roles.</summary>
    public static string SupervisorToken(string id) => DevelopmentCredentials.AgentToken(id, AccessTokens.AgentRole, AccessTokens.SupervisorRole);

    /// <summary>A development token for <paramref name="id"/> with the agent role only.</summary>
    public static string AgentToken(string id) => DevelopmentCredentials.AgentToken(id, AccessTokens.AgentRole);

    /// <summary>A fresh browser profile on the console's sign-in screen.</summary>
    public Task<ConsolePage> OpenConsoleAsync() => Chromium.OpenConsoleAsync(ConsoleAddress);

    /// <summary>A fresh browser profile signed in as supervisor <paramref name="id"/>, on the floor.</summary>
    public async Task<ConsolePage> SignedInAsync(string id)
    {
        var console = await OpenConsoleAsync();
        await console.SignInAsync(SupervisorToken(id));
        await console.Floor.WaitForAsync();
        return console;
    }

    public ChannelService.ChannelServiceClient Customer(string channel = "webchat") => ChannelClient.Create(Channel, channel);

    public SupervisorService.SupervisorServiceClient Supervisor(string id) => AgentClient.CreateSupervisor(Channel, SupervisorToken(id));

    /// <summary>A new customer's first message on the web chat; returns the conversation's id.</summary>
    public async Task<string> AskAsync(string text, string customerName = "Ada")
    {
        var response = await Customer().SendMessageAsync(new SendMessageRequest
        {
            Message = new InboundMessage
            {
                MessageId = Unique("m"),
                Conversation = new ContactGrains.Protos.V1.ConversationAddress { ExternalThreadId = Unique("thread") },
                Customer = new CustomerIdentity { ExternalCustomerId = Unique("c"), DisplayName = customerName, Language = "en" },
                Text = text,
            },
        });
        Assert.Equal(AckStatus.Accepted, response.Ack.Status);
        return response.Ack.ConversationId;
    }

    /// <summary>The customer writes again in <paramref name="conversationId"/>; returns the entries it produced.</summary>
    public async Task<IReadOnlyList<TimelineEntry>> SayAsync(string conversationId, string text)
    {
        var response = await Customer().SendMessageAsync(new SendMessageRequest
        {
            Message = new InboundMessage
            {
                MessageId = Unique("m"),
                Conversation = new ContactGrains.Protos.V1.ConversationAddress { ConversationId = conversationId },
                Text = text,
            },
        });
        return response.Entries;
    }

    /// <summary>
    /// An agent desk signed in with <paramref name="token"/> (default: an agent-only token), serving
    /// <paramref name="skills"/> in English, and set to <paramref name="presence"/>.
    /// </summary>
    public async Task<AgentConnection> DeskAsync(string agentId, string displayName, string[] skills, Presence presence, string? token = null)
    {
        var profile = new AgentProfile { DisplayName = displayName, Languages = { "en" } };
        foreach (var skill in skills)
        {
            profile.Skills.Add(new SkillLevel { Skill = skill, Proficiency = 3 });
        }

        var desk = await AgentConnection.ConnectAsync(new AgentConnectionOptions
        {
            AgentId = agentId,
            Token = token ?? AgentToken(agentId),
            Profile = profile,
            Addresses = [GrpcAddress],
        });
        await desk.SetPresenceAsync(presence);
        return desk;
    }

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
}

[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleFixture>
{
    public const string Name = "console";
}
