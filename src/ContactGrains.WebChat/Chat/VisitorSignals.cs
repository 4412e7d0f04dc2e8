using System.Collections.Concurrent;

namespace ContactGrains.WebChat.Chat;

/// <summary>
/// Wakes a visitor's idle event streams when this instance stored a message of theirs, so the
/// first answer shows at once instead of at the next poll. Other instances' messages are found by
/// the poll (<see cref="Hosting.WebChatOptions.IdlePollInterval"/>).
/// </summary>
public sealed class VisitorSignals
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiting = new(StringComparer.Ordinal);

    /// <summary>
    /// Waits until the visitor's next <see cref="Pulse"/> or <paramref name="timeout"/>, whichever
    /// comes first. Returns false on timeout.
    /// </summary>
    public async Task<bool> WaitAsync(string visitorId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var waiting = _waiting.GetOrAdd(visitorId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            await waiting.Task.WaitAsync(timeout, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            // Visitors who never write must not pile up; a stream that still waits re-registers on its next round.
            _waiting.TryRemove(KeyValuePair.Create(visitorId, waiting));
        }
    }

    /// <summary>Wakes everything waiting on the visitor.</summary>
    public void Pulse(string visitorId)
    {
        if (_waiting.TryRemove(visitorId, out var waiting))
        {
            waiting.TrySetResult();
        }
    }
}
