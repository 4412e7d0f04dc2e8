using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ContactGrains.Silo.Diagnostics;

/// <summary>
/// Routes log entries about expected faults into <see cref="FaultIncidents"/> instead of the log:
/// an entry at warning level or above whose exception is an expected fault
/// (<see cref="ExpectedFaults.Classify"/>) is counted, whoever wrote it (our grains and services,
/// Orleans' storage providers and activations, ASP.NET Core). Everything else, and every unexpected
/// exception with its stack trace, is logged as it was. It wraps the host's logger factory, so every
/// logging provider sees the same filtered stream.
/// </summary>
public static class ExpectedFaultLogging
{
    /// <summary>The category under which incidents are reported.</summary>
    public const string Category = "ContactGrains.Faults";

    /// <summary>Wraps the registered <see cref="ILoggerFactory"/>; registers <see cref="FaultIncidents"/>.</summary>
    public static IServiceCollection AddExpectedFaultLogging(this IServiceCollection services)
    {
        var original = services.LastOrDefault(d => d.ServiceType == typeof(ILoggerFactory))
            ?? throw new InvalidOperationException("AddExpectedFaultLogging needs logging to be registered first (AddLogging).");
        services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(provider =>
        {
            var inner = original switch
            {
                { ImplementationInstance: ILoggerFactory instance } => instance,
                { ImplementationFactory: { } factory } => (ILoggerFactory)factory(provider),
                _ => (ILoggerFactory)ActivatorUtilities.CreateInstance(provider, original.ImplementationType!),
            };
            var time = provider.GetService<TimeProvider>() ?? TimeProvider.System;
            return new FaultAwareLoggerFactory(inner, new FaultIncidents(inner.CreateLogger(Category), time));
        }));
        services.TryAddSingleton(provider => ((FaultAwareLoggerFactory)provider.GetRequiredService<ILoggerFactory>()).Incidents);
        return services;
    }

    private sealed class FaultAwareLoggerFactory(ILoggerFactory inner, FaultIncidents incidents) : ILoggerFactory
    {
        public FaultIncidents Incidents => incidents;

        // One logger per category, as LoggerFactory does: some callers ask once per grain activation.
        private readonly ConcurrentDictionary<string, FaultAwareLogger> _loggers = new(StringComparer.Ordinal);

        public ILogger CreateLogger(string categoryName) =>
            _loggers.GetOrAdd(categoryName, static (category, parts) => new FaultAwareLogger(parts.inner.CreateLogger(category), category, parts.incidents), (inner, incidents));

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose()
        {
            incidents.Dispose();
            inner.Dispose();
        }
    }

    private sealed class FaultAwareLogger(ILogger inner, string category, FaultIncidents incidents) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel) || logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Warning && exception is not null && ExpectedFaults.Classify(exception) is { } fault)
            {
                incidents.Record(fault, category);
                return;
            }

            if (inner.IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
