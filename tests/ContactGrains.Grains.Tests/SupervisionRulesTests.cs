using ContactGrains.Bot;
using ContactGrains.Contracts;
using ContactGrains.Grains.Automation;
using ContactGrains.Grains.Routing;
using ContactGrains.Grains.Supervision;

namespace ContactGrains.Grains.Tests;

/// <summary>
/// The rules beside the supervision features, on tables (no cluster): when the bot drafts for an
/// agent and what became of a draft, which supervised conversations are reviewed, how a queue's
/// history is bucketed, and how drafts and reviews add to an intent's figures.
/// </summary>
public sealed class SupervisionRulesTests
{
    private const string HumanRequest = "speak_to_agent";
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 9, 7, 30, TimeSpan.Zero);

    public static TheoryData<string, bool, string?, AutomationLevel, string, bool> DraftCases => new()
    {
        { "An understood copilot intent gets a draft", true, "invoice_copy", AutomationLevel.Copilot, "You can download it from your account.", true },
        { "Not understood: nothing worth proposing", false, "invoice_copy", AutomationLevel.Copilot, "Sorry, could you rephrase?", false },
        { "A request for a person: the agent is the answer", true, HumanRequest, AutomationLevel.Copilot, "I'll pass you to an adviser.", false },
        { "Human-only: the bot stays out of it", true, "fraud_report", AutomationLevel.HumanOnly, "Please call us.", false },
        { "Supervised: the bot answers itself, no draft", true, "delivery_tracking", AutomationLevel.Supervised, "Here is your tracking link.", false },
        { "Autonomous: no draft", true, "delivery_tracking", AutomationLevel.Autonomous, "Here is your tracking link.", false },
        { "No intent matched at all", true, null, AutomationLevel.Copilot, "Hello!", false },
        { "An empty text is no draft", true, "invoice_copy", AutomationLevel.Copilot, "  ", false },
    };

    [Theory]
    [MemberData(nameof(DraftCases))]
    public void The_bot_drafts_only_understood_replies_about_copilot_intents(string rule, bool understood, string? intent, AutomationLevel level, string text, bool drafts)
    {
        var reply = new BotReply(text, "en", intent, "billing", understood ? 0.9 : 0.3, understood);
        Assert.True(drafts == CopilotDrafting.ShouldDraft(reply, level, HumanRequest), rule);
    }

    public static TheoryData<string, string, DraftFate> FateCases => new()
    {
        { "You can download it from your account.", "You can download it from your account.", DraftFate.SentUnchanged },
        { "You can download it from your account.", "  You can download it\nfrom your account. ", DraftFate.SentUnchanged },
        { "You can download it from your account.", "You can download it from your account, under Billing.", DraftFate.Edited },
        { "You can download it from your account.", "you can download it from your account.", DraftFate.Edited },
        { "Vous pouvez la télécharger.", "Vous pouvez la télécharger depuis votre espace.", DraftFate.Edited },
    };

    [Theory]
    [MemberData(nameof(FateCases))]
    public void A_sent_draft_is_unchanged_up_to_whitespace_and_edited_otherwise(string drafted, string sent, DraftFate expected)
    {
        var draft = new CopilotDraft("c/d1", 3, drafted, "invoice_copy", 0.9);
        Assert.Equal(expected, CopilotDrafting.FateOf(draft, sent));
    }

    [Theory]
    [InlineData(0.0, 0, 0)]
    [InlineData(1.0, 2000, 2000)]
    [InlineData(0.2, 300, 500)]
    [InlineData(0.05, 50, 160)]
    public void About_the_configured_share_of_conversations_is_flagged_for_review_the_same_on_every_call(double share, int atLeast, int atMost)
    {
        var ids = Enumerable.Range(0, 2000).Select(i => $"conv-{i:x6}-{i * 7919 % 10007}").ToList();
        var flagged = ids.Count(id => Reviews.IsFlagged(id, share));

        Assert.InRange(flagged, atLeast, atMost);
        Assert.All(ids, id => Assert.Equal(Reviews.IsFlagged(id, share), Reviews.IsFlagged(id, share)));
    }

    [Fact]
    public void A_queue_history_has_every_interval_of_the_span_oldest_first_with_empty_ones_included()
    {
        var statistics = new QueueStatistics(serviceLevelThreshold: TimeSpan.FromSeconds(60));
        statistics.Answered(Now - TimeSpan.FromMinutes(50), TimeSpan.FromSeconds(30));  // 08:15 interval, within
        statistics.Answered(Now - TimeSpan.FromMinutes(49), TimeSpan.FromSeconds(90));  // 08:15, after
        statistics.Abandoned(Now - TimeSpan.FromMinutes(48), TimeSpan.FromSeconds(120)); // 08:15, after: a miss
        statistics.Abandoned(Now - TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(10));  // 09:00, before: not counted

        var history = statistics.History(Now, TimeSpan.FromHours(1));

        Assert.Equal(
            [Now.Date.AddHours(8).AddMinutes(15), Now.Date.AddHours(8).AddMinutes(30), Now.Date.AddHours(8).AddMinutes(45), Now.Date.AddHours(9)],
            history.Select(i => i.Start.UtcDateTime));
        var busy = history[0];
        Assert.Equal((2, 1, 1, 1), (busy.Answered, busy.AnsweredWithinThreshold, busy.Abandoned, busy.AbandonedAfterThreshold));
        Assert.Equal((80, 120), (busy.AverageWaitSeconds, busy.LongestWaitSeconds));
        Assert.Equal(1.0 / 3, busy.ServiceLevel!.Value, 6);
        Assert.Null(history[1].ServiceLevel);
        Assert.Null(history[3].ServiceLevel); // only an abandon before the threshold
        Assert.Equal(1, history[3].Abandoned);
    }

    [Fact]
    public void A_queue_history_survives_as_its_stored_state_and_forgets_what_is_older_than_a_week()
    {
        var state = new QueueStatisticsState();
        var before = new QueueStatistics(state);
        before.Answered(Now - TimeSpan.FromDays(8), TimeSpan.FromSeconds(5));
        before.Answered(Now - TimeSpan.FromHours(2), TimeSpan.FromSeconds(5));
        Assert.True(before.Changed);

        var after = new QueueStatistics(state); // as a new activation reads the stored state
        var week = after.History(Now, TimeSpan.FromDays(7));

        Assert.Equal(672, week.Length);
        Assert.Equal(1, week.Sum(i => i.Answered));
        Assert.DoesNotContain(state.History, i => i.Start < Now - QueueStatistics.HistoryKept);
    }

    [Fact]
    public void Draft_fates_count_on_the_humans_side_and_review_verdicts_on_the_bots()
    {
        var day = DateOnly.FromDateTime(Now.UtcDateTime);
        var outcome = new ConversationOutcome(ResolvedBy.Human, null, false, false);
        var figures = RollingOutcomes.Empty();
        foreach (var fate in new[] { DraftFate.SentUnchanged, DraftFate.Edited, DraftFate.Discarded, DraftFate.SentUnchanged })
        {
            figures = figures.Record(new DatedOutcome(day, outcome, Draft: fate), day);
        }

        foreach (var verdict in new[] { ReviewVerdict.Approved, ReviewVerdict.Rejected })
        {
            figures = figures.Record(new DatedOutcome(day, outcome with { ResolvedBy = ResolvedBy.Bot }, Review: verdict), day);
        }

        var totals = figures.Totals(day);
        Assert.Equal((4, 0.75), (totals.Human.Drafts, totals.Human.DraftAcceptance!.Value));
        Assert.Equal((2, 0.5), (totals.Bot.Reviewed, totals.Bot.ReviewApproval!.Value));
        Assert.Equal((0, 0), (totals.Human.Conversations, totals.Bot.Conversations)); // neither is a conversation of its own
        Assert.Null(totals.Bot.DraftAcceptance);
        Assert.Null(totals.Human.ReviewApproval);
    }
}
