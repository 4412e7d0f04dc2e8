namespace ContactGrains.Cluster.Tests;

/// <summary>
/// New threads, one every <c>pace</c>: each a <see cref="ConversationDriver"/> whose closed loop runs
/// until its done condition holds. Starting goes on until <see cref="StopStartingAsync"/> or
/// <c>limit</c> threads, so a thread's first writes (the thread naming its conversation, the
/// conversation opening) land in whatever the test does meanwhile, e.g. a database outage. It
/// pauses while <c>maxUnfinished</c> threads are not done yet: a long outage does not use up the
/// limit, and threads still start when the database is back.
/// Failures surface as in <see cref="Traffic"/>: the first loop that fails stops the others and
/// its exception is thrown from the next wait; a safety limit stops everything in any case.
/// </summary>
internal sealed class ThreadChurn : IAsyncDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly TestAdapter _adapter;
    private readonly string _prefix;
    private readonly Func<ConversationDriver, bool> _done;
    private readonly TimeSpan _pace;
    private readonly TimeSpan _think;
    private readonly int _limit;
    private readonly int _maxUnfinished;
    private readonly CancellationTokenSource _stop;
    private readonly CancellationTokenSource _stopStarting;
    private readonly Lock _lock = new();
    private readonly List<ConversationDriver> _drivers = [];
    private readonly List<Task> _runs = [];
    private readonly Task _starting;
    private Exception? _failure;

    public ThreadChurn(TestAdapter adapter, string prefix, Func<ConversationDriver, bool> done, TimeSpan pace, int limit, int maxUnfinished, TimeSpan think, TimeSpan safetyLimit)
    {
        _adapter = adapter;
        _prefix = prefix;
        _done = done;
        _pace = pace;
        _limit = limit;
        _maxUnfinished = maxUnfinished;
        _think = think;
        _stop = new CancellationTokenSource(safetyLimit);
        _stopStarting = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        _starting = Task.Run(StartThreadsAsync);
    }

    /// <summary>Every thread started so far, oldest first.</summary>
    public IReadOnlyList<ConversationDriver> Drivers
    {
        get
        {
            lock (_lock)
            {
                return [.. _drivers];
            }
        }
    }

    /// <summary>No more new threads; those started run on until done.</summary>
    public Task StopStartingAsync() => _stopStarting.CancelAsync();

    /// <summary>Waits until starting has stopped and every thread started is done; fails if a loop failed or on timeout.</summary>
    public async Task CompletionAsync(TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!(_starting.IsCompleted && Runs().All(r => r.IsCompleted)))
        {
            ThrowIfFailed();
            if (DateTime.UtcNow > deadline)
            {
                var waiting = Drivers.Where(d => !_done(d)).ToList();
                throw new TimeoutException($"Still waiting after {timeout.TotalSeconds:0} s for: {what}; {waiting.Count} of {Drivers.Count} new threads not done: "
                    + string.Join(", ", waiting.Take(10).Select(d => $"{d.ThreadId} ({d.Acknowledged} acknowledged, last ack {d.Acks.LastOrDefault()?.Ack.ToString() ?? "none"})")));
            }

            await Task.Delay(PollInterval);
        }

        ThrowIfFailed();
    }

    private IReadOnlyList<Task> Runs()
    {
        lock (_lock)
        {
            return [.. _runs];
        }
    }

    private async Task StartThreadsAsync()
    {
        try
        {
            for (var i = 1; i <= _limit && !_stopStarting.IsCancellationRequested; i++)
            {
                while (Runs().Count(r => !r.IsCompleted) >= _maxUnfinished)
                {
                    await Task.Delay(_pace, _stopStarting.Token);
                }

                var driver = new ConversationDriver($"{_prefix}-thread-{i:D3}", $"{_prefix}-customer-{i:D3}");
                var run = Task.Run(() => RunAsync(driver));
                lock (_lock)
                {
                    _drivers.Add(driver);
                    _runs.Add(run);
                }

                await Task.Delay(_pace, _stopStarting.Token);
            }
        }
        catch (OperationCanceledException) when (_stopStarting.IsCancellationRequested)
        {
            // Told to stop starting, or the safety limit passed.
        }
    }

    private void ThrowIfFailed()
    {
        if (Volatile.Read(ref _failure) is { } failure)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        if (_stop.IsCancellationRequested)
        {
            throw new TimeoutException("The thread churn's safety limit stopped the new threads before they were done.");
        }
    }

    private async Task RunAsync(ConversationDriver driver)
    {
        try
        {
            await driver.RunAsync(_adapter, _done, _think, _stop.Token);
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
            await Task.WhenAll([_starting, .. Runs()]);
        }
        catch (Exception)
        {
            // Already reported by a wait, or the test failed for another reason.
        }

        _stopStarting.Dispose();
        _stop.Dispose();
    }
}
