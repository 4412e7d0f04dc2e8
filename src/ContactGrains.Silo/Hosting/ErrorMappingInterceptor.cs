using Grpc.Core;
using Grpc.Core.Interceptors;
using ContactGrains.Silo.Diagnostics;

namespace ContactGrains.Silo.Hosting;

/// <summary>
/// Gives every unary call its <see cref="CallBudget"/> and turns failures that escape a handler into
/// precise statuses (<see cref="ErrorMapping"/>), so a caller knows whether to retry. Expected faults
/// are logged with their exception at warning level, which <see cref="ExpectedFaultLogging"/> turns
/// into one incident; only unexpected ones are logged as errors with their stack trace.
/// </summary>
internal sealed partial class ErrorMappingInterceptor(ContactGrainsOptions options, ILogger<ErrorMappingInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        using var budget = CallBudget.Start(context.CancellationToken, options.Cluster.CallTimeout);
        try
        {
            context.UserState[typeof(CallBudget)] = budget;
            return await continuation(request, context);
        }
        catch (RpcException ex) when (ex.Status.Detail.Length > ErrorMapping.MaxDetailLength)
        {
            throw ErrorMapping.Bound(ex);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(budget.Explain(ex), context);
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
        catch (RpcException ex) when (ex.Status.Detail.Length > ErrorMapping.MaxDetailLength)
        {
            throw ErrorMapping.Bound(ex);
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
        catch (RpcException ex) when (ex.Status.Detail.Length > ErrorMapping.MaxDetailLength)
        {
            throw ErrorMapping.Bound(ex);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    private RpcException Map(Exception exception, ServerCallContext context)
    {
        if (context.CancellationToken.IsCancellationRequested)
        {
            // The caller went away (cancelled, its deadline passed, or it reset its stream as a dropped
            // adapter connection does): whatever failed next is a consequence of that, not a bug, and
            // nobody is left to receive a status anyway.
            LogCancelled(context.Method, exception.GetType().Name);
            return new RpcException(new Status(StatusCode.Cancelled, "The call was cancelled."));
        }

        var status = ErrorMapping.ToStatus(exception);
        if (status.StatusCode == StatusCode.Internal)
        {
            LogUnexpected(exception, context.Method);
        }
        else if (status.StatusCode == StatusCode.Unavailable)
        {
            LogUnavailable(exception, context.Method);
        }
        else
        {
            LogMapped(context.Method, status.StatusCode, exception.GetType().Name);
        }

        return new RpcException(status);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected failure in {Method}")]
    private partial void LogUnexpected(Exception exception, string method);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Method}: the caller went away ({ExceptionType})")]
    private partial void LogCancelled(string method, string exceptionType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} failed with UNAVAILABLE")]
    private partial void LogUnavailable(Exception exception, string method);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Method} failed with {StatusCode} ({ExceptionType})")]
    private partial void LogMapped(string method, StatusCode statusCode, string exceptionType);
}
