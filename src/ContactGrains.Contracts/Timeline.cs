namespace ContactGrains.Contracts;

/// <summary>Who wrote a chat message.</summary>
[GenerateSerializer, Alias("cg.SenderKind")]
public enum SenderKind
{
    Customer = 1,
    Bot = 2,
    Agent = 3,
    System = 4,
}

/// <summary>Owner and lifecycle changes the customer is told about.</summary>
[GenerateSerializer, Alias("cg.StatusKind")]
public enum StatusKind
{
    Started = 1,
    Queued = 2,
    AgentJoined = 3,
    Resolved = 4,
    Closed = 5,

    /// <summary>An agent handed the conversation back to the bot.</summary>
    BotResumed = 6,

    /// <summary>The customer is asked to rate the conversation, 1 to 5 (the adapter sends the answer with RateConversation).</summary>
    RatingRequested = 7,

    /// <summary>The customer's rating was stored (thanks them, in their language); after CLOSED.</summary>
    RatingReceived = 8,
}

/// <summary>What the bot understood when it answered.</summary>
[GenerateSerializer, Immutable, Alias("cg.BotAnswerInfo")]
public sealed record BotAnswerInfo(
    [property: Id(0)] string? IntentId,
    [property: Id(1)] double Confidence,
    [property: Id(2)] bool Understood,
    [property: Id(3)] string Language);

/// <summary>A message in the conversation, from any sender.</summary>
[GenerateSerializer, Immutable, Alias("cg.ChatMessageBody")]
public sealed record ChatMessageBody(
    [property: Id(0)] SenderKind Sender,
    [property: Id(1)] string? SenderId,
    [property: Id(2)] string Text,
    [property: Id(3)] string? AdapterMessageId,
    [property: Id(4)] BotAnswerInfo? Bot);

/// <summary>A lifecycle or ownership event shown to the customer.</summary>
[GenerateSerializer, Immutable, Alias("cg.StatusBody")]
public sealed record StatusBody(
    [property: Id(0)] StatusKind Kind,
    [property: Id(1)] string? Detail,
    [property: Id(2)] int QueuePosition = 0,
    [property: Id(3)] int EstimatedWaitSeconds = 0,
    [property: Id(4)] string? AgentName = null);

/// <summary>
/// One entry of a conversation's timeline. Sequences start at 1 and grow by exactly one per entry,
/// so whoever receives entries can detect a gap and ask for it again.
/// Exactly one of <see cref="Message"/> and <see cref="Status"/> is set.
/// </summary>
[GenerateSerializer, Immutable, Alias("cg.TimelineEntry")]
public sealed record TimelineEntry(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] long Sequence,
    [property: Id(2)] DateTimeOffset Time,
    [property: Id(3)] ChatMessageBody? Message,
    [property: Id(4)] StatusBody? Status);
