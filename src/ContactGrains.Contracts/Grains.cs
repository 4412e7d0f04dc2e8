using Orleans.Concurrency;
using System.Collections.Immutable;

namespace ContactGrains.Contracts;

// Methods called on behalf of a gRPC caller take its CancellationToken (its deadline, or the silo's
// call budget): Orleans drops a request the caller has given up on before it runs, and the caller
// hears at once instead of waiting for the response timeout. The grains do not stop work they began.

/// <summary>
/// One conversation: its timeline, its owner and the ledger of owner changes. Keyed by the id
/// ContactGrains gave it. It decides, turn by turn, who answers the customer.
/// </summary>
[Alias("cg.IConversationGrain")]
public interface IConversationGrain : IGrainWithStringKey
{
    /// <summary>Starts the conversation; a repeated start with the same thread is a no-op.</summary>
    [Alias("Start")]
    Task<ConversationSnapshot> Start(StartConversation command);

    /// <summary>
    /// Stores the customer's message (once per adapter message id) and lets the owner answer. The
    /// entries this produces come back in the result, so the caller delivers them itself;
    /// <paramref name="deliverTo"/> becomes the delivery target for entries produced later by
    /// anyone else. A null target leaves the current one in place (unary callers).
    /// </summary>
    [Alias("ReceiveCustomerMessage")]
    Task<InboundResult> ReceiveCustomerMessage(CustomerMessage message, IConversationObserver? deliverTo, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes <paramref name="deliverTo"/> the delivery target and returns the first page of what it
    /// missed: entries after <paramref name="afterSequence"/>. Further pages: <see cref="GetTimeline"/>.
    /// </summary>
    [Alias("Resume")]
    Task<TimelinePage> Resume(string channel, long afterSequence, IConversationObserver deliverTo, CancellationToken cancellationToken = default);

    /// <summary>Reads entries after <paramref name="afterSequence"/>.</summary>
    [Alias("GetTimeline"), ReadOnly]
    Task<TimelinePage> GetTimeline(string channel, long afterSequence, int maxEntries, CancellationToken cancellationToken = default);

    [Alias("Close")]
    Task<ConversationSnapshot> Close(string channel, string reasonCode, string reason, CancellationToken cancellationToken = default);

    /// <summary>
    /// The customer's rating (1 to 5) of a conversation that asked for one at its end; null when
    /// stored (again, for the same rating), else why not.
    /// </summary>
    [Alias("Rate")]
    Task<Rejection?> Rate(string channel, int rating, CancellationToken cancellationToken = default);

    /// <summary>The customer came back about <paramref name="intentId"/>: a closed conversation about it counts the repeat once.</summary>
    [Alias("CountRepeatContact"), OneWay]
    Task CountRepeatContact(string intentId);

    /// <summary>
    /// The intents the bot answered here, and when: read by another conversation of the same
    /// customer that starts while this one is open (repeat contacts). Interleaves and waits on nothing.
    /// </summary>
    [Alias("GetAnsweredIntents"), AlwaysInterleave]
    Task<ImmutableArray<IntentContact>> GetAnsweredIntents();

    /// <summary>The conversation's current state, or <see cref="ConversationStatus.None"/> if never started.</summary>
    [Alias("GetSnapshot"), ReadOnly]
    Task<ConversationSnapshot> GetSnapshot(CancellationToken cancellationToken = default);

    // Called by agent grains. Refusals throw RequestRejectedException.

    /// <summary>
    /// What an agent needs to pick up the conversation. Interleaves and waits on nothing, so an agent
    /// reading it while the conversation waits on a queue cannot close a waiting cycle.
    /// </summary>
    [Alias("GetHandoffContext"), AlwaysInterleave]
    Task<HandoffContext> GetHandoffContext();

    /// <summary>
    /// Gives the conversation to the agent who claimed its offer: only from a queue (idempotent for
    /// the same agent), so two agents never hold it. The customer is told an agent joined.
    /// </summary>
    [Alias("AssignAgent")]
    Task<HandoffContext> AssignAgent(string agentId, string agentName);

    /// <summary>
    /// An agent's message to the customer (once per message id). <paramref name="draftId"/> names
    /// the copilot draft it sends (unchanged or edited); without it, a pending draft counts as
    /// discarded: the agent answered otherwise.
    /// </summary>
    [Alias("PostAgentMessage")]
    Task<TimelineEntry> PostAgentMessage(string agentId, string messageId, string text, string? draftId = null);

    /// <summary>The agent discards the copilot draft (a no-op if it is no longer the current one).</summary>
    [Alias("DiscardDraft")]
    Task DiscardDraft(string agentId, string draftId);

    /// <summary>Moves the conversation from the agent to a queue, or to a named agent through its queue.</summary>
    [Alias("Transfer")]
    Task Transfer(string agentId, TransferTarget target, string note);

    /// <summary>The agent resolved the customer's request: the conversation closes with the wrap-up code.</summary>
    [Alias("Resolve")]
    Task Resolve(string agentId, string wrapUpCode, string note);

    /// <summary>The agent gives the conversation back to the bot.</summary>
    [Alias("HandBack")]
    Task HandBack(string agentId, string note);

    /// <summary>
    /// The agent went offline or lost its connection: the conversation returns to the front of its
    /// queue. A no-op if the agent no longer owns it.
    /// </summary>
    [Alias("ReturnToQueue")]
    Task ReturnToQueue(string agentId, string reasonCode, string reason);

    /// <summary>What a supervisor sees: summary, ledger, last entries; null if never started.</summary>
    [Alias("Supervise"), AlwaysInterleave]
    Task<SupervisionView?> Supervise();

    /// <summary>
    /// A supervisor takes the conversation over from the bot, a queue or an agent (called by the
    /// supervisor's agent grain, which recorded the assignment first). The bot falls silent; the
    /// queue forgets it; the agent who had it is told.
    /// </summary>
    [Alias("TakeOver")]
    Task<HandoffContext> TakeOver(string supervisorId, string supervisorName, string reason);

    /// <summary>A supervisor sends the conversation to a queue (null skill: its last queue's; null language: the customer's).</summary>
    [Alias("SendToQueue")]
    Task SendToQueue(string supervisorId, string? skill, string? language, string reason);

    /// <summary>
    /// The queue tells a waiting conversation that it moved up, so the customer hears their new place.
    /// One-way: queues never wait on conversations. Ignored unless that queue still owns it.
    /// </summary>
    [Alias("OnQueuePlaceChanged"), OneWay]
    Task OnQueuePlaceChanged(QueuePlacement placement);
}

/// <summary>
/// A sealed block of a conversation's older timeline entries, written once and then only read.
/// Keyed "conversationId/segmentIndex". Keeps the conversation's own state (and so the cost of
/// each message) bounded however long the conversation grows.
/// </summary>
[Alias("cg.IConversationSegmentGrain")]
public interface IConversationSegmentGrain : IGrainWithStringKey
{
    /// <summary>Stores the block. Idempotent: sealing the same block again changes nothing.</summary>
    [Alias("Seal")]
    Task Seal(ImmutableArray<TimelineEntry> entries);

    [Alias("Read"), ReadOnly]
    Task<ImmutableArray<TimelineEntry>> Read();
}

/// <summary>
/// Maps an adapter's thread (channel + external thread id) to its current conversation, and starts
/// a new one when there is none or the previous one is closed. Keyed "channel:externalThreadId".
/// </summary>
[Alias("cg.IConversationThreadGrain")]
public interface IConversationThreadGrain : IGrainWithStringKey
{
    /// <summary>The current conversation id, or null when the thread never had one.</summary>
    [Alias("Find"), ReadOnly]
    Task<string?> Find(CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns the current open conversation, starting one if there is none, or if the current one is
    /// <paramref name="knownClosedId"/> (the caller found it closed). Returns null when a
    /// conversation would have to be started but neither <paramref name="customer"/> nor an earlier
    /// conversation on the thread says who the customer is.
    /// </summary>
    [Alias("GetOrStart")]
    Task<ThreadConversation?> GetOrStart(CustomerIdentity? customer, string? knownClosedId, CancellationToken cancellationToken = default);
}

[GenerateSerializer, Immutable, Alias("cg.ThreadConversation")]
public sealed record ThreadConversation([property: Id(0)] string ConversationId, [property: Id(1)] bool Created);

/// <summary>A customer, keyed "channel:externalCustomerId": profile and contact history.</summary>
[Alias("cg.ICustomerGrain")]
public interface ICustomerGrain : IGrainWithStringKey
{
    [Alias("GetProfile"), ReadOnly]
    Task<CustomerProfile> GetProfile();

    /// <summary>Records a new conversation; updates name and language when the adapter knows them.</summary>
    [Alias("ConversationStarted")]
    Task<CustomerProfile> ConversationStarted(string conversationId, CustomerIdentity identity, DateTimeOffset at);

    /// <summary>
    /// Records the end of a conversation and the intents the bot answered in it: a later contact
    /// about one of them within days is a repeat contact. Idempotent.
    /// </summary>
    [Alias("ConversationClosed")]
    Task ConversationClosed(string conversationId, string reasonCode, DateTimeOffset at, ImmutableArray<IntentContact> intentsAnswered);

    /// <summary>The customer said they prefer humans: their next conversations start with a human.</summary>
    [Alias("PrefersHumans")]
    Task PrefersHumans(DateTimeOffset at);
}

/// <summary>An intent the bot answered for a customer, in which conversation, and when.</summary>
[GenerateSerializer, Immutable, Alias("cg.IntentContact")]
public sealed record IntentContact(
    [property: Id(0)] string IntentId,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] string ConversationId);

[GenerateSerializer, Alias("cg.CustomerTier")]
public enum CustomerTier
{
    Standard = 0,
    Vip = 1,
}

[GenerateSerializer, Immutable, Alias("cg.ContactRecord")]
public sealed record ContactRecord(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] DateTimeOffset StartedAt,
    [property: Id(2)] DateTimeOffset? ClosedAt,
    [property: Id(3)] string? Outcome);

[GenerateSerializer, Immutable, Alias("cg.CustomerProfile")]
public sealed record CustomerProfile(
    [property: Id(0)] string CustomerKey,
    [property: Id(1)] string? DisplayName,
    [property: Id(2)] string? Language,
    [property: Id(3)] CustomerTier Tier,
    [property: Id(4)] ImmutableArray<ContactRecord> Contacts,
    [property: Id(5)] bool PrefersHumans = false,
    [property: Id(6)] ImmutableArray<IntentContact> Intents = default,
    [property: Id(7)] int ContactsForgotten = 0)
{
    /// <summary>How many conversations the customer has had besides <paramref name="conversationId"/>, listed or only counted.</summary>
    public int ContactsOtherThan(string conversationId) => ContactsForgotten + Contacts.Count(c => c.ConversationId != conversationId);
}

/// <summary>
/// A live adapter connection on some silo. A conversation pushes to its delivery target the entries
/// that its caller did not already get in a response. Pushes may arrive out of order or not at all
/// (the connection may be gone); the receiver orders by sequence and reads the timeline to fill gaps.
/// </summary>
[Alias("cg.IConversationObserver")]
public interface IConversationObserver : IGrainObserver
{
    [Alias("OnEntries"), OneWay]
    Task OnEntries(string conversationId, ImmutableArray<TimelineEntry> entries);
}

/// <summary>Keys of the grains addressed by external ids.</summary>
public static class GrainKeys
{
    public static string Thread(string channel, string externalThreadId) => $"{channel}:{externalThreadId}";

    public static string Customer(string channel, string externalCustomerId) => $"{channel}:{externalCustomerId}";

    public static string Segment(string conversationId, long index) => $"{conversationId}/{index}";

    /// <summary>A routing queue: one per (skill, language), e.g. "billing:fr".</summary>
    public static string Queue(string skill, string language) => $"{skill}:{language}";

    /// <summary>The (skill, language) of a queue key made by <see cref="Queue"/>.</summary>
    public static (string Skill, string Language) SplitQueue(string queueKey)
    {
        var separator = queueKey.LastIndexOf(':');
        return (queueKey[..separator], queueKey[(separator + 1)..]);
    }
}
