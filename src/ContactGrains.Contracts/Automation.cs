using Orleans.Concurrency;

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

/// <summary>One change of an intent's level, as the audit keeps it: who, when, why.</summary>
/// <param name="At">When.</param>
/// <param name="IntentId">The intent.</param>
/// <param name="From">The level before (null when the policy was first seeded).</param>
/// <param name="To">The level after.</param>
/// <param name="ChangedBy">"supervisor:&lt;id&gt;", "demotion-rule" or "configuration".</param>
/// <param name="Reason">Why, in words (a supervisor's reason, or the demotion rule's evidence with its figures).</param>
[GenerateSerializer, Immutable, Alias("cg.LevelChange")]
public sealed record LevelChange(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string IntentId,
    [property: Id(2)] AutomationLevel? From,
    [property: Id(3)] AutomationLevel To,
    [property: Id(4)] string ChangedBy,
    [property: Id(5)] string Reason);

/// <summary>The automation policy as of one version: every intent's level, and the latest changes.</summary>
[GenerateSerializer, Immutable, Alias("cg.AutomationPolicyView")]
public sealed record AutomationPolicyView(
    [property: Id(0)] int Version,
    [property: Id(1)] System.Collections.Immutable.ImmutableSortedDictionary<string, AutomationLevel> Levels,
    [property: Id(2)] System.Collections.Immutable.ImmutableArray<LevelChange> Audit);

/// <summary>
/// The versioned, audited automation policy: one grain ("default"). Read by every silo's cache a
/// few times a minute, never on a customer's message; changed by supervisors and the demotion rule.
/// </summary>
[Alias("cg.IAutomationPolicyGrain")]
public interface IAutomationPolicyGrain : IGrainWithStringKey
{
    [ReadOnly]
    Task<AutomationPolicyView> GetPolicy();

    /// <summary>Sets an intent's level; refused (<see cref="RequestRejectedException"/>) when the change breaks a rule.</summary>
    Task<AutomationPolicyView> ChangeLevel(string intentId, AutomationLevel level, string changedBy, string reason);

    /// <summary>
    /// The demotion rule's change: one step down from <paramref name="from"/>, with its evidence.
    /// Ignored when the intent is no longer at <paramref name="from"/> (already demoted, or changed by a supervisor).
    /// </summary>
    Task<AutomationPolicyView> Demote(string intentId, AutomationLevel from, string evidence);
}

/// <summary>
/// One intent's outcome figures over the rolling window, bot and human side by side (key: the
/// intent id). Silos send it what they buffered every few seconds, never a call per conversation;
/// after each batch it applies the demotion rule.
/// </summary>
[Alias("cg.IIntentOutcomesGrain")]
public interface IIntentOutcomesGrain : IGrainWithStringKey
{
    Task Record(System.Collections.Immutable.ImmutableArray<DatedOutcome> outcomes);

    /// <summary>The window's figures as of now, bot and human side by side: what a supervisor decides on.</summary>
    [ReadOnly]
    Task<IntentFiguresView> GetFigures();

    /// <summary>The window's figures day by day (days with outcomes only), oldest first: for charts.</summary>
    [ReadOnly]
    Task<System.Collections.Immutable.ImmutableArray<IntentDayView>> GetHistory();
}

/// <summary>One side's figures over the window (rates null when there is nothing to measure them on).</summary>
[GenerateSerializer, Immutable, Alias("cg.SideFigures")]
public sealed record SideFigures(
    [property: Id(0)] int Conversations,
    [property: Id(1)] int Rated,
    [property: Id(2)] double? AverageRating,
    [property: Id(3)] double? RepeatContactRate,
    [property: Id(4)] double? EscalationRate,
    [property: Id(5)] int Drafts = 0,
    [property: Id(6)] double? DraftAcceptance = null,
    [property: Id(7)] int Reviewed = 0,
    [property: Id(8)] double? ReviewApproval = null);

/// <summary>An intent's figures over the rolling window: the bot's conversations and the humans'.</summary>
[GenerateSerializer, Immutable, Alias("cg.IntentFiguresView")]
public sealed record IntentFiguresView(
    [property: Id(0)] string IntentId,
    [property: Id(1)] int WindowDays,
    [property: Id(2)] SideFigures Bot,
    [property: Id(3)] SideFigures Human);

/// <summary>
/// A conversation's outcome on the day it counts for, as each silo buffers it for the intent's
/// figures. A rating given after the conversation ended arrives on its own (<see cref="RatingOnly"/>),
/// and so does the customer's coming back about it within the repeat window (<see cref="RepeatOnly"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("cg.DatedOutcome")]
public sealed record DatedOutcome(
    [property: Id(0)] DateOnly Day,
    [property: Id(1)] ConversationOutcome Outcome,
    [property: Id(2)] bool RatingOnly = false,
    [property: Id(3)] bool RepeatOnly = false,
    [property: Id(4)] ReviewVerdict? Review = null,
    [property: Id(5)] DraftFate? Draft = null);

/// <summary>What became of a copilot draft the agent saw.</summary>
[GenerateSerializer, Alias("cg.DraftFate")]
public enum DraftFate
{
    /// <summary>The agent sent it as the bot wrote it.</summary>
    SentUnchanged = 1,

    /// <summary>The agent changed it, then sent it.</summary>
    Edited = 2,

    /// <summary>The agent discarded it, answered otherwise, or the conversation moved on without it.</summary>
    Discarded = 3,
}

/// <summary>One day of an intent's figures, bot and human side by side.</summary>
[GenerateSerializer, Immutable, Alias("cg.IntentDayView")]
public sealed record IntentDayView([property: Id(0)] DateOnly Day, [property: Id(1)] SideFigures Bot, [property: Id(2)] SideFigures Human);
