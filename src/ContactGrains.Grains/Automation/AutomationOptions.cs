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

    /// <summary>How often each silo reads the policy (its copy decides who answers a message).</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often each silo sends the outcomes of ended conversations to the intents' figures.</summary>
    public TimeSpan OutcomeFlushInterval { get; set; } = TimeSpan.FromSeconds(5);
}
