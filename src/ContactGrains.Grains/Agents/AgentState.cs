using ContactGrains.Contracts;

namespace ContactGrains.Grains.Agents;

/// <summary>
/// The persisted state of one agent. Pending offers are not here: the queue that made an offer owns
/// it and expires it, so an agent grain that restarts only forgets offers that will time out anyway.
/// </summary>
[GenerateSerializer, Alias("cg.AgentState")]
public sealed class AgentState
{
    /// <summary>Null until the first sign-in.</summary>
    [Id(0)] public AgentProfile? Profile { get; set; }
    [Id(1)] public AgentPresence Presence { get; set; }

    /// <summary>
    /// The agent's conversations. Written before the conversation is asked to accept the agent, so a
    /// conversation is never owned by an agent that does not know it; an entry the conversation then
    /// refused is dropped at the next check.
    /// </summary>
    [Id(2)] public Dictionary<string, AssignmentRecord> Assignments { get; set; } = [];

    /// <summary>Since when the agent has had no new or finished conversation: routing prefers the longest idle.</summary>
    [Id(3)] public DateTimeOffset IdleSince { get; set; }

    /// <summary>The desktop stream that receives pushes; kept across activations like a conversation's delivery target.</summary>
    [Id(4)] public IAgentObserver? Observer { get; set; }

    /// <summary>When the stream dropped; the grace period runs from here. Null while connected.</summary>
    [Id(5)] public DateTimeOffset? DisconnectedAt { get; set; }

    /// <summary>Offers let time out in a row; reset by any answer.</summary>
    [Id(6)] public int MissedOffers { get; set; }
}

[GenerateSerializer, Immutable, Alias("cg.AssignmentRecord")]
public sealed record AssignmentRecord(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] string Channel,
    [property: Id(2)] string QueueKey,
    [property: Id(3)] DateTimeOffset AssignedAt,
    [property: Id(4)] string? OfferId = null);
