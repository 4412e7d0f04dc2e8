using System.Data.Common;
using System.Net.Sockets;
using Orleans.Runtime.Messaging;
using Orleans.Serialization;

namespace ContactGrains.Silo.Diagnostics;

/// <summary>What an expected fault is: infrastructure that comes back by itself, of which callers are told UNAVAILABLE.</summary>
public enum FaultKind
{
    /// <summary>The database is unreachable or failing (connection refused, reset, timed out).</summary>
    Database,

    /// <summary>Another silo is unreachable: it died, or is leaving the cluster.</summary>
    Silo,

    /// <summary>A call took longer than it may (a response timeout, or the caller's time budget).</summary>
    Timeout,
}

/// <summary>An expected fault: its kind and a one-line cause a person can act on.</summary>
public sealed record ExpectedFault(FaultKind Kind, string Cause);

/// <summary>
/// Tells expected faults (a silo or the database briefly unreachable or slow: retry) from bugs. One
/// place for the gRPC status mapping and for logging, so both agree on what is expected.
/// </summary>
public static class ExpectedFaults
{
    /// <summary>The expected fault behind <paramref name="exception"/> (looking through inner exceptions), or null for anything else.</summary>
    public static ExpectedFault? Classify(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case DbException database:
                    return new ExpectedFault(FaultKind.Database, $"the database is unreachable or failing ({Describe(database)})");

                // Exceptions from other silos may arrive as Orleans' fallback type, so names count too.
                case UnavailableExceptionFallbackException fallback when fallback.ExceptionType?.Contains("Npgsql", StringComparison.Ordinal) == true:
                    return new ExpectedFault(FaultKind.Database, $"the database is unreachable or failing ({fallback.ExceptionType}: {fallback.Message})");
                case SiloUnavailableException or OrleansMessageRejectionException or ConnectionFailedException:
                    return new ExpectedFault(FaultKind.Silo, $"a silo is unreachable ({Describe(current)})");
                case UnavailableExceptionFallbackException fallback when fallback.ExceptionType?.Contains("Socket", StringComparison.Ordinal) == true:
                    return new ExpectedFault(FaultKind.Silo, $"a silo is unreachable ({fallback.ExceptionType}: {fallback.Message})");
                case SocketException socket:
                    return new ExpectedFault(FaultKind.Silo, $"a connection failed ({Describe(socket)})");
                case TimeoutException or TimeBudgetExceededException:
                    return new ExpectedFault(FaultKind.Timeout, $"a call took too long ({Describe(current)})");
            }
        }

        return null;
    }

    /// <summary>True when <paramref name="exception"/> is an expected fault: the caller should retry.</summary>
    public static bool IsExpected(Exception exception) => Classify(exception) is not null;

    private static string Describe(Exception exception)
    {
        // The first line only: enough to recognise the cause, never a stack trace or kilobytes of detail.
        var message = exception.Message;
        var end = message.IndexOfAny(['\r', '\n']);
        if (end >= 0)
        {
            message = message[..end];
        }

        return $"{exception.GetType().Name}: {(message.Length > 200 ? message[..200] + "…" : message)}";
    }
}

/// <summary>A call into the cluster ran out of the time it was given (the caller's deadline or the silo's call budget).</summary>
public sealed class TimeBudgetExceededException(TimeSpan budget, Exception? inner = null)
    : Exception($"The call did not complete within its time budget of {budget.TotalSeconds:0.#} s.", inner);
