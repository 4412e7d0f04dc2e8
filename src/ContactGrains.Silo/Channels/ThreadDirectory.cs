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

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), "The capacity must be positive.");

    public int Count => _conversations.Count;

    public string? Find(string threadKey) => _conversations.TryGetValue(threadKey, out var id) ? id : null;

    public void Remember(string threadKey, string conversationId)
    {
        if (_conversations.Count >= Capacity && !_conversations.ContainsKey(threadKey))
        {
            foreach (var key in _conversations.Keys.Take(Math.Max(1, Capacity / 10)))
            {
                _conversations.TryRemove(key, out _);
            }
        }

        _conversations[threadKey] = conversationId;
    }

    /// <summary>Forgets <paramref name="threadKey"/> if it still names <paramref name="conversationId"/>.</summary>
    public void Forget(string threadKey, string conversationId) =>
        _conversations.TryRemove(KeyValuePair.Create(threadKey, conversationId));
}
