using Grpc.Core;
using ContactGrains.Silo.Diagnostics;

namespace ContactGrains.Silo.Hosting;

/// <summary>
/// The time one call (or one frame of an adapter stream) may spend in the grains: the caller's gRPC
/// deadline or <see cref="ContactGrainsOptions.ClusterOptions.CallTimeout"/>, whichever comes first.
/// Its token goes to every grain call made for the caller, so Orleans drops the request if it has not
/// started yet and the caller hears UNAVAILABLE promptly instead of waiting on a dead silo or database.
/// </summary>
public sealed class CallBudget : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly CancellationToken _caller;

    private CallBudget(CancellationToken caller, TimeSpan timeout)
    {
        _caller = caller;
        Timeout = timeout;
        _source = CancellationTokenSource.CreateLinkedTokenSource(caller);
        _source.CancelAfter(timeout);
    }

    public TimeSpan Timeout { get; }

    /// <summary>Cancelled when the caller goes away, its deadline passes, or the budget runs out.</summary>
    public CancellationToken Token => _source.Token;

    public static CallBudget Start(CancellationToken caller, TimeSpan timeout) => new(caller, timeout);

    /// <summary>
    /// What a failure under this budget means: a cancellation caused by the budget running out (the
    /// caller is still there) becomes <see cref="TimeBudgetExceededException"/>; anything else is itself.
    /// </summary>
    public Exception Explain(Exception exception) =>
        exception is OperationCanceledException && _source.IsCancellationRequested && !_caller.IsCancellationRequested
            ? new TimeBudgetExceededException(Timeout, exception)
            : exception;

    public void Dispose() => _source.Dispose();
}

/// <summary>How a handler finds the budget the interceptor gave its call.</summary>
internal static class CallBudgetExtensions
{
    /// <summary>
    /// The token to pass to grain calls made for this call: its <see cref="CallBudget"/>'s, or the
    /// call's own token where no budget was set (streaming calls).
    /// </summary>
    public static CancellationToken BudgetToken(this ServerCallContext context) =>
        context.UserState.TryGetValue(typeof(CallBudget), out var budget) ? ((CallBudget)budget).Token : context.CancellationToken;
}
