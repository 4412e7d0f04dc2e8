using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ContactGrains.EchoServer;

/// <summary>Registration of the echo server: Kestrel on loopback (HTTP/2 only, as the silo), gRPC and the timeline.</summary>
public static class EchoHosting
{
    /// <summary>The start of the line printed once the server listens, followed by its address(es).</summary>
    public const string ListeningPrefix = "echo server listening on ";

    private const string DefaultUrl = "http://127.0.0.1:0";

    /// <summary>Adds the services; false, after one line on <paramref name="errors"/>, when an address is not loopback.</summary>
    public static bool TryAddEchoServer(this WebApplicationBuilder builder, TextWriter errors)
    {
        var urls = (builder.Configuration["urls"] is { Length: > 0 } configured ? configured : DefaultUrl)
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (urls.FirstOrDefault(url => !IsLoopbackUrl(url)) is { } refused)
        {
            errors.WriteLine($"The echo server listens on loopback only (http://127.0.0.1:port, http://[::1]:port or http://localhost:port), not '{refused}'.");
            return false;
        }

        builder.WebHost.UseUrls(urls);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2));

        // A line per call would cost more than the call.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<EchoTimeline>();
        return true;
    }

    public static void MapEchoServer(this WebApplication app) => app.MapGrpcService<EchoChannelService>();

    private static bool IsLoopbackUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && uri.Scheme == Uri.UriSchemeHttp
        && (uri.IsLoopback || (IPAddress.TryParse(uri.Host, out var ip) && IPAddress.IsLoopback(ip)));
}
