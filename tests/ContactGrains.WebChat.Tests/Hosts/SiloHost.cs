using System.Globalization;
using ContactGrains.Silo.Hosting;
using ContactGrains.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace ContactGrains.WebChat.Tests.Hosts;

/// <summary>
/// The real silo host (Kestrel, HTTP/2, Orleans, the shipped knowledge base) in this process, on
/// loopback ports chosen once: a restart comes back on the same addresses, as a restarted silo
/// behind a fixed address would. With a PostgreSQL connection string it keeps its state across a
/// restart; without, it keeps it in memory (lost when it stops).
/// </summary>
public sealed class SiloHost(string? postgresConnectionString = null) : IAsyncDisposable
{
    private readonly int _grpcPort = FreePorts.Next();
    private readonly int _siloPort = FreePorts.Next();
    private readonly int _gatewayPort = FreePorts.Next();
    private WebApplication? _app;

    /// <summary>The gRPC address adapters and agents use.</summary>
    public string Address => $"http://127.0.0.1:{_grpcPort}";

    public async Task StartAsync()
    {
        if (_app is not null)
        {
            throw new InvalidOperationException("The silo is already running.");
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        var settings = new Dictionary<string, string?>
        {
            ["ContactGrains:Urls"] = Address,
            ["ContactGrains:ConsoleUrls"] = "",
            ["ContactGrains:Cluster:SiloPort"] = _siloPort.ToString(CultureInfo.InvariantCulture),
            ["ContactGrains:Cluster:GatewayPort"] = _gatewayPort.ToString(CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = "Warning",
        };
        if (postgresConnectionString is not null)
        {
            settings["ContactGrains:Storage:Provider"] = "PostgreSql";
            settings["ContactGrains:Storage:ConnectionString"] = postgresConnectionString;
            settings["ContactGrains:Auth:DevelopmentCredentials"] = "true";
        }

        builder.Configuration.AddInMemoryCollection(settings);
        var errors = new StringWriter();
        if (!await builder.TryAddContactGrainsAsync(errors))
        {
            throw new InvalidOperationException(errors.ToString());
        }

        var app = builder.Build();
        app.MapContactGrains();
        await app.StartAsync();
        _app = app;
    }

    /// <summary>Stops the silo (gracefully: its streams end, Orleans leaves the cluster).</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
