using System.Collections.Immutable;

namespace ContactGrains.Contracts;

/// <summary>Where a conversation stands in its life.</summary>
[GenerateSerializer, Alias("cg.ConversationStatus")]
public enum ConversationStatus
{
    /// <summary>The grain exists only as an address: nothing was ever started under this id.</summary>
    None = 0,
    Open = 1,
    Closed = 2,
}

[GenerateSerializer, Alias("cg.OwnerKind")]
public enum OwnerKind
{
    Nobody = 0,
    Bot = 1,
    Queue = 2,
    Agent = 3,
}

/// <summary>Who answers the customer now.</summary>
[GenerateSerializer, Immutable, Alias("cg.Owner")]
public sealed record Owner([property: Id(0)] OwnerKind Kind, [property: Id(1)] string? Id = null)
{
    public static readonly Owner Nobody = new(OwnerKind.Nobody);
    public static readonly Owner Bot = new(OwnerKind.Bot);

    public override string ToString() => Id is null ? Kind.ToString() : $"{Kind}:{Id}";
}

/// <summary>One owner change in the append-only ledger, with its reason.</summary>
[GenerateSerializer, Immutable, Alias("cg.OwnershipChange")]
public sealed record OwnershipChange(
    [property: Id(0)] DateTimeOffset Time,
    [property: Id(1)] Owner From,
    [property: Id(2)] Owner To,
    [property: Id(3)] string ReasonCode,
    [property: Id(4)] string Reason,
    [property: Id(5)] ImmutableArray<string> ReasonCodes = default,
    [property: Id(6)] ImmutableSortedDictionary<string, string>? Signals = null)
{
    /// <summary>Every reason of this change, the main one (<see cref="ReasonCode"/>) first.</summary>
    public ImmutableArray<string> AllReasonCodes => ReasonCodes.IsDefaultOrEmpty ? [ReasonCode] : ReasonCodes;

    // Value equality over the reasons and signals too (immutable collections compare by reference).
    public bool Equals(OwnershipChange? other) =>
        other is not null && Time == other.Time && From == other.From && To == other.To && ReasonCode == other.ReasonCode
        && Reason == other.Reason && AllReasonCodes.SequenceEqual(other.AllReasonCodes)
        && (Signals ?? ImmutableSortedDictionary<string, string>.Empty).SequenceEqual(other.Signals ?? ImmutableSortedDictionary<string, string>.Empty);

    public override int GetHashCode() => HashCode.Combine(Time, From, To, ReasonCode, Reason);
}

/// <summary>The customer as an adapter knows them: enough to start a conversation.</summary>
[GenerateSerializer, Immutable, Alias("cg.CustomerIdentity")]
public sealed record CustomerIdentity(
    [property: Id(0)] string ExternalCustomerId,
    [property: Id(1)] string? DisplayName,
    [property: Id(2)] string? Language,
    [property: Id(3)] CustomerTier? Tier = null);

/// <summary>Everything a conversation grain needs to begin.</summary>
[GenerateSerializer, Immutable, Alias("cg.StartConversation")]
public sealed record StartConversation(
    [property: Id(0)] string Channel,
    [property: Id(1)] string ExternalThreadId,
    [property: Id(2)] CustomerIdentity Customer);

/// <summary>A customer's message as it reaches the conversation grain.</summary>
[GenerateSerializer, Immutable, Alias("cg.CustomerMessage")]
public sealed record CustomerMessage(
    [property: Id(0)] string Channel,
    [property: Id(1)] string AdapterMessageId,
    [property: Id(2)] string Text);

/// <summary>A read-only view of a conversation, with its ledger.</summary>
[GenerateSerializer, Immutable, Alias("cg.ConversationSnapshot")]
public sealed record ConversationSnapshot(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] string Channel,
    [property: Id(2)] string ExternalThreadId,
    [property: Id(3)] string CustomerKey,
    [property: Id(4)] ConversationStatus Status,
    [property: Id(5)] Owner Owner,
    [property: Id(6)] long LastSequence,
    [property: Id(7)] DateTimeOffset StartedAt,
    [property: Id(8)] ImmutableArray<OwnershipChange> Ledger);

/// <summary>Why a conversation refused a request; the gRPC layer maps each to a status code.</summary>
[GenerateSerializer, Alias("cg.RejectionCode")]
public enum RejectionCode
{
    InvalidArgument = 1,
    NotFound = 2,
    Closed = 3,
    OutOfRange = 4,

    /// <summary>The request is valid but the conversation, offer or agent is not in a state that allows it.</summary>
    FailedPrecondition = 5,

    /// <summary>The caller does not own what it tried to act on (another agent's conversation).</summary>
    PermissionDenied = 6,

    /// <summary>Over a rate limit: nothing was stored; send it again after <see cref="Rejection.RetryAfter"/>.</summary>
    RateLimited = 7,
}

[GenerateSerializer, Immutable, Alias("cg.Rejection")]
public sealed record Rejection(
    [property: Id(0)] RejectionCode Code,
    [property: Id(1)] string Message,
    [property: Id(2)] TimeSpan? RetryAfter = null);

[GenerateSerializer, Alias("cg.InboundOutcome")]
public enum InboundOutcome
{
    Accepted = 1,
    Duplicate = 2,
    Rejected = 3,
}

/// <summary>
/// The answer to one customer message. <see cref="Sequence"/> is the customer message's place in
/// the timeline (also for duplicates); <see cref="Entries"/> is what this message produced, in
/// order, and for a conversation's first message also the entries that opened it (empty for
/// duplicates and rejections); <see cref="LastSequence"/> is the timeline's end.
/// </summary>
[GenerateSerializer, Immutable, Alias("cg.InboundResult")]
public sealed record InboundResult(
    [property: Id(0)] InboundOutcome Outcome,
    [property: Id(1)] string ConversationId,
    [property: Id(2)] long Sequence,
    [property: Id(3)] long LastSequence,
    [property: Id(4)] ImmutableArray<TimelineEntry> Entries,
    [property: Id(5)] Rejection? Rejection)
{
    public static InboundResult Rejected(string conversationId, RejectionCode code, string message, TimeSpan? retryAfter = null) =>
        new(InboundOutcome.Rejected, conversationId, 0, 0, [], new Rejection(code, message, retryAfter));
}

/// <summary>
/// A request refused for a reason the caller can act on, thrown by grains whose callers are agents
/// (the gRPC layer maps <see cref="Code"/> to a status). Infrastructure failures are other exceptions.
/// </summary>
[GenerateSerializer, Alias("cg.RequestRejectedException")]
public sealed class RequestRejectedException : Exception
{
    public RequestRejectedException(RejectionCode code, string message) : base(message) => Code = code;

    [Id(0)] public RejectionCode Code { get; }
}

/// <summary>A page of a conversation's timeline.</summary>
[GenerateSerializer, Immutable, Alias("cg.TimelinePage")]
public sealed record TimelinePage(
    [property: Id(0)] ImmutableArray<TimelineEntry> Entries,
    [property: Id(1)] long LastSequence,
    [property: Id(2)] Rejection? Rejection);

/// <summary>Limits every entry point enforces, so a bad message is refused before it is stored.</summary>
public static class ConversationLimits
{
    /// <summary>Longest accepted customer message, in UTF-16 characters (WhatsApp's limit).</summary>
    public const int MaxTextLength = 4096;

    /// <summary>Longest adapter message id and external id.</summary>
    public const int MaxIdLength = 128;

    /// <summary>Most timeline entries returned by one read.</summary>
    public const int MaxPageSize = 500;

    /// <summary>Entries a conversation opens with before its first customer message: STARTED, at sequence 1.</summary>
    public const long OpeningEntries = 1;
}
