using ContactGrains.Contracts;

namespace ContactGrains.Grains.Automation;

/// <summary>
/// One side's outcomes for one intent (the bot's conversations, or the humans'), as sums that add
/// up: per silo, per day, per window. Rates are null below one conversation to measure them on.
/// </summary>
[GenerateSerializer, Immutable, Alias("cg.IntentFigures")]
public sealed record IntentFigures(
    [property: Id(0)] int Conversations,
    [property: Id(1)] int Rated,
    [property: Id(2)] int RatingSum,
    [property: Id(3)] int RepeatContacts,
    [property: Id(4)] int Escalations,
    [property: Id(5)] int Drafts = 0,
    [property: Id(6)] int DraftsAccepted = 0,
    [property: Id(7)] int Reviewed = 0,
    [property: Id(8)] int Approved = 0)
{
    public static readonly IntentFigures None = new(0, 0, 0, 0, 0);

    /// <summary>The share of copilot drafts the agents sent (unchanged or edited), or null when there were none.</summary>
    public double? DraftAcceptance => Drafts == 0 ? null : (double)DraftsAccepted / Drafts;

    /// <summary>The share of reviewed supervised conversations the reviewers approved, or null when none was reviewed.</summary>
    public double? ReviewApproval => Reviewed == 0 ? null : (double)Approved / Reviewed;

    /// <summary>The mean customer rating (1–5), or null when nobody rated.</summary>
    public double? AverageRating => Rated == 0 ? null : (double)RatingSum / Rated;

    /// <summary>The share of conversations the customer came back about, or null when there were none.</summary>
    public double? RepeatContactRate => Conversations == 0 ? null : (double)RepeatContacts / Conversations;

    /// <summary>The share of bot conversations a human had to take over, or null when there were none.</summary>
    public double? EscalationRate => Conversations == 0 ? null : (double)Escalations / Conversations;

    public IntentFigures With(ConversationOutcome outcome) => new(
        Conversations + 1,
        Rated + (outcome.Rating is null ? 0 : 1),
        RatingSum + (outcome.Rating ?? 0),
        RepeatContacts + (outcome.RepeatContact ? 1 : 0),
        Escalations + (outcome.Escalated ? 1 : 0),
        Drafts, DraftsAccepted, Reviewed, Approved);

    public static IntentFigures operator +(IntentFigures a, IntentFigures b) => new(
        a.Conversations + b.Conversations, a.Rated + b.Rated, a.RatingSum + b.RatingSum,
        a.RepeatContacts + b.RepeatContacts, a.Escalations + b.Escalations,
        a.Drafts + b.Drafts, a.DraftsAccepted + b.DraftsAccepted, a.Reviewed + b.Reviewed, a.Approved + b.Approved);
}

/// <summary>The bot's and the humans' figures for one intent, side by side.</summary>
/// <param name="Bot">Conversations the bot resolved alone, and those it attempted before a human took over (escalations).</param>
/// <param name="Human">Conversations humans resolved: the baseline the bot is measured against.</param>
[GenerateSerializer, Immutable, Alias("cg.IntentComparison")]
public sealed record IntentComparison([property: Id(0)] IntentFigures Bot, [property: Id(1)] IntentFigures Human)
{
    public static readonly IntentComparison None = new(IntentFigures.None, IntentFigures.None);

    /// <summary>
    /// Where one outcome counts. A conversation the bot resolved is the bot's; one a human resolved
    /// is the humans'; one a human resolved after the bot tried counts for both: as the bot's
    /// escalation, and as the humans' resolution.
    /// </summary>
    public IntentComparison With(ConversationOutcome outcome) => outcome.ResolvedBy switch
    {
        ResolvedBy.Bot => this with { Bot = Bot.With(outcome) },
        ResolvedBy.HumanAfterBot => new(Bot.With(outcome with { Rating = null, RepeatContact = false, Escalated = true }), Human.With(outcome with { Escalated = false })),
        _ => this with { Human = Human.With(outcome with { Escalated = false }) },
    };

    /// <summary>A rating given after the conversation was counted: it counts for the side that resolved it.</summary>
    public IntentComparison WithRating(ResolvedBy resolvedBy, int rating)
    {
        var rated = new IntentFigures(0, 1, rating, 0, 0);
        return resolvedBy == ResolvedBy.Bot ? this with { Bot = Bot + rated } : this with { Human = Human + rated };
    }

    /// <summary>The customer came back about a conversation already counted: a repeat contact for the side that resolved it.</summary>
    public IntentComparison WithRepeatContact(ResolvedBy resolvedBy)
    {
        var repeat = new IntentFigures(0, 0, 0, 1, 0);
        return resolvedBy == ResolvedBy.Bot ? this with { Bot = Bot + repeat } : this with { Human = Human + repeat };
    }

    /// <summary>A copilot draft's fate: the humans' side (the agents chose what to do with it).</summary>
    public IntentComparison WithDraft(DraftFate fate) =>
        this with { Human = Human + new IntentFigures(0, 0, 0, 0, 0, Drafts: 1, DraftsAccepted: fate == DraftFate.Discarded ? 0 : 1) };

    /// <summary>A review's verdict on a supervised conversation: the bot's side.</summary>
    public IntentComparison WithReview(ReviewVerdict verdict) =>
        this with { Bot = Bot + new IntentFigures(0, 0, 0, 0, 0, Reviewed: 1, Approved: verdict == ReviewVerdict.Approved ? 1 : 0) };

    public static IntentComparison operator +(IntentComparison a, IntentComparison b) => new(a.Bot + b.Bot, a.Human + b.Human);
}
