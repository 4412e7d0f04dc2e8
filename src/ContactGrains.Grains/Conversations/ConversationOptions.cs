namespace ContactGrains.Grains.Conversations;

/// <summary>Conversation lifecycle settings (configuration section "ContactGrains:Conversations").</summary>
public sealed class ConversationOptions
{
    public const string SectionName = "ContactGrains:Conversations";

    /// <summary>An open conversation with no customer message for this long is closed automatically.</summary>
    public TimeSpan InactivityTimeout { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How often the inactivity reminder checks: a 24th of the timeout, between 1 minute (Orleans'
    /// shortest reminder period) and 1 hour. A conversation closes at most one period late.
    /// </summary>
    public TimeSpan InactivityCheckPeriod =>
        TimeSpan.FromTicks(Math.Clamp(InactivityTimeout.Ticks / 24, TimeSpan.FromMinutes(1).Ticks, TimeSpan.FromHours(1).Ticks));
}
