using System.Collections.Concurrent;

namespace ContactGrains.Silo.Channels;

/// <summary>
/// What this silo last learnt about which conversation a channel thread is on, so that a message on
/// a known thread goes straight to its conversation instead of asking the thread grain first (one
/// grain call less per message). A stale entry is harmless: a thread moves to a new conversation only
/// once its current one is closed, and a closed conversation refuses the message, after which the
/// router asks the thread grain. Bounded: past <see cref="Capacity"/> threads, a tenth of the
/// entries is forgotten (arbitrary ones; a forgotten thread costs one grain call to learn again).
/// </summary>
public sealed class ThreadDirectory(int capacity = ThreadDirectory.DefaultCapacity)
{
    public const int DefaultCapacity = 100_000;

    private readonly ConcurrentDictionary<string, string> _conversations = new(StringComparer.Ordinal);

    // Counted here: ConcurrentDictionary.Count takes every lock of the dictionary.
    private int _count;

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), "The capacity must be positive.");

    public int Count => Volatile.Read(ref _count);

    public string? Find(string threadKey) => _conversations.TryGetValue(threadKey, out var id) ? id : null;

    public void Remember(string threadKey, string conversationId)
    {
        if (!_conversations.ContainsKey(threadKey) && Count >= Capacity)
        {
            ForgetSome(Math.Max(1, Capacity / 10));
        }

        var added = false;
        _conversations.AddOrUpdate(threadKey, _ => { added = true; return conversationId; }, (_, _) => { added = false; return conversationId; });
        if (added)
        {
            Interlocked.Increment(ref _count);
        }
    }

    /// <summary>Forgets <paramref name="threadKey"/> if it still names <paramref name="conversationId"/>.</summary>
    public void Forget(string threadKey, string conversationId)
    {
        if (_conversations.TryRemove(KeyValuePair.Create(threadKey, conversationId)))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    private void ForgetSome(int howMany)
    {
        // The dictionary's enumerator takes no lock and tolerates removals while it runs.
        foreach (var (key, _) in _conversations)
        {
            if (howMany-- <= 0)
            {
                return;
            }

            if (_conversations.TryRemove(key, out _))
            {
                Interlocked.Decrement(ref _count);
            }
        }
    }
}
