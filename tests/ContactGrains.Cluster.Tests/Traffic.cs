namespace ContactGrains.Cluster.Tests;

/// <summary>
/// Runs every conversation's closed loop concurrently. The first loop that fails stops the others
/// and its exception surfaces from the next wait; a safety limit stops everything in any case.
/// </summary>
internal sealed class Traffic : IAsyncDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly CancellationTokenSource _stop;
    private readonly Task[] _runs;
    private Exception? _failure;

    public Traffic(TestAdapter adapter, IReadOnlyList<ConversationDriver> drivers, Func<ConversationDriver, bool> done, TimeSpan think, TimeSpan safetyLimit)
    {
        _stop = new CancellationTokenSource(safetyLimit);
        _runs = [.. drivers.Select(driver => RunAsync(adapter, driver, done, think))];
    }

    /// <summary>Waits until <paramref name="condition"/> holds; fails if a loop failed or on timeout.</summary>
    public Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what) => WaitUntilAsync(condition, timeout, () => what);

    /// <summary>Waits until <paramref name="condition"/> holds; on timeout, <paramref name="what"/> says what is missing.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            ThrowIfFailed();
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Still waiting after {timeout.TotalSeconds:0} s for: {what()}.");
            }

            await Task.Delay(PollInterval);
        }

        ThrowIfFailed();
    }

    /// <summary>Waits until every loop has finished (its done condition held).</summary>
    public async Task CompletionAsync(TimeSpan timeout, string what)
    {
        await WaitUntilAsync(() => _runs.All(r => r.IsCompleted), timeout, () => what);
        ThrowIfFailed();
    }

    private void ThrowIfFailed()
    {
        if (Volatile.Read(ref _failure) is { } failure)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        if (_stop.IsCancellationRequested)
        {
            throw new TimeoutException("The traffic's safety limit stopped the conversations before they were done.");
        }
    }

    private async Task RunAsync(TestAdapter adapter, ConversationDriver driver, Func<ConversationDriver, bool> done, TimeSpan think)
    {
        try
        {
            await driver.RunAsync(adapter, done, think, _stop.Token);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Stopped: a sibling failed, the safety limit passed, or the test ended.
        }
        catch (Exception ex)
        {
            Interlocked.CompareExchange(ref _failure, ex, null);
            await _stop.CancelAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Task.WhenAll(_runs);
        }
        catch (Exception)
        {
            // Already reported by a wait, or the test failed for another reason.
        }

        _stop.Dispose();
    }
}
