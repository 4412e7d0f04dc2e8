using Microsoft.Extensions.FileProviders;

namespace ContactGrains.Silo.Supervision;

/// <summary>
/// The supervisor console: a static page (Supervision/Console, embedded in the silo) that calls the
/// supervisor API as JSON (gRPC JSON transcoding, /api/v1/...) with the supervisor's bearer token.
/// </summary>
internal static class ConsoleHosting
{
    public const string Path = "/console";
    private const string AssetsNamespace = "ContactGrains.Silo.Supervision.Console";

    /// <summary>Null when the console's addresses can be served, else why not.</summary>
    public static string? CheckUrls(IReadOnlyList<string> consoleUrls, IReadOnlyList<string> grpcUrls)
    {
        var grpcPorts = grpcUrls.Select(url => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Port : -1).ToHashSet();
        foreach (var url in consoleUrls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                return $"ContactGrains:ConsoleUrls: '{url}' is not an http:// or https:// address such as http://127.0.0.1:5090.";
            }

            if (uri.Port == 0 || grpcPorts.Contains(uri.Port))
            {
                return $"ContactGrains:ConsoleUrls: '{url}' needs a port of its own (not 0, and not one of ContactGrains:Urls): browsers speak HTTP/1.1 there, gRPC needs HTTP/2.";
            }
        }

        return null;
    }

    public static WebApplication MapSupervisorConsole(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments(Path) || context.Request.Path.StartsWithSegments("/api"))
            {
                var headers = context.Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                headers.XFrameOptions = "DENY";
                headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
            }

            await next(context);
        });
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = Assets, RequestPath = Path });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = Assets,
            RequestPath = Path,
            OnPrepareResponse = file => file.Context.Response.Headers.CacheControl = "no-cache", // revalidate: the ETag changes with each build
        });
        app.MapGet("/", () => Results.Redirect(Path + "/"));
        return app;
    }

    private static readonly IFileProvider Assets = new EmbeddedFileProvider(typeof(ConsoleHosting).Assembly, AssetsNamespace);
}
