using System.Collections.Immutable;
using ContactGrains.Contracts;
using ContactGrains.Grains.Automation;

namespace ContactGrains.Grains.Tests;

/// <summary>The automation policy's rules on tables: levels, demotion, rolling windows, repeat contacts.</summary>
public sealed class AutomationPolicyTests
{
    private static readonly DemotionOptions Defaults = new();
    private static readonly DateOnly Today = new(2026, 11, 30);

    [Theory]
    [InlineData(AutomationLevel.Autonomous, AutomationLevel.Supervised, AutomationLevel.Autonomous)]
    [InlineData(AutomationLevel.Supervised, AutomationLevel.Copilot, AutomationLevel.Autonomous)]
    [InlineData(AutomationLevel.Copilot, AutomationLevel.HumanOnly, AutomationLevel.Supervised)]
    [InlineData(AutomationLevel.HumanOnly, AutomationLevel.HumanOnly, AutomationLevel.Copilot)]
    public void Levels_move_one_step_at_a_time(AutomationLevel level, AutomationLevel demoted, AutomationLevel promoted)
    {
        Assert.Equal(demoted, AutomationLevels.Demoted(level));
        Assert.Equal(promoted, AutomationLevels.Promoted(level));
    }

    [Theory]
    [InlineData(AutomationLevel.HumanOnly, false)]
    [InlineData(AutomationLevel.Copilot, false)]
    [InlineData(AutomationLevel.Supervised, true)]
    [InlineData(AutomationLevel.Autonomous, true)]
    public void The_bot_answers_only_at_supervised_and_autonomous(AutomationLevel level, bool botAnswers) =>
        Assert.Equal(botAnswers, AutomationLevels.BotAnswers(level));

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    [InlineData(0.25)]
    [InlineData(1.0)]
    public void Supervised_conversations_are_picked_for_review_in_the_configured_share_and_always_the_same_ones(double share)
    {
        var ids = Enumerable.Range(0, 10_000).Select(i => $"conv-{i:x8}").ToList();

        var picked = ids.Count(id => AutomationLevels.PickedForReview(AutomationLevel.Supervised, id, share));

        Assert.InRange(picked / 10_000.0, share - 0.02, share + 0.02);
        Assert.All(ids.Take(200), id => Assert.Equal(
            AutomationLevels.PickedForReview(AutomationLevel.Supervised, id, share),
            AutomationLevels.PickedForReview(AutomationLevel.Supervised, id, share)));
        Assert.DoesNotContain(ids, id => AutomationLevels.PickedForReview(AutomationLevel.Autonomous, id, share));
    }

    public static TheoryData<string, AutomationLevel, AutomationLevel, bool, bool, string, string?> Changes => new()
    {
        // what, from, to, known intent, human-only by configuration, reason, problem (null: allowed)
        { "a demotion by several steps", AutomationLevel.Autonomous, AutomationLevel.HumanOnly, true, false, "ratings fell", null },
        { "a promotion by one step", AutomationLevel.Copilot, AutomationLevel.Supervised, true, false, "drafts accepted", null },
        { "a promotion by two steps", AutomationLevel.Copilot, AutomationLevel.Autonomous, true, false, "all good", "Promote one step at a time: from copilot, the next level is supervised." },
        { "an intent the bot does not know", AutomationLevel.Autonomous, AutomationLevel.HumanOnly, false, false, "why not", "Intent 'x' is not in the bot's knowledge base." },
        { "a configured human-only intent", AutomationLevel.HumanOnly, AutomationLevel.Copilot, true, true, "try", "Intent 'x' is human-only by configuration (ContactGrains:Ownership:HumanOnlyIntents): it cannot be automated from here." },
        { "a configured human-only intent kept human-only", AutomationLevel.HumanOnly, AutomationLevel.HumanOnly, true, true, "confirming", null },
        { "no reason", AutomationLevel.Autonomous, AutomationLevel.Supervised, true, false, " ", "reason is required: the audit keeps why every level changed." },
        { "a level that does not exist", AutomationLevel.Autonomous, (AutomationLevel)9, true, false, "x", "level must be human-only, copilot, supervised or autonomous." },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void A_supervisors_change_follows_the_rules(string what, AutomationLevel from, AutomationLevel to, bool known, bool humanOnly, string reason, string? problem) =>
        Assert.True(problem == AutomationLevels.CheckChange("x", from, to, known, humanOnly, reason), what);

    public static TheoryData<string, AutomationLevel, IntentComparison, AutomationLevel?, string?> Demotions => new()
    {
        // what, level, figures, demoted to (null: stays), reason
        { "ratings far behind", AutomationLevel.Autonomous, Compare(bot: Side(40, 40, 3.4), human: Side(40, 40, 4.2)), AutomationLevel.Supervised, DemotionRule.RatingBehind },
        { "exactly the margin behind", AutomationLevel.Autonomous, Compare(bot: Side(40, 40, 3.7), human: Side(40, 40, 4.2)), AutomationLevel.Supervised, DemotionRule.RatingBehind },
        { "a little behind, within the margin", AutomationLevel.Autonomous, Compare(bot: Side(40, 40, 3.8), human: Side(40, 40, 4.2)), null, null },
        { "the bot rated better than humans", AutomationLevel.Supervised, Compare(bot: Side(100, 80, 4.6), human: Side(100, 80, 4.1)), null, null },
        { "too few bot ratings to judge", AutomationLevel.Autonomous, Compare(bot: Side(200, 29, 1.5), human: Side(200, 100, 4.5)), null, null },
        { "too few human ratings to compare with", AutomationLevel.Autonomous, Compare(bot: Side(200, 100, 1.5), human: Side(20, 10, 4.5)), null, null },
        { "customers come back far more after the bot", AutomationLevel.Supervised, Compare(bot: Side(50, 0, 0, repeats: 15), human: Side(60, 0, 0, repeats: 6)), AutomationLevel.Copilot, DemotionRule.RepeatContactsAbove },
        { "a few more repeat contacts, within the margin", AutomationLevel.Supervised, Compare(bot: Side(100, 0, 0, repeats: 19), human: Side(100, 0, 0, repeats: 10)), null, null },
        { "escalations are not the bot's resolutions", AutomationLevel.Autonomous, Compare(bot: Side(60, 0, 0, repeats: 6, escalations: 30), human: Side(100, 0, 0, repeats: 5)), AutomationLevel.Supervised, DemotionRule.RepeatContactsAbove },
        { "too few bot resolutions for repeat contacts", AutomationLevel.Autonomous, Compare(bot: Side(40, 0, 0, repeats: 20, escalations: 15), human: Side(100, 0, 0, repeats: 1)), null, null },
        { "copilot: the bot does not answer, nothing to demote on", AutomationLevel.Copilot, Compare(bot: Side(100, 100, 1.0), human: Side(100, 100, 5.0)), null, null },
        { "human-only stays", AutomationLevel.HumanOnly, Compare(bot: Side(100, 100, 1.0), human: Side(100, 100, 5.0)), null, null },
        { "no data at all", AutomationLevel.Autonomous, IntentComparison.None, null, null },
    };

    [Theory]
    [MemberData(nameof(Demotions))]
    public void Demotion_follows_the_table(string what, AutomationLevel level, IntentComparison figures, AutomationLevel? demotedTo, string? reason)
    {
        var decision = DemotionRule.Evaluate(level, figures, Defaults);

        Assert.True(demotedTo == decision?.To, $"{what}: {decision?.Evidence ?? "no demotion"}");
        Assert.Equal(reason, decision?.ReasonCode);
        if (decision is not null)
        {
            Assert.Equal(level, decision.From);
            Assert.Same(figures, decision.Figures);
        }
    }

    [Fact]
    public void A_demotion_states_its_evidence_with_the_figures()
    {
        var decision = DemotionRule.Evaluate(AutomationLevel.Autonomous, Compare(bot: Side(40, 40, 3.4), human: Side(40, 40, 4.2)), Defaults);

        Assert.Equal("The bot's mean rating is 3.40 over 40 rated conversations, the humans' 4.20 over 40: 0.80 behind, the margin is 0.50.", decision!.Evidence);
    }

    [Fact]
    public void Outcomes_count_for_the_side_that_resolved_and_an_escalation_for_both()
    {
        var figures = IntentComparison.None
            .With(new ConversationOutcome(ResolvedBy.Bot, Rating: 5, RepeatContact: false, Escalated: false))
            .With(new ConversationOutcome(ResolvedBy.Bot, Rating: null, RepeatContact: true, Escalated: false))
            .With(new ConversationOutcome(ResolvedBy.HumanAfterBot, Rating: 2, RepeatContact: false, Escalated: true))
            .With(new ConversationOutcome(ResolvedBy.Human, Rating: 4, RepeatContact: false, Escalated: false));

        Assert.Equal(new IntentFigures(Conversations: 3, Rated: 1, RatingSum: 5, RepeatContacts: 1, Escalations: 1), figures.Bot);
        Assert.Equal(new IntentFigures(Conversations: 2, Rated: 2, RatingSum: 6, RepeatContacts: 0, Escalations: 0), figures.Human);
        Assert.Equal(5.0, figures.Bot.AverageRating);
        Assert.Equal(3.0, figures.Human.AverageRating);
        Assert.Null(IntentFigures.None.AverageRating);
    }

    [Fact]
    public void The_window_keeps_its_last_days_and_forgets_older_ones()
    {
        var outcomes = RollingOutcomes.Empty(windowDays: 7);
        var good = new ConversationOutcome(ResolvedBy.Bot, 5, false, false);
        var bad = new ConversationOutcome(ResolvedBy.Bot, 1, false, false);

        outcomes = outcomes.Record(Today.AddDays(-10), bad, Today.AddDays(-10));
        outcomes = outcomes.Record(Today.AddDays(-6), bad, Today.AddDays(-6));
        outcomes = outcomes.Record(Today, good, Today);

        // The 10-day-old day left the window when today's was recorded; the 6-day-old one is still in.
        Assert.Equal([Today.AddDays(-6), Today], outcomes.Days.Keys);
        Assert.Equal(2, outcomes.Totals(Today).Bot.Conversations);
        Assert.Equal(3.0, outcomes.Totals(Today).Bot.AverageRating);

        // A day later, the 6-day-old day is 7 days old: out.
        Assert.Equal(5.0, outcomes.Totals(Today.AddDays(1)).Bot.AverageRating);
    }

    [Fact]
    public void Outcomes_outside_the_window_are_not_counted()
    {
        var outcomes = RollingOutcomes.Empty(windowDays: 28)
            .Record(Today.AddDays(-28), new ConversationOutcome(ResolvedBy.Human, 5, false, false), Today)
            .Record(Today.AddDays(1), new ConversationOutcome(ResolvedBy.Human, 5, false, false), Today);

        Assert.Equal(IntentComparison.None, outcomes.Totals(Today));
        Assert.Empty(outcomes.Days);
    }

    [Fact]
    public void Buckets_from_several_silos_add_up_day_by_day()
    {
        var one = RollingOutcomes.Empty()
            .Record(Today, new ConversationOutcome(ResolvedBy.Bot, 4, false, false), Today)
            .Record(Today.AddDays(-1), new ConversationOutcome(ResolvedBy.Human, 5, false, false), Today);
        var two = RollingOutcomes.Empty()
            .Record(Today, new ConversationOutcome(ResolvedBy.Bot, 2, true, false), Today);

        var merged = one.Merge(two, Today);

        Assert.Equal(new IntentFigures(2, 2, 6, 1, 0), merged.Days[Today].Bot);
        Assert.Equal(new IntentFigures(1, 1, 5, 0, 0), merged.Totals(Today).Human);
        Assert.Equal(merged.Totals(Today), two.Merge(one, Today).Totals(Today));
    }

    public static TheoryData<string, int, string, double?> RepeatCases => new()
    {
        // what, days ago, intent, expected days ago of the match (null: none)
        { "same intent 2 days ago", 2, "refund_status", 2 },
        { "same intent exactly 7 days ago", 7, "refund_status", 7 },
        { "same intent 8 days ago", 8, "refund_status", null },
        { "another intent yesterday", 1, "delivery_tracking", null },
    };

    [Theory]
    [MemberData(nameof(RepeatCases))]
    public void A_repeat_contact_is_the_same_intent_within_the_window(string what, int daysAgo, string intent, double? matchDaysAgo)
    {
        var now = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
        var earlier = ImmutableArray.Create(new IntentContact(intent, now.AddDays(-daysAgo), "earlier"));

        var match = RepeatContacts.FindEarlier(earlier, "refund_status", "now", now, RepeatContacts.DefaultWindow);

        Assert.True(matchDaysAgo == (match is null ? null : (now - match.At).TotalDays), what);
    }

    [Fact]
    public void The_latest_earlier_contact_is_the_one_matched_and_never_the_conversation_itself()
    {
        var now = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
        var earlier = new[]
        {
            new IntentContact("refund_status", now.AddDays(-5), "a"),
            new IntentContact("refund_status", now.AddDays(-1), "b"),
            new IntentContact("refund_status", now.AddHours(-1), "now"),
            new IntentContact("refund_status", now.AddDays(1), "from-the-future"),
        };

        Assert.Equal("b", RepeatContacts.FindEarlier(earlier, "refund_status", "now", now, RepeatContacts.DefaultWindow)?.ConversationId);
    }

    public static TheoryData<string, (string Id, double StartedDaysAgo, bool Closed)[], string[]> OpenEarlierCases => new()
    {
        // what, the customer's contacts, the conversations asked for their intents (newest first)
        { "no other conversation", [("now", 0, false)], [] },
        { "an earlier one, closed: its intents are on the customer already", [("a", 1, true), ("now", 0, false)], [] },
        { "an earlier one still open", [("a", 1, false), ("now", 0, false)], ["a"] },
        { "open ones newest first, the closed one left out", [("a", 3, false), ("b", 2, true), ("c", 1, false), ("now", 0, false)], ["c", "a"] },
        { "only the newest three of many open", [("a", 5, false), ("b", 4, false), ("c", 3, false), ("d", 2, false), ("now", 0, false)], ["d", "c", "b"] },
        { "one opened before the window cannot hold an intent inside it", [("a", 8, false), ("b", 6.9, false), ("now", 0, false)], ["b"] },
        { "a start in the future (a clock skew) is not trusted", [("a", -1, false), ("now", 0, false)], [] },
    };

    [Theory]
    [MemberData(nameof(OpenEarlierCases))]
    public void A_new_conversation_asks_the_customers_newest_open_conversations_for_their_intents(
        string what, (string Id, double StartedDaysAgo, bool Closed)[] contacts, string[] asked)
    {
        var now = new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero);
        var records = contacts.Select(c => new ContactRecord(c.Id, now.AddDays(-c.StartedDaysAgo), c.Closed ? now.AddDays(-c.StartedDaysAgo).AddMinutes(5) : null, c.Closed ? "resolved" : null));

        Assert.True(asked.SequenceEqual(RepeatContacts.OpenEarlier(records, "now", now, RepeatContacts.DefaultWindow)), what);
    }

    public static TheoryData<string, OwnerKind[], int, ResolvedBy?> Resolutions => new()
    {
        // what, owners in the ledger after the bot, bot answers, resolved by
        { "the bot answered and nobody else came", [], 2, ResolvedBy.Bot },
        { "the bot answered nothing (only small talk or misses)", [], 0, null },
        { "the bot answered, then an agent took over", [OwnerKind.Queue, OwnerKind.Agent], 1, ResolvedBy.HumanAfterBot },
        { "straight to an agent (a human-only intent)", [OwnerKind.Queue, OwnerKind.Agent], 0, ResolvedBy.Human },
        { "handed over, and the customer left before an agent came", [OwnerKind.Queue], 3, null },
        { "an agent handed it back to the bot, which finished", [OwnerKind.Queue, OwnerKind.Agent, OwnerKind.Bot], 2, ResolvedBy.HumanAfterBot },
    };

    [Theory]
    [MemberData(nameof(Resolutions))]
    public void Who_resolved_a_conversation_comes_from_its_ledger(string what, OwnerKind[] owners, int botAnswers, ResolvedBy? resolvedBy)
    {
        var state = new Conversations.ConversationState { BotAnsweredTurns = botAnswers };
        state.Ledger.Add(new OwnershipChange(DateTimeOffset.UnixEpoch, Owner.Nobody, Owner.Bot, "new-conversation", "", ["new-conversation"], null));
        var previous = Owner.Bot;
        foreach (var kind in owners)
        {
            var next = new Owner(kind, kind == OwnerKind.Bot ? null : "x");
            state.Ledger.Add(new OwnershipChange(DateTimeOffset.UnixEpoch, previous, next, "r", "", ["r"], null));
            previous = next;
        }

        Assert.True(resolvedBy == ConversationOutcomes.ResolvedByOf(state), what);
    }

    [Fact]
    public void A_rating_given_after_the_conversation_counts_for_the_side_that_resolved_it()
    {
        var outcomes = RollingOutcomes.Empty()
            .Record(new DatedOutcome(Today, new ConversationOutcome(ResolvedBy.Bot, null, false, false)), Today)
            .Record(new DatedOutcome(Today, new ConversationOutcome(ResolvedBy.Bot, 2, false, false), RatingOnly: true), Today)
            .Record(new DatedOutcome(Today, new ConversationOutcome(ResolvedBy.HumanAfterBot, null, false, true)), Today)
            .Record(new DatedOutcome(Today, new ConversationOutcome(ResolvedBy.HumanAfterBot, 5, false, false), RatingOnly: true), Today);

        var totals = outcomes.Totals(Today);
        Assert.Equal(new IntentFigures(2, 1, 2, 0, 1), totals.Bot);
        Assert.Equal(new IntentFigures(1, 1, 5, 0, 0), totals.Human);
    }

    [Fact]
    public void A_repeat_contact_counts_for_the_side_that_resolved_the_earlier_conversation()
    {
        var outcomes = RollingOutcomes.Empty()
            .Record(new DatedOutcome(Today, new ConversationOutcome(ResolvedBy.Bot, null, false, false)), Today)
            .Record(new DatedOutcome(Today, new ConversationOutcome(ResolvedBy.Human, null, false, false)), Today)
            .Record(new DatedOutcome(Today, new ConversationOutcome(ResolvedBy.Bot, null, true, false), RepeatOnly: true), Today);

        var totals = outcomes.Totals(Today);
        Assert.Equal(1.0, totals.Bot.RepeatContactRate);
        Assert.Equal(0.0, totals.Human.RepeatContactRate);
        Assert.Equal(1, totals.Bot.Conversations);
    }

    private static IntentComparison Compare(IntentFigures bot, IntentFigures human) => new(bot, human);

    private static IntentFigures Side(int conversations, int rated, double averageRating, int repeats = 0, int escalations = 0) =>
        new(conversations, rated, (int)Math.Round(averageRating * rated), repeats, escalations);
}
