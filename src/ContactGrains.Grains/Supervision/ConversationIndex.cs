using System.Collections.Immutable;
using ContactGrains.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ContactGrains.Grains.Supervision;

/// <summary>
/// Collects this silo's conversation changes for the index of open conversations and sends them in
/// batches (<see cref="ConversationIndexFlusher"/>): a conversation's owner change costs a dictionary
/// write here, not a grain call. Only the latest change of each conversation is kept.
/// </summary>
public sealed class ConversationIndexReporter
{
    private readonly Lock _lock = new();
    private Dictionary<string, OpenConversation> _changed = new(StringComparer.Ordinal);
    private Dictionary<string, ClosedConversation> _closed = new(StringComparer.Ordinal);

    public void Opened(OpenConversation conversation)
    {
        lock (_lock)
        {
            _closed.Remove(conversation.ConversationId);
            _changed[conversation.ConversationId] = conversation;
        }
    }

    public void Closed(string conversationId, int version)
    {
        lock (_lock)
        {
            _changed.Remove(conversationId);
            _closed[conversationId] = new ClosedConversation(conversationId, version);
        }
    }

    /// <summary>Takes everything buffered so far, by partition.</summary>
    public Dictionary<int, (List<OpenConversation> Changed, List<ClosedConversation> Closed)> Take()
    {
        Dictionary<string, OpenConversation> changed;
        Dictionary<string, ClosedConversation> closed;
        lock (_lock)
        {
            (changed, _changed) = (_changed, new(StringComparer.Ordinal));
            (closed, _closed) = (_closed, new(StringComparer.Ordinal));
        }

        var batches = new Dictionary<int, (List<OpenConversation>, List<ClosedConversation>)>();
        foreach (var conversation in changed.Values)
        {
            Batch(conversation.ConversationId).Item1.Add(conversation);
        }

        foreach (var conversation in closed.Values)
        {
            Batch(conversation.ConversationId).Item2.Add(conversation);
        }

        return batches;

        (List<OpenConversation>, List<ClosedConversation>) Batch(string conversationId)
        {
            var partition = PartitionOf(conversationId);
            if (!batches.TryGetValue(partition, out var batch))
            {
                batches[partition] = batch = ([], []);
            }

            return batch;
        }
    }

    /// <summary>Puts back a batch that could not be sent; anything newer buffered meanwhile wins.</summary>
    public void PutBack(IEnumerable<OpenConversation> changed, IEnumerable<ClosedConversation> closed)
    {
        lock (_lock)
        {
            foreach (var conversation in changed)
            {
                if (!_closed.ContainsKey(conversation.ConversationId))
                {
                    _changed.TryAdd(conversation.ConversationId, conversation);
                }
            }

            foreach (var conversation in closed)
            {
                if (!_changed.ContainsKey(conversation.ConversationId))
                {
                    _closed.TryAdd(conversation.ConversationId, conversation);
                }
            }
        }
    }

    public static int PartitionOf(string conversationId) => (int)(StableHash.Of(conversationId) % IOpenConversationsGrain.Partitions);
}

/// <summary>Sends <see cref="ConversationIndexReporter"/>'s batches every second, and what is left when the silo stops.</summary>
public sealed partial class ConversationIndexFlusher(
    IGrainFactory grains, ConversationIndexReporter reporter, ILogger<ConversationIndexFlusher> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await FlushAsync();
        }
    }

    private async Task FlushAsync()
    {
        foreach (var (partition, (changed, closed)) in reporter.Take())
        {
            try
            {
                await grains.GetGrain<IOpenConversationsGrain>(partition).Apply([.. changed], [.. closed]);
            }
            catch (Exception ex)
            {
                reporter.PutBack(changed, closed);
                LogFlushFailed(ex.GetType().Name, partition, changed.Count + closed.Count);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Updating the conversation index failed ({ExceptionType}); {Count} change(s) for partition {Partition} wait for the next batch")]
    private partial void LogFlushFailed(string exceptionType, int partition, int count);
}

/// <summary>
/// One partition of the open-conversation index, in memory. Keeps the newest report of each
/// conversation (by ledger length) and remembers closed ones for a while, so a late report from the
/// silo a conversation left cannot bring it back. Never collected for idleness: its memory is the index.
/// </summary>
[KeepAlive]
public sealed class OpenConversationsGrain(TimeProvider time) : Grain, IOpenConversationsGrain
{
    private static readonly TimeSpan RememberClosedFor = TimeSpan.FromMinutes(10);

    private readonly Dictionary<string, OpenConversation> _open = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Version, DateTimeOffset At)> _closed = new(StringComparer.Ordinal);

    public Task Apply(ImmutableArray<OpenConversation> changed, ImmutableArray<ClosedConversation> closed)
    {
        var now = time.GetUtcNow();
        foreach (var gone in closed)
        {
            _open.Remove(gone.ConversationId);
            _closed[gone.ConversationId] = (gone.Version, now);
        }

        foreach (var conversation in changed)
        {
            var id = conversation.ConversationId;
            if (_closed.TryGetValue(id, out var tombstone) && tombstone.Version >= conversation.Version)
            {
                continue;
            }

            if (!_open.TryGetValue(id, out var known) || known.Version <= conversation.Version)
            {
                _open[id] = conversation;
            }
        }

        if (_closed.Count > 0 && _closed.Count % 256 == 0)
        {
            foreach (var id in _closed.Where(c => now - c.Value.At > RememberClosedFor).Select(c => c.Key).ToList())
            {
                _closed.Remove(id);
            }
        }

        return Task.CompletedTask;
    }

    public Task<OpenConversationPage> List(OwnerKind? owner, int maxResults)
    {
        var matching = _open.Values.Where(c => owner is null || c.Owner.Kind == owner).ToList();
        var page = matching.OrderByDescending(c => c.OwnerSince).ThenBy(c => c.ConversationId, StringComparer.Ordinal)
            .Take(Math.Max(0, maxResults)).ToImmutableArray();
        return Task.FromResult(new OpenConversationPage(page, matching.Count));
    }

    public Task<OwnerCounts> Count()
    {
        int bot = 0, queue = 0, agent = 0;
        foreach (var conversation in _open.Values)
        {
            switch (conversation.Owner.Kind)
            {
                case OwnerKind.Bot: bot++; break;
                case OwnerKind.Queue: queue++; break;
                case OwnerKind.Agent: agent++; break;
            }
        }

        return Task.FromResult(new OwnerCounts(bot, queue, agent));
    }
}
