namespace ContactGrains.Silo.Channels;

/// <summary>
/// Runs work items with the same key one after another, in the order they were queued, and items
/// with different keys concurrently. Keeps one conversation's messages in order on a stream that
/// carries thousands of conversations.
/// </summary>
public sealed class KeyedSerialQueue
{
    private readonly Dictionary<string, Task> _tails = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Queues <paramref name="work"/> behind earlier work with the same key. Work should not throw; an item that does never holds up the ones behind it.</summary>
    public void Enqueue(string key, Func<Task> work)
    {
        lock (_lock)
        {
            var previous = _tails.GetValueOrDefault(key);
            // Nothing ahead on this key (the usual case): start now, without waiting on a finished task.
            var tail = previous is null || previous.IsCompleted ? RunAsync(work) : RunAfterAsync(previous, work);
            if (tail.IsCompleted)
            {
                _tails.Remove(key);
                return;
            }

            _tails[key] = tail;
            _ = tail.ContinueWith(
                completed =>
                {
                    lock (_lock)
                    {
                        // Forget the key once its last queued item is done, so the map stays small.
                        if (_tails.TryGetValue(key, out var current) && current == completed)
                        {
                            _tails.Remove(key);
                        }
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    /// <summary>Completes when everything queued so far has run.</summary>
    public Task WhenIdleAsync()
    {
        lock (_lock)
        {
            return Task.WhenAll(_tails.Values);
        }
    }

    private static Task RunAsync(Func<Task> work)
    {
        try
        {
            return work();
        }
        catch (Exception failure)
        {
            return Task.FromException(failure);
        }
    }

    private static async Task RunAfterAsync(Task previous, Func<Task> work)
    {
        // Work should not throw (callers handle their failures); if an item does anyway, the items
        // behind it on its key still run.
        await previous.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)
            .ConfigureAwait(false);
        await work().ConfigureAwait(false);
    }
}
