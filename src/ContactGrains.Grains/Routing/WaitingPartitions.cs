using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace ContactGrains.Grains.Routing;

/// <summary>
/// A queue's waiting conversations, stored as <see cref="Count"/> rows instead of one: each waiting
/// conversation lives in the partition its id hashes to, so an enqueue, a claim or a decline
/// rewrites a sixteenth of the waiting list, not all of it. With a thousand customers waiting, one
/// row would make every change write the whole list again.
/// </summary>
/// <remarks>
/// Partition 0 is the state named <c>queue</c>, the one row queues were stored in before: its
/// conversations stay there (lookups search every partition) and new ones go to their own partition.
/// Each partition is committed on its own (<see cref="CommitAsync"/>): a change always touches one
/// conversation's partition, and a routing pass that made offers in several stores each partition
/// it changed.
/// </remarks>
public sealed class WaitingPartitions
{
    public const int Count = 16;

    /// <summary>The state name partition <paramref name="index"/> is stored under: "queue", "queue-1", … "queue-15".</summary>
    public static string StateName(int index) => index == 0 ? FirstStateName : $"{FirstStateName}-{index}";

    /// <summary>Partition 0: the one row a queue was stored in before it had partitions.</summary>
    public const string FirstStateName = "queue";

    private readonly IPersistentState<QueueState>[] _partitions;

    // Per partition: how many times a failed write replaced its state with the stored one, and the
    // latest write asked for (see CommitAsync and SettledAsync).
    private readonly int[] _reloads = new int[Count];
    private readonly Task?[] _lastWrites = new Task?[Count];

    public WaitingPartitions(IPersistentState<QueueState> first, IPersistentStateFactory states, IGrainContext grain)
    {
        _partitions = new IPersistentState<QueueState>[Count];
        _partitions[0] = first;
        for (var i = 1; i < Count; i++)
        {
            // Created while the grain is constructed: read with the first before activation.
            _partitions[i] = states.Create<QueueState>(grain, new PersistentStateAttribute(StateName(i), StorageNames.Default));
        }
    }

    /// <summary>Conversations waiting, in all partitions.</summary>
    public int WaitingCount
    {
        get
        {
            var count = 0;
            foreach (var partition in _partitions)
            {
                count += partition.State.Waiting.Count;
            }

            return count;
        }
    }

    /// <summary>Every waiting conversation, in no particular order.</summary>
    public IEnumerable<WaitingConversation> All => _partitions.SelectMany(p => p.State.Waiting);

    /// <summary>Where a conversation not waiting yet is stored.</summary>
    public IPersistentState<QueueState> For(string conversationId) => _partitions[IndexFor(conversationId)];

    /// <summary>The partition a conversation not waiting yet goes to: its id's stable hash, so the same after a restart.</summary>
    public static int IndexFor(string conversationId) => (int)(StableHash.Of(conversationId) % Count);

    /// <summary>The first waiting conversation that matches, and the partition that holds it.</summary>
    public (IPersistentState<QueueState> Partition, WaitingConversation Waiting)? Find(Predicate<WaitingConversation> match)
    {
        foreach (var partition in _partitions)
        {
            if (partition.State.Waiting.Find(match) is { } waiting)
            {
                return (partition, waiting);
            }
        }

        return null;
    }

    /// <summary>The partition that holds <paramref name="waiting"/>.</summary>
    public IPersistentState<QueueState> Holding(WaitingConversation waiting) =>
        Array.Find(_partitions, p => p.State.Waiting.Contains(waiting))
        ?? throw new InvalidOperationException($"{waiting.ConversationId} is not waiting in this queue.");

    /// <summary>
    /// Applies <paramref name="change"/> (if any) to <paramref name="partition"/> and stores it, for a
    /// reentrant queue: the calls that change one partition while its write is in flight are stored
    /// together by the next write (<see cref="InlinePersistentState{TState}"/> queues a partition's writes and joins the ones not
    /// started yet), so a busy queue commits many changes per database round trip instead of one.
    /// </summary>
    /// <remarks>
    /// A failed write reloads the partition (<see cref="StoredState"/>), unless the write queued
    /// behind it succeeded: that one stored every change made before it started, this call's too,
    /// and the reload queued behind it then keeps the state as it is, so the call succeeds. A reload that does replace
    /// the state also discards the changes other calls made meanwhile and are still waiting to
    /// store: such a call hears <see cref="InconsistentStateException"/> (retry) instead of a
    /// success for a change that is not stored.
    /// </remarks>
    public async Task CommitAsync(IPersistentState<QueueState> partition, IGrainBase grain, ILogger logger, Action? change = null)
    {
        var index = Array.IndexOf(_partitions, partition);
        var reloadsBefore = _reloads[index];
        try
        {
            change?.Invoke();
        }
        catch (Exception failure)
        {
            await ReloadAsync(index, grain, logger, failure);
            throw;
        }

        var write = partition.WriteStateAsync();
        _lastWrites[index] = write;
        try
        {
            await write;
        }
        catch (Exception failure)
        {
            // Nothing discarded by this reload or any other since the change: the write queued behind
            // the failed one stored it.
            if (!await ReloadAsync(index, grain, logger, failure) && _reloads[index] == reloadsBefore)
            {
                return;
            }

            throw;
        }

        if (_reloads[index] != reloadsBefore)
        {
            throw new InconsistentStateException(
                $"Queue {grain.GrainContext.GrainId}: partition {StateName(index)} was reloaded after a failed write while this change waited to be stored; it may not be stored. Retry the call.");
        }
    }

    /// <summary>
    /// Waits for the writes under way to end (stored or not): an answer read from the waiting list
    /// afterwards stands on stored changes only. For the rare answers that must (a retried claim, a
    /// removal of a conversation not found); every other call waits for its own write anyway.
    /// </summary>
    public async Task SettledAsync()
    {
        foreach (var write in _lastWrites)
        {
            if (write is not null)
            {
                await write.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            }
        }
    }

    // Reloads partition `index` after a failure; true when that replaced its state (a read from
    // storage, or none possible: the activation ends), so changes not stored yet were discarded.
    private async Task<bool> ReloadAsync(int index, IGrainBase grain, ILogger logger, Exception failure)
    {
        var before = _partitions[index].State;
        var discarded = !await StoredState.ReloadAsync(_partitions[index], grain, logger, failure) || !ReferenceEquals(before, _partitions[index].State);
        if (discarded)
        {
            _reloads[index]++;
        }

        return discarded;
    }

    /// <summary>A claim remembered by any partition.</summary>
    public ClaimedOffer? FindClaim(string offerId)
    {
        foreach (var partition in _partitions)
        {
            if (partition.State.RecentClaims.Find(c => c.OfferId == offerId) is { } claim)
            {
                return claim;
            }
        }

        return null;
    }
}
