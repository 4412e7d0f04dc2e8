namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// Waits for a condition over a test helper's state: checked again whenever the helper says its
/// state changed, and at least every 200 ms, because some changes announce nothing (the client
/// library updates its desk state after an accept or a send without an event).
/// </summary>
internal sealed class StateChanges
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);
    private TaskCompletionSource _next = NewSignal();

    /// <summary>Wakes every wait, which then checks its condition again.</summary>
    public void Changed() => Interlocked.Exchange(ref _next, NewSignal()).TrySetResult();

    /// <summary>Returns once <paramref name="condition"/> holds; throws <see cref="TimeoutException"/> if it did not within <paramref name="timeout"/>.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var next = Volatile.Read(ref _next).Task; // taken before the check, so a change during it is not missed
            if (condition())
            {
                return;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"The condition did not hold within {timeout.TotalSeconds:0} s.");
            }

            await Task.WhenAny(next, Task.Delay(left < Poll ? left : Poll));
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
