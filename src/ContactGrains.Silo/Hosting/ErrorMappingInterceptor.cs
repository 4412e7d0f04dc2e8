using Grpc.Core;
using Grpc.Core.Interceptors;
using ContactGrains.Contracts;
using ContactGrains.Silo.Channels;
using Orleans.Storage;

namespace ContactGrains.Silo.Hosting;

/// <summary>
/// Turns failures that escape a handler into precise statuses, so a caller knows whether to retry:
/// the cluster being briefly unreachable is UNAVAILABLE (retry), a concurrent write conflict is
/// ABORTED (retry the operation), a grain's refusal its own code, anything else INTERNAL (a bug: see the silo's log).
/// </summary>
internal sealed partial class ErrorMappingInterceptor(ILogger<ErrorMappingInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    private RpcException Map(Exception exception, ServerCallContext context)
    {
        var status = exception switch
        {
            // The caller went away (cancelled, or reset its stream as a dropped adapter connection
            // does): whatever failed next (often an IOException reading the reset request stream) is a
            // consequence of that, not a bug, and nobody is left to receive a status anyway.
            _ when context.CancellationToken.IsCancellationRequested =>
                new Status(StatusCode.Cancelled, "The call was cancelled."),
            RequestRejectedException rejected =>
                new Status(ChannelMapping.ToStatusCode(rejected.Code), rejected.Message),
            _ when IsTransient(exception) =>
                new Status(StatusCode.Unavailable, "The cluster could not complete this call now (a silo or the database is unreachable); retry it (message resends are deduplicated)."),
            InconsistentStateException =>
                new Status(StatusCode.Aborted, "A concurrent change to the same conversation won; retry the call."),
            _ => new Status(StatusCode.Internal, $"Internal error ({exception.GetType().Name}); the silo's log has the details."),
        };

        if (status.StatusCode == StatusCode.Internal)
        {
            LogUnexpected(exception, context.Method);
        }
        else if (status.StatusCode == StatusCode.Cancelled)
        {
            LogCancelled(context.Method, exception.GetType().Name);
        }
        else
        {
            LogMapped(context.Method, status.StatusCode, exception.GetType().Name);
        }

        return new RpcException(status);
    }

    /// <summary>
    /// A failure of infrastructure that comes back by itself: a silo or the database unreachable or
    /// too slow. Exceptions from other silos may arrive as Orleans' fallback type, so names count too.
    /// </summary>
    internal static bool IsTransient(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case TimeoutException or SiloUnavailableException or OrleansMessageRejectionException
                    or System.Data.Common.DbException or System.Net.Sockets.SocketException:
                    return true;
                case Orleans.Serialization.UnavailableExceptionFallbackException fallback
                    when fallback.ExceptionType?.Contains("Npgsql", StringComparison.Ordinal) == true || fallback.ExceptionType?.Contains("Socket", StringComparison.Ordinal) == true:
                    return true;
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected failure in {Method}")]
    private partial void LogUnexpected(Exception exception, string method);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Method}: the caller went away ({ExceptionType})")]
    private partial void LogCancelled(string method, string exceptionType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} failed with {StatusCode} ({ExceptionType})")]
    private partial void LogMapped(string method, StatusCode statusCode, string exceptionType);
}
