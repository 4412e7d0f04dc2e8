using ContactGrains.Contracts;

namespace ContactGrains.Grains.Automation;

/// <summary>The ladder of automation levels: one step at a time, in either direction.</summary>
public static class AutomationLevels
{
    /// <summary>One step less automation; human-only stays human-only.</summary>
    public static AutomationLevel Demoted(AutomationLevel level) => level switch
    {
        AutomationLevel.Autonomous => AutomationLevel.Supervised,
        AutomationLevel.Supervised => AutomationLevel.Copilot,
        _ => AutomationLevel.HumanOnly,
    };

    /// <summary>One step more automation; autonomous stays autonomous. Only a supervisor promotes.</summary>
    public static AutomationLevel Promoted(AutomationLevel level) => level switch
    {
        AutomationLevel.HumanOnly => AutomationLevel.Copilot,
        AutomationLevel.Copilot => AutomationLevel.Supervised,
        _ => AutomationLevel.Autonomous,
    };

    /// <summary>Whether the bot answers the customer itself at this level (supervised or autonomous).</summary>
    public static bool BotAnswers(AutomationLevel level) => level is AutomationLevel.Supervised or AutomationLevel.Autonomous;

    /// <summary>
    /// Whether a supervised conversation is picked for review: a stable share, decided by the
    /// conversation id, so a retry or a second silo picks the same conversations.
    /// </summary>
    public static bool PickedForReview(AutomationLevel level, string conversationId, double reviewShare) =>
        level == AutomationLevel.Supervised && reviewShare > 0
        && (StableHash.Of(conversationId) & 0xFFFF) < (ulong)(Math.Clamp(reviewShare, 0, 1) * 0x10000);

    /// <summary>The level's name as configuration and the API write it ("human-only", "copilot", …).</summary>
    public static string Name(AutomationLevel level) => level switch
    {
        AutomationLevel.HumanOnly => "human-only",
        AutomationLevel.Copilot => "copilot",
        AutomationLevel.Supervised => "supervised",
        AutomationLevel.Autonomous => "autonomous",
        _ => level.ToString(),
    };
}
