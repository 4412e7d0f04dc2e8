namespace ContactGrains.Contracts;

/// <summary>
/// How much of an intent the bot is trusted with. Automation grows only as fast as measured
/// outcomes allow: demotion is automatic, promotion is a supervisor's decision.
/// </summary>
[GenerateSerializer, Alias("cg.AutomationLevel")]
public enum AutomationLevel
{
    /// <summary>The bot never answers: the conversation goes to a human at once.</summary>
    HumanOnly = 1,

    /// <summary>A human answers; the bot drafts a reply the agent can send, edit or discard.</summary>
    Copilot = 2,

    /// <summary>The bot answers; a share of its conversations is reviewed by a human afterwards.</summary>
    Supervised = 3,

    /// <summary>The bot answers.</summary>
    Autonomous = 4,
}

/// <summary>Who resolved a conversation that ended.</summary>
[GenerateSerializer, Alias("cg.ResolvedBy")]
public enum ResolvedBy
{
    /// <summary>The bot alone: no human ever owned the conversation.</summary>
    Bot = 1,

    /// <summary>A human, after the bot had answered at least once.</summary>
    HumanAfterBot = 2,

    /// <summary>A human, without a bot attempt (a human-only intent, a request for a human at once).</summary>
    Human = 3,
}

/// <summary>
/// What became of one conversation about an intent: the unit the automation figures are made of.
/// </summary>
/// <param name="ResolvedBy">Who resolved it.</param>
/// <param name="Rating">The customer's rating, 1 to 5, when they gave one.</param>
/// <param name="RepeatContact">The customer came back about the same intent within the repeat window.</param>
/// <param name="Escalated">A human took over after a bot attempt.</param>
[GenerateSerializer, Immutable, Alias("cg.ConversationOutcome")]
public sealed record ConversationOutcome(
    [property: Id(0)] ResolvedBy ResolvedBy,
    [property: Id(1)] int? Rating,
    [property: Id(2)] bool RepeatContact,
    [property: Id(3)] bool Escalated);
