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

    /// <summary>
    /// Why an intent's level cannot change from <paramref name="from"/> to <paramref name="to"/> (a
    /// supervisor's change), or null: the intent must be the bot's, an intent configured as human-only
    /// stays so, promotion goes one step at a time (each step earns its evidence), and the audit needs a reason.
    /// </summary>
    public static string? CheckChange(string intentId, AutomationLevel from, AutomationLevel to, bool knownIntent, bool humanOnlyByConfiguration, string reason)
    {
        if (!knownIntent)
        {
            return $"Intent '{intentId}' is not in the bot's knowledge base.";
        }

        if (!Enum.IsDefined(to))
        {
            return "level must be human-only, copilot, supervised or autonomous.";
        }

        if (humanOnlyByConfiguration && to != AutomationLevel.HumanOnly)
        {
            return $"Intent '{intentId}' is human-only by configuration (ContactGrains:Ownership:HumanOnlyIntents): it cannot be automated from here.";
        }

        if (to > from && to != Promoted(from))
        {
            return $"Promote one step at a time: from {Name(from)}, the next level is {Name(Promoted(from))}.";
        }

        if (string.IsNullOrWhiteSpace(reason))
        {
            return "reason is required: the audit keeps why every level changed.";
        }

        return null;
    }

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
