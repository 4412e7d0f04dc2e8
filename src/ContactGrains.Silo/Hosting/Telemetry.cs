using ContactGrains.Grains.Diagnostics;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ContactGrains.Silo.Hosting;

/// <summary>
/// Metrics, traces and logs the eShop ServiceDefaults way: one place wires OpenTelemetry for the
/// silo. Metrics (ContactGrains' own meter, Orleans', ASP.NET Core's, the runtime's, Npgsql's) are
/// always collected and served to Prometheus when <see cref="TelemetryOptions.PrometheusUrl"/> is
/// set; traces and logs are exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (traces cost
/// a span per call, so they are not made for nobody).
/// </summary>
public static class Telemetry
{
    /// <summary>Orleans' meter, and the activity source of spans around grain calls.</summary>
    public const string OrleansMeter = "Microsoft.Orleans";

    public const string OrleansApplicationSource = "Microsoft.Orleans.Application";

    public static void AddContactGrainsTelemetry(this WebApplicationBuilder builder, TelemetryOptions options)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(options.ServiceName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(ContactGrainsMetrics.MeterName, OrleansMeter)
                    .AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddNpgsqlInstrumentation();
                if (!string.IsNullOrWhiteSpace(options.PrometheusUrl))
                {
                    var scrape = new Uri(options.PrometheusUrl);
                    metrics.AddPrometheusHttpListener(listener =>
                    {
                        listener.Host = scrape.Host;
                        listener.Port = scrape.Port;
                    });
                }
            });
        if (otlp)
        {
            builder.Logging.AddOpenTelemetry(logging =>
            {
                logging.IncludeScopes = true;
                logging.IncludeFormattedMessage = true;
            });
            telemetry.WithTracing(tracing => tracing
                    .AddSource(ContactGrainsMetrics.MeterName, OrleansApplicationSource)
                    .AddAspNetCoreInstrumentation()
                    .AddNpgsql())
                .UseOtlpExporter();
        }
    }
}

/// <summary>The "ContactGrains:Telemetry" section.</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "ContactGrains:Telemetry";

    /// <summary>The service name on every metric, span and log record.</summary>
    public string ServiceName { get; set; } = "contactgrains";

    /// <summary>
    /// Where Prometheus scrapes this silo (HTTP/1.1, path /metrics), e.g. http://127.0.0.1:9464;
    /// empty (the default) serves no scrape endpoint. One per silo: each its own port.
    /// </summary>
    public string PrometheusUrl { get; set; } = "";
}
