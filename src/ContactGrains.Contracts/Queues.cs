using System.Collections.Immutable;
using Orleans.Concurrency;

namespace ContactGrains.Contracts;

/// <summary>
/// Queue priorities: higher is answered first; equal priorities in order of waiting time. A
/// conversation with several reasons takes the highest.
/// </summary>
public static class QueuePriority
{
    public const int Normal = 0;

    /// <summary>The bot kept failing, the customer is frustrated, or the topic is sensitive: they have waited enough.</summary>
    public const int EscalatedAfterBotFailure = 10;

    /// <summary>An agent transferred the conversation: the customer has already waited once.</summary>
    public const int Transfer = 20;

    public const int Vip = 30;

    /// <summary>Back from an agent who went offline or lost its connection: the front of the queue.</summary>
    public const int Returned = 100;
}

/// <summary>Why a conversation left a queue other than through an agent's accepted offer.</summary>
[GenerateSerializer, Alias("cg.QueueExit")]
public enum QueueExit
{
    /// <summary>The customer left, or the conversation closed, while it waited.</summary>
    Abandoned = 0,

    /// <summary>A supervisor took it over: a human answered it.</summary>
    TakenBySupervisor = 1,

    /// <summary>A supervisor sent it to another queue, where it goes on waiting.</summary>
    MovedBySupervisor = 2,
}

/// <summary>A conversation asking a queue for a human.</summary>
[GenerateSerializer, Immutable, Alias("cg.QueueRequest")]
public sealed record QueueRequest(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] string Channel,
    [property: Id(2)] int Priority,
    [property: Id(3)] DateTimeOffset WaitingSince,
    [property: Id(4)] string ReasonCode,
    [property: Id(5)] string? PreferredAgentId,
    [property: Id(6)] string? ExcludedAgentId = null);

/// <summary>Where a conversation stands in its queue, for telling the customer.</summary>
[GenerateSerializer, Immutable, Alias("cg.QueuePlacement")]
public sealed record QueuePlacement(
    [property: Id(0)] string QueueKey,
    [property: Id(1)] int Position,
    [property: Id(2)] TimeSpan? EstimatedWait,
    [property: Id(3)] int AgentsSignedIn = 0);

/// <summary>
/// What a queue knows of one agent who can serve it: announced by the agent whenever its presence
/// or load changes and every few seconds while connected. The agent itself has the last word when
/// offered a conversation, so a stale entry costs one refused offer, never an overload.
/// </summary>
[GenerateSerializer, Immutable, Alias("cg.RosterEntry")]
public sealed record RosterEntry(
    [property: Id(0)] string AgentId,
    [property: Id(1)] string DisplayName,
    [property: Id(2)] int Proficiency,
    [property: Id(3)] AgentPresence Presence,
    [property: Id(4)] int DefaultCapacity,
    [property: Id(5)] ImmutableDictionary<string, int> CapacityByChannel,
    [property: Id(6)] ImmutableDictionary<string, int> UsedByChannel,
    [property: Id(7)] DateTimeOffset IdleSince,
    [property: Id(8)] long Version,
    [property: Id(9)] DateTimeOffset AnnouncedAt,
    [property: Id(10)] bool Connected)
{
    public int CapacityFor(string channel) => CapacityByChannel.TryGetValue(channel, out var capacity) ? capacity : DefaultCapacity;

    public int UsedOn(string channel) => UsedByChannel.GetValueOrDefault(channel);

    public int FreeOn(string channel) => Math.Max(0, CapacityFor(channel) - UsedOn(channel));

    /// <summary>
    /// Whether the agent could take another conversation on one of the channels it works on (those
    /// with a capacity of their own or with conversations now; any channel when there are none).
    /// </summary>
    public bool HasFreeSlot
    {
        get
        {
            // Checked for every agent of a roster on every routing pass: no LINQ, no allocation.
            var anyChannel = false;
            foreach (var channel in CapacityByChannel.Keys)
            {
                anyChannel = true;
                if (FreeOn(channel) > 0)
                {
                    return true;
                }
            }

            foreach (var channel in UsedByChannel.Keys)
            {
                anyChannel = true;
                if (FreeOn(channel) > 0)
                {
                    return true;
                }
            }

            return !anyChannel && DefaultCapacity > 0;
        }
    }

    /// <summary>
    /// Used ÷ capacity on <paramref name="channel"/>: how busy the agent is where the conversation
    /// would land. Capacity is per channel, so load is too.
    /// </summary>
    public double LoadRatioOn(string channel) => CapacityFor(channel) <= 0 ? 1 : (double)UsedOn(channel) / CapacityFor(channel);
}

/// <summary>A queue proposing one of its conversations to an agent.</summary>
[GenerateSerializer, Immutable, Alias("cg.OfferRequest")]
public sealed record OfferRequest(
    [property: Id(0)] string OfferId,
    [property: Id(1)] string ConversationId,
    [property: Id(2)] string Channel,
    [property: Id(3)] string QueueKey,
    [property: Id(4)] int Priority,
    [property: Id(5)] DateTimeOffset WaitingSince,
    [property: Id(6)] DateTimeOffset ExpiresAt);

/// <summary>Live figures of one queue.</summary>
[GenerateSerializer, Immutable, Alias("cg.QueueStats")]
public sealed record QueueStats(
    [property: Id(0)] string QueueKey,
    [property: Id(1)] int Waiting,
    [property: Id(2)] TimeSpan LongestWait,
    [property: Id(3)] TimeSpan? EstimatedWait,
    [property: Id(4)] int AgentsAvailable,
    [property: Id(5)] int AgentsBusy,
    [property: Id(6)] double? ServiceLevel,
    [property: Id(7)] TimeSpan ServiceLevelThreshold,
    [property: Id(8)] int Answered,
    [property: Id(9)] int Abandoned);

/// <summary>
/// The conversations waiting for one (skill, language) pair, and the agents who can take them.
/// Keyed "skill:language". Each queue routes only its own conversations; there is no grain every
/// conversation of the center passes through.
/// </summary>
[Alias("cg.IQueueGrain")]
public interface IQueueGrain : IGrainWithStringKey
{
    /// <summary>Adds the conversation (idempotent: a repeat updates priority and keeps its place) and says where it stands.</summary>
    [Alias("Enqueue")]
    Task<QueuePlacement> Enqueue(QueueRequest request);

    /// <summary>
    /// The conversation no longer waits: the customer left (an abandon in the queue's statistics), a
    /// supervisor took it (an answer), or a supervisor sent it to another queue (neither). An offer
    /// for it is withdrawn.
    /// </summary>
    [Alias("Remove")]
    Task Remove(string conversationId, QueueExit exit = QueueExit.Abandoned);

    /// <summary>
    /// An agent accepts <paramref name="offerId"/>: succeeds only while that offer is the
    /// conversation's current one (idempotent for the same agent). The conversation leaves the queue.
    /// </summary>
    [Alias("Claim")]
    Task<bool> Claim(string offerId, string agentId);

    /// <summary>
    /// An agent turned the offer down (<paramref name="passed"/>: not offered it again for a while)
    /// or can no longer take it (away, offline): the next agent gets it.
    /// </summary>
    [Alias("Decline"), OneWay]
    Task Decline(string offerId, string agentId, bool passed);

    [Alias("UpdateAgent"), OneWay]
    Task UpdateAgent(RosterEntry entry);

    /// <summary>The agents this queue knows, for a neighbouring queue widening its search.</summary>
    [Alias("GetRoster"), AlwaysInterleave]
    Task<ImmutableArray<RosterEntry>> GetRoster();

    [Alias("GetStats"), AlwaysInterleave]
    Task<QueueStats> GetStats(CancellationToken cancellationToken = default);

    /// <summary>The stored outcome history of the last <paramref name="span"/>, oldest interval first.</summary>
    [Alias("GetHistory"), AlwaysInterleave]
    Task<QueueHistoryView> GetHistory(TimeSpan span, CancellationToken cancellationToken = default);

    /// <summary>Runs a routing pass: sent by the queue to itself so that callers never wait on offers.</summary>
    [Alias("Route"), OneWay]
    Task Route();
}

/// <summary>
/// A queue's outcomes in one fixed interval: answered (and how many within the service-level
/// threshold), abandoned (and how many after it), and the waits. Sums, so intervals add up.
/// </summary>
[GenerateSerializer, Immutable, Alias("cg.QueueInterval")]
public sealed record QueueInterval(
    [property: Id(0)] DateTimeOffset Start,
    [property: Id(1)] int Answered,
    [property: Id(2)] int AnsweredWithinThreshold,
    [property: Id(3)] int Abandoned,
    [property: Id(4)] int AbandonedAfterThreshold,
    [property: Id(5)] long TotalWaitSeconds,
    [property: Id(6)] int LongestWaitSeconds)
{
    /// <summary>Answered within the threshold ÷ (answered + abandoned after it); null when nothing counted.</summary>
    public double? ServiceLevel => Answered + AbandonedAfterThreshold == 0 ? null : (double)AnsweredWithinThreshold / (Answered + AbandonedAfterThreshold);

    public int AverageWaitSeconds => Answered + Abandoned == 0 ? 0 : (int)(TotalWaitSeconds / (Answered + Abandoned));
}

[GenerateSerializer, Immutable, Alias("cg.QueueHistoryView")]
public sealed record QueueHistoryView(
    [property: Id(0)] string QueueKey,
    [property: Id(1)] TimeSpan Interval,
    [property: Id(2)] TimeSpan ServiceLevelThreshold,
    [property: Id(3)] ImmutableArray<QueueInterval> Intervals);
