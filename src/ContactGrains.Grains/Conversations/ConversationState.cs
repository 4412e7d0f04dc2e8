using System.Collections.Immutable;
using ContactGrains.Contracts;
using ContactGrains.Grains.Ownership;

namespace ContactGrains.Grains.Conversations;

/// <summary>The persisted state of one conversation.</summary>
[GenerateSerializer, Alias("cg.ConversationState")]
public sealed class ConversationState
{
    [Id(0)] public ConversationStatus Status { get; set; }
    [Id(1)] public string Channel { get; set; } = "";
    [Id(2)] public string ExternalThreadId { get; set; } = "";
    [Id(3)] public string CustomerKey { get; set; } = "";
    /// <summary>The language the customer writes in: the profile's at first, then what the bot detects.</summary>
    [Id(4)] public string? Language { get; set; }
    [Id(5)] public Owner Owner { get; set; } = Owner.Nobody;
    [Id(6)] public DateTimeOffset StartedAt { get; set; }
    [Id(7)] public DateTimeOffset? ClosedAt { get; set; }
    [Id(8)] public List<OwnershipChange> Ledger { get => _ledger ??= []; set => _ledger = value; }
    // Id 9 held the whole timeline before it moved to segments; never reuse it.

    // Id 10 held full adapter message ids; replaced by their hashes (Id 15, now packed in Id 42) to keep the row small.

    /// <summary>
    /// The adapter connection (an observer on some silo) that last sent or resumed here. Stored so that
    /// a re-activated conversation still pushes to a live connection; a dead one simply drops pushes.
    /// </summary>
    [Id(11)] public IConversationObserver? DeliveryTarget { get; set; }

    /// <summary>When the customer last wrote: the inactivity reminder closes the conversation after a long silence.</summary>
    [Id(12)] public DateTimeOffset? LastCustomerMessageAt { get; set; }

    /// <summary>Entries after <see cref="SealedThrough"/>, in order; older ones live in segment grains.</summary>
    [Id(13)] public List<TimelineEntry> RecentEntries { get => _recentEntries ??= []; set => _recentEntries = value; }

    /// <summary>Entries 1..SealedThrough are sealed in segments of <see cref="ConversationGrain.SegmentSize"/>.</summary>
    [Id(14)] public long SealedThrough { get; set; }

    /// <summary>
    /// Id 15 held the deduplication index as a dictionary (hash → sequence). A row stored so is read
    /// into <see cref="RecentMessageIds"/>. It is written empty, not left out: the releases before
    /// the packed index read it into a dictionary they expect never to be null, so a silo rolled
    /// back to one of them still runs on these rows (without their deduplication memory). An empty
    /// or null value read back changes nothing.
    /// </summary>
    [Id(15)]
    public Dictionary<ulong, long>? UnpackedRecentMessageIds
    {
        get => [];
        set => _recentMessageIds = value is null or { Count: 0 } ? _recentMessageIds : MessageIdIndex.FromDictionary(value);
    }

    // What an agent is told about the customer, kept from the start so reading it needs no other grain.
    [Id(16)] public string? CustomerName { get; set; }
    [Id(17)] public CustomerTier CustomerTier { get; set; }
    [Id(18)] public int PreviousContacts { get; set; }

    /// <summary>The last intent the bot understood (other than a request for a human), and its skill: where a handoff goes.</summary>
    [Id(19)] public string? LastIntent { get; set; }
    [Id(20)] public string? LastSkill { get; set; }

    /// <summary>Intents the bot answered, in order, without repeats (at most 10): the agent's summary.</summary>
    [Id(21)] public List<string> IntentsAnswered { get => _intentsAnswered ??= []; set => _intentsAnswered = value; }

    /// <summary>Answers where the bot did not understand the customer.</summary>
    [Id(22)] public int BotMisses { get; set; }

    /// <summary>The queue the conversation last went through; transfers to a named agent go through it again.</summary>
    [Id(23)] public string? QueueKey { get; set; }

    /// <summary>Since when the customer has waited for a human (set while a queue owns the conversation).</summary>
    [Id(24)] public DateTimeOffset? WaitingSince { get; set; }

    /// <summary>Why a human was needed last: shown to the agent who is offered the conversation.</summary>
    [Id(25)] public string HandoffReasonCode { get; set; } = "";
    [Id(26)] public string HandoffReason { get; set; } = "";

    /// <summary>Id 27 held <see cref="RecentAgentMessageIds"/> as a dictionary: read, and written empty (see Id 15).</summary>
    [Id(27)]
    public Dictionary<ulong, long>? UnpackedRecentAgentMessageIds
    {
        get => [];
        set => _recentAgentMessageIds = value is null or { Count: 0 } ? _recentAgentMessageIds : MessageIdIndex.FromDictionary(value);
    }

    /// <summary>What the ownership policy remembers of the customer's earlier messages; null before the first.</summary>
    [Id(28)] public TurnHistory? History { get; set; }

    /// <summary>The customer said (in this or an earlier conversation) they prefer humans.</summary>
    [Id(29)] public bool CustomerPrefersHumans { get; set; }

    /// <summary>Intents the bot answered in the customer's other conversations, read at the start: repeat contacts.</summary>
    [Id(30)] public List<IntentContact> EarlierIntents { get => _earlierIntents ??= []; set => _earlierIntents = value; }

    /// <summary>Every reason of the last handoff (the main one first) and the signal values behind them: shown to agents.</summary>
    [Id(31)] public List<string> HandoffReasonCodes { get => _handoffReasonCodes ??= []; set => _handoffReasonCodes = value; }
    [Id(32)] public ImmutableSortedDictionary<string, string>? HandoffSignals { get; set; }

    /// <summary>Turns the bot answered without handing over: a human who resolves it afterwards resolved it after a bot attempt.</summary>
    [Id(33)] public int BotAnsweredTurns { get; set; }

    /// <summary>When the customer was asked to rate the conversation (at its resolution), and who resolved it.</summary>
    [Id(34)] public DateTimeOffset? RatingRequestedAt { get; set; }
    [Id(35)] public ResolvedBy? ResolvedBy { get; set; }

    /// <summary>The customer's rating, 1 to 5, once given.</summary>
    [Id(36)] public int? Rating { get; set; }

    /// <summary>The customer came back about this conversation's intent within the repeat window (counted once).</summary>
    [Id(37)] public bool RepeatCounted { get; set; }

    /// <summary>Flagged for review (a supervised intent the bot resolved) and not yet on the review list.</summary>
    [Id(38)] public ReviewItem? ReviewToFile { get; set; }

    /// <summary>The copilot draft the agent has now (the bot's reply to the customer's last message), if any.</summary>
    [Id(39)] public CopilotDraft? Draft { get; set; }

    /// <summary>Drafts made so far: the next draft's number.</summary>
    [Id(40)] public int DraftsMade { get; set; }

    /// <summary>
    /// When each of <see cref="IntentsAnswered"/> was answered: the customer records them when the
    /// conversation closes (repeat contacts count from these times). Rows stored before this field
    /// existed lack it; their start time stands in.
    /// </summary>
    [Id(41)] public Dictionary<string, DateTimeOffset> IntentAnsweredAt { get => _intentAnsweredAt ??= []; set => _intentAnsweredAt = value; }

    /// <summary>
    /// The deduplication index: each recent adapter message id (as a 64-bit hash, which keeps the row
    /// small whatever the ids look like) and the sequence the message was stored at. It remembers at
    /// least the last <see cref="ConversationGrain.RememberedMessageIds"/> customer messages.
    /// </summary>
    [Id(42)] public MessageIdIndex RecentMessageIds { get => _recentMessageIds ??= new(); set => _recentMessageIds = value; }

    /// <summary>The agents' own deduplication index ("agentId:messageId" → sequence), apart from the adapters'.</summary>
    [Id(43)] public MessageIdIndex RecentAgentMessageIds { get => _recentAgentMessageIds ??= new(); set => _recentAgentMessageIds = value; }

    public long LastSequence => SealedThrough + RecentEntries.Count;

    // The collections are created on first use, not by the constructor: the development storage's
    // copy and the serializer create a state and then set every collection, so collections made by
    // the constructor would be garbage at once (eight objects on every stored message).
    [NonSerialized] private List<OwnershipChange>? _ledger;
    [NonSerialized] private List<TimelineEntry>? _recentEntries;
    [NonSerialized] private MessageIdIndex? _recentMessageIds;
    [NonSerialized] private List<string>? _intentsAnswered;
    [NonSerialized] private MessageIdIndex? _recentAgentMessageIds;
    [NonSerialized] private List<IntentContact>? _earlierIntents;
    [NonSerialized] private List<string>? _handoffReasonCodes;
    [NonSerialized] private Dictionary<string, DateTimeOffset>? _intentAnsweredAt;
}
