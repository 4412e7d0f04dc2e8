using ContactGrains.Contracts;
using ContactGrains.Silo.Channels;
using ContactGrains.Silo.Diagnostics;
using Grpc.Core;
using Orleans.Storage;

namespace ContactGrains.Silo.Hosting;

/// <summary>
/// The one mapping from a failure to the gRPC status a caller gets, for unary calls and for the
/// acks of stream frames alike: whether to retry is the caller's first question.
/// </summary>
public static class ErrorMapping
{
    public const string RetryLater =
        "The cluster could not complete this call now (a silo or the database is unreachable or slow); retry it (message resends are deduplicated).";

    /// <summary>The longest status detail a caller gets: errors name what is wrong, they never echo a large input back.</summary>
    public const int MaxDetailLength = 500;

    /// <summary><paramref name="detail"/>, cut to <see cref="MaxDetailLength"/> characters.</summary>
    public static string Bound(string detail) =>
        detail.Length <= MaxDetailLength ? detail : string.Concat(detail.AsSpan(0, MaxDetailLength - 1), "…");

    /// <summary>The same exception, or one with its detail cut to <see cref="MaxDetailLength"/>.</summary>
    public static RpcException Bound(RpcException exception) =>
        exception.Status.Detail.Length <= MaxDetailLength
            ? exception
            : new RpcException(new Status(exception.StatusCode, Bound(exception.Status.Detail)), exception.Trailers);

    /// <summary>
    /// An expected fault (<see cref="ExpectedFaults"/>) is UNAVAILABLE (retry); a concurrent write
    /// conflict ABORTED (retry the operation); a grain's refusal its own code; anything else INTERNAL
    /// (a bug: the silo's log has its stack trace).
    /// </summary>
    public static Status ToStatus(Exception exception) => exception switch
    {
        RequestRejectedException rejected => new Status(ChannelMapping.ToStatusCode(rejected.Code), rejected.Message),
        TimeBudgetExceededException budget => new Status(StatusCode.Unavailable, $"{budget.Message} {RetryLater}"),
        _ when ExpectedFaults.IsExpected(exception) => new Status(StatusCode.Unavailable, RetryLater),
        InconsistentStateException => new Status(StatusCode.Aborted, "A concurrent change to the same conversation won; retry the call."),
        _ => new Status(StatusCode.Internal, $"Internal error ({exception.GetType().Name}); the silo's log has the details."),
    };
}
