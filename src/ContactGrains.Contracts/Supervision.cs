using System.Collections.Immutable;
using Orleans.Concurrency;

namespace ContactGrains.Contracts;

/// <summary>
/// An open conversation as supervisors list it: who has it, since when and why. <see cref="Version"/>
/// is the length of the conversation's ledger, so a stale report (from a silo the conversation left)
/// never overwrites a newer one.
/// </summary>
[GenerateSerializer, Immutable, Alias("cg.OpenConversation")]
public sealed record OpenConversation(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] string Channel,
    [property: Id(2)] string? CustomerName,
    [property: Id(3)] string? Language,
    [property: Id(4)] string? Intent,
    [property: Id(5)] Owner Owner,
    [property: Id(6)] DateTimeOffset OwnerSince,
    [property: Id(7)] string ReasonCode,
    [property: Id(8)] DateTimeOffset StartedAt,
    [property: Id(9)] int Version);

/// <summary>A conversation that left the index (closed), with the ledger length it closed at.</summary>
[GenerateSerializer, Immutable, Alias("cg.ClosedConversation")]
public sealed record ClosedConversation([property: Id(0)] string ConversationId, [property: Id(1)] int Version);

/// <summary>Open conversations by kind of owner.</summary>
[GenerateSerializer, Immutable, Alias("cg.OwnerCounts")]
public sealed record OwnerCounts([property: Id(0)] int Bot, [property: Id(1)] int Queue, [property: Id(2)] int Agent)
{
    public static readonly OwnerCounts Zero = new(0, 0, 0);

    public OwnerCounts Add(OwnerCounts other) => new(Bot + other.Bot, Queue + other.Queue, Agent + other.Agent);
}

/// <summary>One page of the index: the newest owner changes first, and how many matched in all.</summary>
[GenerateSerializer, Immutable, Alias("cg.OpenConversationPage")]
public sealed record OpenConversationPage([property: Id(0)] ImmutableArray<OpenConversation> Conversations, [property: Id(1)] int Total);

/// <summary>
/// One partition of the index of open conversations (key 0 to <see cref="Partitions"/> - 1, by a
/// stable hash of the conversation id). Silos send it their conversations' changes in batches every
/// second or so, never a call per change; supervisors read every partition and merge. Kept in
/// memory: after a restart it fills again as conversations wake (each re-reports on activation, and
/// every open conversation wakes at least at its inactivity check).
/// </summary>
[Alias("cg.IOpenConversationsGrain")]
public interface IOpenConversationsGrain : IGrainWithIntegerKey
{
    public const int Partitions = 8;

    [Alias("Apply")]
    Task Apply(ImmutableArray<OpenConversation> changed, ImmutableArray<ClosedConversation> closed);

    /// <summary>Open conversations of <paramref name="owner"/> (all when null), newest owner change first.</summary>
    [Alias("List"), ReadOnly]
    Task<OpenConversationPage> List(OwnerKind? owner, int maxResults);

    [Alias("Count"), ReadOnly]
    Task<OwnerCounts> Count();
}

/// <summary>What a supervisor sees of one conversation: its summary, its ledger, its last entries.</summary>
[GenerateSerializer, Immutable, Alias("cg.SupervisionView")]
public sealed record SupervisionView(
    [property: Id(0)] OpenConversation Summary,
    [property: Id(1)] ConversationStatus Status,
    [property: Id(2)] ImmutableArray<OwnershipChange> Ledger,
    [property: Id(3)] ImmutableArray<TimelineEntry> LastEntries);

/// <summary>A reviewer's judgement of a supervised conversation the bot handled.</summary>
[GenerateSerializer, Alias("cg.ReviewVerdict")]
public enum ReviewVerdict
{
    /// <summary>The bot's handling was right.</summary>
    Approved = 1,

    /// <summary>A human should have answered, or the answer was wrong.</summary>
    Rejected = 2,
}

/// <summary>A supervised conversation flagged for review after the fact, and its verdict once given.</summary>
[GenerateSerializer, Immutable, Alias("cg.ReviewItem")]
public sealed record ReviewItem(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] string Intent,
    [property: Id(2)] string Channel,
    [property: Id(3)] DateTimeOffset ClosedAt,
    [property: Id(4)] ReviewVerdict? Verdict = null,
    [property: Id(5)] string? ReviewedBy = null,
    [property: Id(6)] string? Note = null,
    [property: Id(7)] DateTimeOffset? ReviewedAt = null);

/// <summary>
/// One partition of the review list (key 0 to <see cref="Partitions"/> - 1, by a stable hash of the
/// conversation id), stored. Conversations flag themselves when they close; supervisors read every
/// partition and record verdicts, which count in the intent's figures.
/// </summary>
[Alias("cg.IReviewsGrain")]
public interface IReviewsGrain : IGrainWithIntegerKey
{
    public const int Partitions = 4;

    /// <summary>Adds a review (idempotent per conversation).</summary>
    [Alias("Flag")]
    Task Flag(ReviewItem review);

    [Alias("List"), ReadOnly]
    Task<ImmutableArray<ReviewItem>> List(bool includeDecided, int maxResults);

    /// <summary>Records the verdict (the same verdict again is a no-op); refused for an unknown or already decided review.</summary>
    [Alias("Decide")]
    Task<ReviewItem> Decide(string conversationId, ReviewVerdict verdict, string reviewedBy, string note);
}

/// <summary>
/// The bot's suggested reply to a customer message, for the agent of a copilot intent: sent as is,
/// edited, or discarded. <see cref="DraftId"/> is unique within the conversation.
/// </summary>
[GenerateSerializer, Immutable, Alias("cg.CopilotDraft")]
public sealed record CopilotDraft(
    [property: Id(0)] string DraftId,
    [property: Id(1)] long InReplyToSequence,
    [property: Id(2)] string Text,
    [property: Id(3)] string Intent,
    [property: Id(4)] double Confidence);
