namespace ContactGrains.Grains.Conversations;

/// <summary>Conversation lifecycle settings (configuration section "ContactGrains:Conversations").</summary>
public sealed class ConversationOptions
{
    public const string SectionName = "ContactGrains:Conversations";

    /// <summary>Customer messages one conversation accepts at once before <see cref="MessagesPerMinute"/> applies.</summary>
    public int MessageBurst { get; set; } = 20;

    /// <summary>
    /// Customer messages a conversation accepts per minute once its burst is spent; beyond, a message
    /// is refused with RESOURCE_EXHAUSTED and a retry hint, and nothing is stored.
    /// </summary>
    public int MessagesPerMinute { get; set; } = 60;

    /// <summary>
    /// Ask the customer to rate a conversation when it is resolved or closed by the adapter (a
    /// RATING_REQUESTED entry before CLOSED). Ratings feed the intents' automation figures.
    /// </summary>
    public bool AskForRating { get; set; } = true;

    /// <summary>
    /// How long after asking a customer's message that is only a rating ("4", "4/5", "★★★★") answers
    /// the question, instead of starting a new conversation.
    /// </summary>
    public TimeSpan RatingAnswerWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Why these settings cannot work, or null.</summary>
    public string? Validate() =>
        MessageBurst < 1 || MessagesPerMinute < 1
            ? $"{SectionName}:MessageBurst is {MessageBurst} and MessagesPerMinute {MessagesPerMinute}; both must be at least 1 (defaults 20 and 60)."
            : null;

    /// <summary>An open conversation with no customer message for this long is closed automatically.</summary>
    public TimeSpan InactivityTimeout { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How often the inactivity reminder checks: a 24th of the timeout, between 1 minute (Orleans'
    /// shortest reminder period) and 1 hour. A conversation closes at most one period late.
    /// </summary>
    public TimeSpan InactivityCheckPeriod =>
        TimeSpan.FromTicks(Math.Clamp(InactivityTimeout.Ticks / 24, TimeSpan.FromMinutes(1).Ticks, TimeSpan.FromHours(1).Ticks));
}
