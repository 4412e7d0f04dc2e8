using System.Globalization;
using ContactGrains.Contracts;

namespace ContactGrains.Grains.Automation;

/// <summary>When the bot's figures for an intent fall behind the humans' far enough to take automation away.</summary>
public sealed class DemotionOptions
{
    public const string SectionName = "ContactGrains:Automation:Demotion";

    /// <summary>The bot's mean rating may trail the humans' by less than this (stars, 1–5 scale).</summary>
    public double RatingMargin { get; set; } = 0.5;

    /// <summary>The bot's repeat-contact rate may exceed the humans' by less than this (a share, 0–1).</summary>
    public double RepeatContactMargin { get; set; } = 0.10;

    /// <summary>Each side needs at least this many rated conversations (ratings) or conversations (repeat contacts) to be compared.</summary>
    public int MinimumSample { get; set; } = 30;

    /// <summary>Why these settings cannot work, or null.</summary>
    public string? Validate() =>
        RatingMargin is < 0 or > 4 || RepeatContactMargin is < 0 or > 1 || MinimumSample < 1
            ? $"{SectionName}: RatingMargin is 0 to 4 stars (default 0.5), RepeatContactMargin a share from 0 to 1 (default 0.10), MinimumSample at least 1 (default 30)."
            : null;
}

/// <summary>A demotion, with the figures that justified it: what the audit records and supervisors see.</summary>
/// <param name="From">The level before.</param>
/// <param name="To">One step less automation.</param>
/// <param name="ReasonCode"><c>bot-rating-behind</c> or <c>bot-repeat-contacts-above</c>.</param>
/// <param name="Evidence">The comparison, in words with its figures.</param>
/// <param name="Figures">The window's figures at the moment of the decision.</param>
public sealed record DemotionDecision(AutomationLevel From, AutomationLevel To, string ReasonCode, string Evidence, IntentComparison Figures);

/// <summary>
/// Demotion is automatic: when, over a large enough sample on both sides, the bot's mean rating
/// trails the humans' by the margin or more, or its repeat-contact rate exceeds theirs by the margin
/// or more, the intent drops one level. It applies where the bot answers (supervised, autonomous);
/// promotion is never automatic.
/// </summary>
public static class DemotionRule
{
    public const string RatingBehind = "bot-rating-behind";
    public const string RepeatContactsAbove = "bot-repeat-contacts-above";

    public static DemotionDecision? Evaluate(AutomationLevel level, IntentComparison figures, DemotionOptions options)
    {
        if (!AutomationLevels.BotAnswers(level))
        {
            return null;
        }

        var (bot, human) = (figures.Bot, figures.Human);
        if (bot.Rated >= options.MinimumSample && human.Rated >= options.MinimumSample
            && human.AverageRating - bot.AverageRating >= options.RatingMargin - 1e-9)
        {
            return Demote(level, RatingBehind, Invariant(
                $"The bot's mean rating is {bot.AverageRating:0.00} over {bot.Rated} rated conversation{(bot.Rated == 1 ? "" : "s")}, the humans' {human.AverageRating:0.00} over {human.Rated}: {human.AverageRating - bot.AverageRating:0.00} behind, the margin is {options.RatingMargin:0.00}."),
                figures);
        }

        // Conversations the bot resolved alone are the ones a customer can come back about.
        var botResolved = bot.Conversations - bot.Escalations;
        if (botResolved >= options.MinimumSample && human.Conversations >= options.MinimumSample)
        {
            var botRate = (double)bot.RepeatContacts / botResolved;
            var humanRate = human.RepeatContactRate!.Value;
            if (botRate - humanRate >= options.RepeatContactMargin - 1e-9)
            {
                return Demote(level, RepeatContactsAbove, Invariant(
                    $"Customers came back after {botRate:P0} of the bot's {botResolved} conversations, after {humanRate:P0} of the humans' {human.Conversations}: {botRate - humanRate:P0} more, the margin is {options.RepeatContactMargin:P0}."),
                    figures);
            }
        }

        return null;
    }

    private static DemotionDecision Demote(AutomationLevel level, string reasonCode, string evidence, IntentComparison figures) =>
        new(level, AutomationLevels.Demoted(level), reasonCode, evidence, figures);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
