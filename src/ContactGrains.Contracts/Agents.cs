using System.Collections.Immutable;
using Orleans.Concurrency;

namespace ContactGrains.Contracts;

/// <summary>Whether an agent takes new conversations.</summary>
[GenerateSerializer, Alias("cg.AgentPresence")]
public enum AgentPresence
{
    /// <summary>Signed out (or disconnected past the grace period): no offers, no conversations.</summary>
    Offline = 0,

    /// <summary>Takes offers up to its capacity.</summary>
    Available = 1,

    /// <summary>Keeps its conversations but gets no new offers.</summary>
    Away = 2,
}

/// <summary>A skill with the agent's proficiency in it, 1 (novice) to 5 (expert).</summary>
[GenerateSerializer, Immutable, Alias("cg.SkillLevel")]
public sealed record SkillLevel([property: Id(0)] string Skill, [property: Id(1)] int Proficiency);

/// <summary>What an agent can handle: skills, languages and how many chats at once per channel.</summary>
[GenerateSerializer, Immutable, Alias("cg.AgentProfile")]
public sealed record AgentProfile(
    [property: Id(0)] string DisplayName,
    [property: Id(1)] ImmutableArray<SkillLevel> Skills,
    [property: Id(2)] ImmutableArray<string> Languages,
    [property: Id(3)] int DefaultCapacity,
    [property: Id(4)] ImmutableDictionary<string, int> CapacityByChannel)
{
    /// <summary>Concurrent chats the agent takes on <paramref name="channel"/>.</summary>
    public int CapacityFor(string channel) => CapacityByChannel.TryGetValue(channel, out var capacity) ? capacity : DefaultCapacity;
}

/// <summary>What the customer and the bot did before a human was asked for: an agent's first read.</summary>
[GenerateSerializer, Immutable, Alias("cg.HandoffContext")]
public sealed record HandoffContext(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] string Channel,
    [property: Id(2)] string CustomerKey,
    [property: Id(3)] string? CustomerName,
    [property: Id(4)] string? Language,
    [property: Id(5)] CustomerTier CustomerTier,
    [property: Id(6)] int PreviousContacts,
    [property: Id(7)] string QueueKey,
    [property: Id(8)] string HandoffReasonCode,
    [property: Id(9)] string HandoffReason,
    [property: Id(10)] string BotSummary,
    [property: Id(11)] ImmutableArray<TimelineEntry> LastEntries,
    [property: Id(12)] long LastSequence,
    [property: Id(13)] Owner Owner,
    [property: Id(14)] ConversationStatus Status,
    [property: Id(15)] ImmutableArray<string> HandoffReasonCodes = default,
    [property: Id(16)] ImmutableSortedDictionary<string, string>? HandoffSignals = null,
    [property: Id(17)] CopilotDraft? Draft = null);

/// <summary>A conversation proposed to one agent, who accepts or declines before <see cref="ExpiresAt"/>.</summary>
[GenerateSerializer, Immutable, Alias("cg.OfferView")]
public sealed record OfferView(
    [property: Id(0)] string OfferId,
    [property: Id(1)] string QueueKey,
    [property: Id(2)] int Priority,
    [property: Id(3)] DateTimeOffset WaitingSince,
    [property: Id(4)] DateTimeOffset ExpiresAt,
    [property: Id(5)] HandoffContext Context);

/// <summary>A conversation an agent owns, with what it needs to answer.</summary>
[GenerateSerializer, Immutable, Alias("cg.AssignmentView")]
public sealed record AssignmentView(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] DateTimeOffset AssignedAt,
    [property: Id(2)] HandoffContext Context);

/// <summary>An agent's status as others see it.</summary>
[GenerateSerializer, Immutable, Alias("cg.AgentStatus")]
public sealed record AgentStatus(
    [property: Id(0)] string AgentId,
    [property: Id(1)] string? DisplayName,
    [property: Id(2)] AgentPresence Presence,
    [property: Id(3)] bool Connected,
    [property: Id(4)] int Assignments,
    [property: Id(5)] int PendingOffers,
    [property: Id(6)] DateTimeOffset IdleSince);

/// <summary>Why an offer left an agent's desktop without being accepted.</summary>
[GenerateSerializer, Alias("cg.WithdrawReason")]
public enum WithdrawReason
{
    /// <summary>Not accepted before the timeout; the next agent gets it.</summary>
    TimedOut = 1,

    /// <summary>The customer left while the offer was pending.</summary>
    CustomerLeft = 2,

    /// <summary>The agent went away, offline, or lost its connection.</summary>
    AgentUnavailable = 3,

    /// <summary>The queue could not keep a record of the offer (a failed write) and offers the conversation again.</summary>
    TakenBack = 4,

    /// <summary>A supervisor took the conversation over, or sent it to another queue.</summary>
    Reassigned = 5,
}

/// <summary>How a conversation left an agent.</summary>
[GenerateSerializer, Alias("cg.ConversationNoticeKind")]
public enum ConversationNoticeKind
{
    /// <summary>The customer or their adapter closed the conversation, or it closed for inactivity.</summary>
    CustomerLeft = 1,

    /// <summary>The agent resolved the conversation (pushed so every view of the agent's work sees it end).</summary>
    Resolved = 2,

    /// <summary>The conversation went back to a queue (the agent went offline or lost its connection, or a supervisor sent it there).</summary>
    ReturnedToQueue = 3,

    /// <summary>A supervisor took the conversation over.</summary>
    TakenOver = 4,
}

/// <summary>
/// Something pushed to an agent's desktop. <see cref="Sequence"/> grows by one per event within an
/// <see cref="Epoch"/> (one activation of the agent grain), so the receiver can detect a lost or
/// reordered push and ask for a full re-sync. Exactly one body field is set.
/// </summary>
[GenerateSerializer, Immutable, Alias("cg.AgentEvent")]
public sealed record AgentEvent(
    [property: Id(0)] Guid Epoch,
    [property: Id(1)] long Sequence,
    [property: Id(2)] OfferView? Offer = null,
    [property: Id(3)] string? WithdrawnOfferId = null,
    [property: Id(4)] WithdrawReason WithdrawReason = default,
    [property: Id(5)] AssignmentView? Assigned = null,
    [property: Id(6)] string? ConversationId = null,
    [property: Id(7)] ImmutableArray<TimelineEntry> Entries = default,
    [property: Id(8)] ConversationNoticeKind Notice = default,
    [property: Id(9)] string? Detail = null,
    [property: Id(10)] AgentStatus? Status = null,
    [property: Id(11)] bool StreamReplaced = false,
    [property: Id(12)] CopilotDraft? Draft = null);

/// <summary>Everything an agent's desktop shows, at once: sent on connect and after any gap.</summary>
[GenerateSerializer, Immutable, Alias("cg.AgentSync")]
public sealed record AgentSync(
    [property: Id(0)] Guid Epoch,
    [property: Id(1)] long Sequence,
    [property: Id(2)] AgentStatus Status,
    [property: Id(3)] ImmutableArray<OfferView> Offers,
    [property: Id(4)] ImmutableArray<AssignmentView> Assignments);

/// <summary>Where a conversation goes when an agent transfers it: a queue, or a named agent.</summary>
[GenerateSerializer, Immutable, Alias("cg.TransferTarget")]
public sealed record TransferTarget(
    [property: Id(0)] string? Skill,
    [property: Id(1)] string? Language,
    [property: Id(2)] string? AgentId);

/// <summary>
/// One human agent, keyed by agent id: profile, presence, capacity, offers and assignments. The
/// desktop's stream is an <see cref="IAgentObserver"/> on the silo that serves it.
/// </summary>
/// <remarks>
/// Calls between grains form a hierarchy so that none can wait on another in a cycle: agents call
/// conversations and queues; conversations call queues; queues call agents only through
/// <see cref="Offer"/> (which interleaves and never waits on a queue) or one-way.
/// </remarks>
[Alias("cg.IAgentGrain")]
public interface IAgentGrain : IGrainWithStringKey
{
    /// <summary>
    /// Connects a desktop: stores <paramref name="profile"/> when given (the first sign-in needs one),
    /// makes <paramref name="observer"/> the target of every push, ends a grace period, and returns
    /// the full state. An offline agent becomes available.
    /// </summary>
    [Alias("Connect")]
    Task<AgentSync> Connect(AgentProfile? profile, IAgentObserver observer);

    /// <summary>The full state again, for a desktop that detected a gap in its events.</summary>
    [Alias("Resync")]
    Task<AgentSync> Resync(IAgentObserver observer);

    /// <summary>The desktop's stream is alive. Silence for the heartbeat timeout counts as a disconnect.</summary>
    /// <remarks>
    /// Interleaves: it only notes the time, and queued behind a slow call (an accept waiting on a busy
    /// queue) it would arrive after the watch had already counted the silence as a drop.
    /// </remarks>
    [Alias("Heartbeat"), OneWay, AlwaysInterleave]
    Task Heartbeat(IAgentObserver observer);

    /// <summary>The desktop's stream ended: the grace period starts (unless another stream replaced it).</summary>
    [Alias("Disconnected")]
    Task Disconnected(IAgentObserver observer);

    [Alias("SetPresence")]
    Task<AgentStatus> SetPresence(AgentPresence presence, CancellationToken cancellationToken = default);

    [Alias("Accept")]
    Task<AssignmentView> Accept(string offerId, CancellationToken cancellationToken = default);

    [Alias("Decline")]
    Task Decline(string offerId, CancellationToken cancellationToken = default);

    /// <summary>Sends a message; <paramref name="draftId"/> names the copilot draft it sends (as is or edited).</summary>
    [Alias("SendMessage")]
    Task<TimelineEntry> SendMessage(string conversationId, string messageId, string text, string? draftId = null, CancellationToken cancellationToken = default);

    /// <summary>The agent discards the conversation's copilot draft.</summary>
    [Alias("DiscardDraft")]
    Task DiscardDraft(string conversationId, string draftId, CancellationToken cancellationToken = default);

    /// <summary>Reads the transcript of a conversation the agent owns or is being offered.</summary>
    [Alias("GetTranscript")]
    Task<TimelinePage> GetTranscript(string conversationId, long afterSequence, int maxEntries, CancellationToken cancellationToken = default);

    [Alias("Transfer")]
    Task Transfer(string conversationId, TransferTarget target, string note, CancellationToken cancellationToken = default);

    [Alias("Resolve")]
    Task Resolve(string conversationId, string wrapUpCode, string note, CancellationToken cancellationToken = default);

    [Alias("HandBack")]
    Task HandBack(string conversationId, string note, CancellationToken cancellationToken = default);

    /// <summary>
    /// A queue proposes a conversation. The agent reserves a slot if it is available with free
    /// capacity on the conversation's channel (pending offers count as used) and pushes the offer.
    /// Interleaves with the agent's other calls and never calls a queue, so a queue waiting on it
    /// can never be part of a waiting cycle.
    /// </summary>
    [Alias("Offer"), AlwaysInterleave]
    Task<bool> Offer(OfferRequest offer);

    /// <summary>The queue took the offer back (timeout, customer left).</summary>
    [Alias("WithdrawOffer"), OneWay]
    Task WithdrawOffer(string offerId, WithdrawReason reason);

    /// <summary>New entries of a conversation this agent owns (customer messages, status changes).</summary>
    /// <remarks>
    /// Two-way but never awaited by the conversation (which must not wait on an agent): unlike a
    /// one-way message, the caller learns when the agent's silo is gone and retries, and the retry
    /// re-activates the agent elsewhere.
    /// </remarks>
    [Alias("OnConversationEntries")]
    Task OnConversationEntries(string conversationId, ImmutableArray<TimelineEntry> entries, CopilotDraft? draft = null);

    /// <summary>A conversation left this agent without the agent acting on it.</summary>
    /// <remarks>Delivered like <see cref="OnConversationEntries"/>: retried, never awaited by the conversation.</remarks>
    [Alias("OnConversationEnded")]
    Task OnConversationEnded(string conversationId, ConversationNoticeKind kind, string detail);

    [Alias("GetStatus"), AlwaysInterleave]
    Task<AgentStatus> GetStatus(CancellationToken cancellationToken = default);

    /// <summary>The agent's entry in the agent directory: what it may serve; null when it has none.</summary>
    [ReadOnly]
    Task<AgentProfile?> GetProfile(CancellationToken cancellationToken = default);

    /// <summary>Sets the agent's directory entry (a supervisor's change); the queues learn it at once.</summary>
    Task SetProfile(AgentProfile profile, CancellationToken cancellationToken = default);

    /// <summary>
    /// This agent, a supervisor, takes a conversation over from whoever has it: it becomes one of the
    /// agent's assignments (whatever its capacity) and is pushed to its desktop like an accepted offer.
    /// </summary>
    [Alias("TakeOver")]
    Task<AssignmentView> TakeOver(string conversationId, string reason, CancellationToken cancellationToken = default);
}

/// <summary>An agent desktop's live stream on some silo.</summary>
[Alias("cg.IAgentObserver")]
public interface IAgentObserver : IGrainObserver
{
    [Alias("OnEvent"), OneWay]
    Task OnEvent(string agentId, AgentEvent agentEvent);
}
