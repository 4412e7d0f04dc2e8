using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ContactGrains.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace ContactGrains.LoadTest.Tests;

/// <summary>
/// The real silo host (Kestrel on a free loopback port, Orleans, memory storage, the shipped
/// knowledge base) in the test process, for smoke runs of the agent-side load modes.
/// </summary>
public sealed class AgentsSiloFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public string Address { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ContactGrains:Urls"] = "http://127.0.0.1:0",
            ["ContactGrains:Cluster:SiloPort"] = FreePort(),
            ["ContactGrains:Cluster:GatewayPort"] = FreePort(),
            ["Logging:LogLevel:Default"] = "Warning",
        });
        var errors = new StringWriter();
        if (!await builder.TryAddContactGrainsAsync(errors))
        {
            throw new InvalidOperationException(errors.ToString());
        }

        _app = builder.Build();
        _app.MapContactGrains();
        await _app.StartAsync();
        Address = _app.Urls.Single();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private static string FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
    }
}

/// <summary>Smoke runs share one silo and run one at a time: each is a load run, and the machine is small.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AgentsSiloCollection : ICollectionFixture<AgentsSiloFixture>
{
    public const string Name = "agents silo";
}
