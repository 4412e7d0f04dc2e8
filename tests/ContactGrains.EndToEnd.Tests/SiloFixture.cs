using System.Net;
using System.Net.Sockets;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using ContactGrains.Silo.Hosting;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// The real silo host (Kestrel, HTTP/2, Orleans, the shipped knowledge base) on a free loopback
/// port, reached through a real gRPC client.
/// </summary>
public class SiloFixture : IAsyncLifetime
{
    public const string RateLimitedChannel = "ratelimited";
    public const int RateLimitedChannelPerSecond = 5;
    public static readonly TimeSpan StalledStreamTimeout = TimeSpan.FromSeconds(4);

    private WebApplication? _app;

    public string Address { get; private set; } = "";

    public GrpcChannel Channel { get; private set; } = null!;

    /// <summary>The supervisor console and JSON API (HTTP/1.1), on a port of its own.</summary>
    public string ConsoleAddress { get; } = $"http://127.0.0.1:{FreePort()}";

    /// <summary>The silo host's services, for tests that check server-side state directly (e.g. its grain factory).</summary>
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The silo has not started.");

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ContactGrains:Urls"] = "http://127.0.0.1:0",
            ["ContactGrains:ConsoleUrls"] = ConsoleAddress,
            ["ContactGrains:Cluster:SiloPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ContactGrains:Cluster:GatewayPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = "Warning",
            // One channel with a tiny per-silo limit, for the rate-limit tests; every other channel keeps the default.
            // Short, so a test sees a stream that stops reading closed; every test client reads continuously.
            ["ContactGrains:Limits:StalledStreamTimeout"] = StalledStreamTimeout.ToString(),
            [$"ContactGrains:Limits:Channels:{RateLimitedChannel}"] = RateLimitedChannelPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.Configuration.AddInMemoryCollection(ExtraSettings);
        Configure(builder);
        var errors = new StringWriter();
        if (!await builder.TryAddContactGrainsAsync(errors))
        {
            throw new InvalidOperationException(errors.ToString());
        }

        _app = builder.Build();
        _app.MapContactGrains();
        await _app.StartAsync();
        Address = _app.Urls.Single(url => url != ConsoleAddress);
        Channel = ChannelClient.OpenChannel(Address);
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    /// <summary>The channel API as adapter <paramref name="channel"/>: for unary calls, or to open an <see cref="AdapterStream"/> or a <see cref="RawChannelStream"/>.</summary>
    public SiloChannelClient Client(string channel = "webchat") => new(Channel, channel);

    public AgentService.AgentServiceClient Agent(string agentId) => AgentClient.Create(Channel, agentId);

    /// <summary>The supervisor API as supervisor <paramref name="supervisorId"/> (a development token with the supervisor role).</summary>
    public SupervisorService.SupervisorServiceClient Supervisor(string supervisorId = "sam") =>
        AgentClient.CreateSupervisor(Channel, DevelopmentCredentials.AgentToken(supervisorId, AccessTokens.SupervisorRole));

    /// <summary>Settings a derived fixture adds to the defaults.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> ExtraSettings => [];

    /// <summary>What a derived fixture adds to the host before it is built (e.g. a logger that records).</summary>
    protected virtual void Configure(WebApplicationBuilder builder)
    {
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>
/// The generated channel client, calling as adapter <see cref="Channel"/>, that also remembers its
/// gRPC channel, so that an <see cref="AdapterStream"/> can open a library connection as the same adapter.
/// </summary>
public sealed class SiloChannelClient(GrpcChannel grpcChannel, string channel)
    : ChannelService.ChannelServiceClient(grpcChannel.Intercept(metadata =>
    {
        metadata.Add(ChannelClient.ChannelHeader, channel);
        metadata.Add(ChannelKeys.Header, DevelopmentCredentials.ChannelKey(channel));
        return metadata;
    }))
{
    public GrpcChannel GrpcChannel => grpcChannel;

    public string Channel => channel;
}

[CollectionDefinition(Name)]
public sealed class SiloCollection : ICollectionFixture<SiloFixture>
{
    public const string Name = "silo";
}
