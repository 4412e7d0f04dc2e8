using ContactGrains.Contracts;

namespace ContactGrains.Grains.Routing;

/// <summary>One stored partition of a queue (<see cref="WaitingPartitions"/>): who waits in it, which offer each has out, and the claims of conversations that left it.</summary>
[GenerateSerializer, Alias("cg.QueueState")]
public sealed class QueueState
{
    [Id(0)] public List<WaitingConversation> Waiting { get; set; } = [];

    /// <summary>Offers of this partition's conversations claimed lately (offer id → agent), so an agent retrying a claim after a failure gets the same answer.</summary>
    [Id(1)] public List<ClaimedOffer> RecentClaims { get; set; } = [];
}

[GenerateSerializer, Alias("cg.WaitingConversation")]
public sealed class WaitingConversation
{
    [Id(0)] public string ConversationId { get; set; } = "";
    [Id(1)] public string Channel { get; set; } = "";
    [Id(2)] public int Priority { get; set; }

    /// <summary>Orders equal priorities and drives the bullseye rings.</summary>
    [Id(3)] public DateTimeOffset WaitingSince { get; set; }

    /// <summary>When it entered this queue: the named agent of a transfer has it alone for one offer timeout from here.</summary>
    [Id(4)] public DateTimeOffset EnqueuedAt { get; set; }
    [Id(5)] public string ReasonCode { get; set; } = "";
    [Id(6)] public string? PreferredAgentId { get; set; }
    [Id(7)] public PendingOffer? Offer { get; set; }

    /// <summary>Agents who declined or missed it, and when: not offered it again for a while.</summary>
    [Id(8)] public Dictionary<string, DateTimeOffset> PassedBy { get; set; } = [];

    /// <summary>The place the customer was last told, and when: they hear again when they move up, at most once per update interval.</summary>
    [Id(9)] public int ToldPosition { get; set; }
    [Id(10)] public DateTimeOffset ToldAt { get; set; }
}

/// <summary>The one offer a waiting conversation has out: never two agents at once.</summary>
[GenerateSerializer, Immutable, Alias("cg.PendingOffer")]
public sealed record PendingOffer([property: Id(0)] string OfferId, [property: Id(1)] string AgentId, [property: Id(2)] DateTimeOffset ExpiresAt);

[GenerateSerializer, Immutable, Alias("cg.ClaimedOffer")]
public sealed record ClaimedOffer([property: Id(0)] string OfferId, [property: Id(1)] string AgentId, [property: Id(2)] string? ConversationId = null);

/// <summary>Queue order: priority first, then longest waiting.</summary>
public sealed class QueueOrder : IComparer<WaitingConversation>
{
    public static readonly QueueOrder Instance = new();

    public int Compare(WaitingConversation? x, WaitingConversation? y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var byPriority = y.Priority.CompareTo(x.Priority);
        if (byPriority != 0)
        {
            return byPriority;
        }

        var byWait = x.WaitingSince.CompareTo(y.WaitingSince);
        return byWait != 0 ? byWait : string.CompareOrdinal(x.ConversationId, y.ConversationId);
    }
}
