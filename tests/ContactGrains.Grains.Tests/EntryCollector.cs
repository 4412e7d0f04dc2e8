using System.Collections.Concurrent;
using ContactGrains.Contracts;

namespace ContactGrains.Grains.Tests;

/// <summary>Stands in for an adapter stream: records what a feed emits and signals when enough arrived.</summary>
internal sealed class EntryCollector
{
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(30);
    private readonly ConcurrentQueue<TimelineEntry> _entries = new();
    private readonly Lock _lock = new();
    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];
    private TaskCompletionSource? _gate;

    public IReadOnlyList<TimelineEntry> Entries => [.. _entries];

    /// <summary>Holds every write until <see cref="Open"/> (a slow adapter).</summary>
    public void Close() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _gate?.TrySetResult();

    public async ValueTask WriteAsync(TimelineEntry entry, CancellationToken cancellationToken)
    {
        if (_gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        _entries.Enqueue(entry);
        lock (_lock)
        {
            foreach (var waiter in _waiters.Where(w => _entries.Count >= w.Count))
            {
                waiter.Signal.TrySetResult();
            }
        }
    }

    /// <summary>Completes once <paramref name="count"/> entries were written (the timeout only stops a hung test).</summary>
    public Task WaitForCountAsync(int count)
    {
        lock (_lock)
        {
            if (_entries.Count >= count)
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, signal));
            return signal.Task.WaitAsync(SafetyTimeout);
        }
    }

    public IReadOnlyList<TimelineEntry> For(string conversationId) =>
        [.. _entries.Where(e => e.ConversationId == conversationId)];
}
