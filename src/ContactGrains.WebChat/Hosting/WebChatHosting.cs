using ContactGrains.WebChat.Chat;
using ContactGrains.WebChat.Cluster;
using ContactGrains.WebChat.Resources;
using ContactGrains.WebChat.Sessions;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Localization;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace ContactGrains.WebChat.Hosting;

/// <summary>Sets up the web chat on a <see cref="WebApplication"/>: used by <c>Program.cs</c> and by the tests, so both run the same app.</summary>
public static class WebChatHosting
{
    /// <summary>
    /// Adds the web chat's services and listening address. Returns false, after writing one clear line
    /// to <paramref name="errors"/>, when the settings cannot work.
    /// </summary>
    public static bool TryAddWebChat(this WebApplicationBuilder builder, TextWriter errors)
    {
        var options = new WebChatOptions();
        var section = builder.Configuration.GetSection(WebChatOptions.SectionName);
        try
        {
            section.Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            errors.WriteLine($"The web chat cannot start: a setting in the '{WebChatOptions.SectionName}' section is invalid. {ex.Message}");
            return false;
        }

        // One string ("http://a:5000;http://b:5000") is as good as a list.
        options.Silos = options.Silos.Count > 0 ? options.Silos : [.. SplitList(section["Silos"])];
        if (options.Silos.Count == 0)
        {
            options.Silos.Add(WebChatOptions.DefaultSilo);
        }

        if (options.Validate() is { } problem)
        {
            errors.WriteLine($"The web chat cannot start: {problem}");
            return false;
        }

        builder.WebHost.UseUrls(SplitList(options.Urls));
        builder.Services.AddSingleton(Options.Create(options));
        builder.Services.AddSingleton<ClusterLink>();
        builder.Services.AddSingleton<VisitorSessions>();
        builder.Services.AddSingleton<VisitorSignals>();
        builder.Services.AddSingleton<PageTemplate>();
        builder.Services.AddProblemDetails();
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName("ContactGrains.WebChat");
        if (!string.IsNullOrWhiteSpace(options.KeysDirectory))
        {
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(options.KeysDirectory));
        }

        builder.Services.Configure<RequestLocalizationOptions>(localization =>
        {
            localization.DefaultRequestCulture = new RequestCulture(WebChatText.Cultures[0]);
            localization.SupportedCultures = [.. WebChatText.Cultures];
            localization.SupportedUICultures = [.. WebChatText.Cultures];
            localization.FallBackToParentCultures = true;
            localization.FallBackToParentUICultures = true;

            // ?lang=fr first (the page's switch), then the cookie it leaves, then the browser's Accept-Language.
            localization.RequestCultureProviders =
            [
                new QueryStringRequestCultureProvider { QueryStringKey = "lang", UIQueryStringKey = "lang" },
                new CookieRequestCultureProvider(),
                new AcceptLanguageHeaderRequestCultureProvider(),
            ];
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        return true;
    }

    /// <summary>Adds the middleware and maps the page, its files and the API.</summary>
    public static WebApplication MapWebChat(this WebApplication app)
    {
        // Behind a TLS-terminating proxy on this machine, the session cookie is still marked Secure.
        app.UseForwardedHeaders(new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedProto });
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'";
            await next(context);
        });
        app.UseRequestLocalization();
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new EmbeddedFileProvider(typeof(WebChatHosting).Assembly, PageTemplate.AssetsNamespace),
            RequestPath = "/assets",
            OnPrepareResponse = file => file.Context.Response.Headers.CacheControl = "no-cache", // revalidate: the ETag changes with each build
        });
        app.MapChat();
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            _ = app.Services.GetRequiredService<ClusterLink>().Connection; // connect now: the first customer need not wait for it
            var options = app.Services.GetRequiredService<IOptions<WebChatOptions>>().Value;
            app.Logger.LogInformation(
                "Web chat on {Urls}, speaking to the cluster at {Silos} as channel '{Channel}'.",
                string.Join(", ", app.Urls), string.Join(", ", options.Silos), options.Channel);
        });
        return app;
    }

    private static string[] SplitList(string? value) =>
        value?.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
}
