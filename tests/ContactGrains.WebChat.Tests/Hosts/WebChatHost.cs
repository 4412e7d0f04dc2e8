using ContactGrains.Testing;
using ContactGrains.WebChat.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace ContactGrains.WebChat.Tests.Hosts;

/// <summary>
/// The web chat app, exactly as <c>Program.cs</c> sets it up, on real Kestrel on a loopback port
/// chosen once, so a restart comes back where the browser expects it. Its cookie-signing keys live
/// in a folder of its own that outlives restarts, as they would in production.
/// </summary>
public sealed class WebChatHost(string siloAddress) : IAsyncDisposable
{
    private readonly int _port = FreePorts.Next();
    private readonly string _keys = Directory.CreateTempSubdirectory("contactgrains-webchat-keys-").FullName;
    private WebApplication? _app;

    public string Address => $"http://127.0.0.1:{_port}";

    public async Task StartAsync()
    {
        if (_app is not null)
        {
            throw new InvalidOperationException("The web chat is already running.");
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ContactGrains:WebChat:Urls"] = Address,
            ["ContactGrains:WebChat:Silos"] = siloAddress,
            ["ContactGrains:WebChat:KeysDirectory"] = _keys,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        var errors = new StringWriter();
        if (!builder.TryAddWebChat(errors))
        {
            throw new InvalidOperationException(errors.ToString());
        }

        var app = builder.Build();
        app.MapWebChat();
        await app.StartAsync();
        _app = app;
    }

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_keys, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
