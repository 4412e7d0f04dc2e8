using System.Net;
using System.Net.Sockets;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using ContactGrains.Silo.Hosting;
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
    private WebApplication? _app;

    public string Address { get; private set; } = "";

    public GrpcChannel Channel { get; private set; } = null!;

    /// <summary>The silo host's services, for tests that check server-side state directly (e.g. its grain factory).</summary>
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The silo has not started.");

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ContactGrains:Urls"] = "http://127.0.0.1:0",
            ["ContactGrains:Cluster:SiloPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ContactGrains:Cluster:GatewayPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = "Warning",
        });
        builder.Configuration.AddInMemoryCollection(ExtraSettings);
        var errors = new StringWriter();
        if (!await builder.TryAddContactGrainsAsync(errors))
        {
            throw new InvalidOperationException(errors.ToString());
        }

        _app = builder.Build();
        _app.MapContactGrains();
        await _app.StartAsync();
        Address = _app.Urls.Single();
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

    public ChannelService.ChannelServiceClient Client(string channel = "webchat") => ChannelClient.Create(Channel, channel);

    public AgentService.AgentServiceClient Agent(string agentId) => AgentClient.Create(Channel, agentId);

    /// <summary>Settings a derived fixture adds to the defaults.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> ExtraSettings => [];

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class SiloCollection : ICollectionFixture<SiloFixture>
{
    public const string Name = "silo";
}
