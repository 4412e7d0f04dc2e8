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
/// Each partition is committed on its own (<see cref="StoredState.CommitAsync{T}(IPersistentState{T}, IGrainBase, Microsoft.Extensions.Logging.ILogger, Action)"/>):
/// a change always touches one conversation's partition, and a routing pass that made offers in
/// several stores each partition it changed.
/// </remarks>
public sealed class WaitingPartitions
{
    public const int Count = 16;

    /// <summary>The state name partition <paramref name="index"/> is stored under: "queue", "queue-1", … "queue-15".</summary>
    public static string StateName(int index) => index == 0 ? FirstStateName : $"{FirstStateName}-{index}";

    /// <summary>Partition 0: the one row a queue was stored in before it had partitions.</summary>
    public const string FirstStateName = "queue";

    private readonly IPersistentState<QueueState>[] _partitions;

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
    public IPersistentState<QueueState> For(string conversationId) => _partitions[(int)(StableHash.Of(conversationId) % Count)];

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
