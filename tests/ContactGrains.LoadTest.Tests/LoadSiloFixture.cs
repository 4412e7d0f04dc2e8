using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ContactGrains.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace ContactGrains.LoadTest.Tests;

/// <summary>
/// The real silo host (Kestrel, HTTP/2, Orleans, development profile) on a free loopback port, for
/// the load tester's smoke runs: they reach it at <see cref="Address"/> as they would a silo of
/// their own.
/// </summary>
public sealed class LoadSiloFixture : IAsyncLifetime
{
    private WebApplication? _app;

    /// <summary>The silo's gRPC address, e.g. http://127.0.0.1:41234, for <c>--address</c>.</summary>
    public string Address { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ContactGrains:Urls"] = "http://127.0.0.1:0",
            ["ContactGrains:ConsoleUrls"] = "",
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

/// <summary>
/// Tests against the one <see cref="LoadSiloFixture"/>. They run one after another (one collection),
/// so runs do not compete for the silo and the machine's cores.
/// </summary>
[CollectionDefinition(Name)]
public sealed class LoadSiloCollection : ICollectionFixture<LoadSiloFixture>
{
    public const string Name = "load silo";
}
