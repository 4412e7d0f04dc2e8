using ContactGrains.Contracts;

namespace ContactGrains.Grains.Automation;

/// <summary>The "ContactGrains:Automation" section: the levels the policy starts from.</summary>
public sealed class AutomationOptions
{
    public const string SectionName = "ContactGrains:Automation";

    /// <summary>
    /// Intent id to level, for the policy's first version (e.g. "card_replacement": "Supervised").
    /// Intents not listed start autonomous; intents in ContactGrains:Ownership:HumanOnlyIntents start,
    /// and stay, human-only. After the first version, supervisors and the demotion rule change levels.
    /// </summary>
    public Dictionary<string, AutomationLevel> Levels { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// An intent's level in the policy's first version: human-only when configured so for ownership
    /// (and then for good), else as configured here, else autonomous.
    /// </summary>
    public AutomationLevel FirstLevel(string intentId, Ownership.OwnershipOptions ownership) =>
        ownership.HumanOnlyIntents.Contains(intentId) ? AutomationLevel.HumanOnly
        : Levels.TryGetValue(intentId, out var configured) ? configured
        : AutomationLevel.Autonomous;

    /// <summary>How often each silo reads the policy (its copy decides who answers a message).</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often each silo sends the outcomes of ended conversations to the intents' figures.</summary>
    public TimeSpan OutcomeFlushInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The share (0 to 1) of supervised intents' conversations the bot resolved that are flagged for
    /// a human to review after the fact.
    /// </summary>
    public double ReviewShare { get; set; } = 0.2;
}
