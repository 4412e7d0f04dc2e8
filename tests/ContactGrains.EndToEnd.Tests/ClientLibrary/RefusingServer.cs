using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ContactGrains.EndToEnd.Tests.ClientLibrary;

/// <summary>
/// A loopback HTTP/2 server that answers every gRPC call with one status and nothing else, as a silo
/// that is shutting down (UNAVAILABLE) or a gateway that rejects callers would. Counts the calls.
/// </summary>
internal sealed class RefusingServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _calls;

    private RefusingServer(WebApplication app) => _app = app;

    public string Address => _app.Urls.Single();

    public int Calls => Volatile.Read(ref _calls);

    public static Task<RefusingServer> StartAsync(Grpc.Core.StatusCode status, string detail) =>
        StartAsync(async context =>
        {
            context.Response.ContentType = "application/grpc";
            context.Response.AppendTrailer("grpc-status", ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture));
            context.Response.AppendTrailer("grpc-message", detail);
            await context.Response.Body.FlushAsync();
        });

    /// <summary>A server that accepts every call (sends its headers) and then never answers, as a hung silo would.</summary>
    public static Task<RefusingServer> StartSilentAsync() =>
        StartAsync(async context =>
        {
            context.Response.ContentType = "application/grpc";
            await context.Response.Body.FlushAsync();
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        });

    private static async Task<RefusingServer> StartAsync(RequestDelegate answer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        var app = builder.Build();
        var server = new RefusingServer(app);
        app.Run(async context =>
        {
            Interlocked.Increment(ref server._calls);
            await answer(context);
        });
        await app.StartAsync();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
