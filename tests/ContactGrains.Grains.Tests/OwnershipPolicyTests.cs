using System.Collections.Immutable;
using System.Text.RegularExpressions;
using ContactGrains.Bot.Signals;
using ContactGrains.Contracts;
using ContactGrains.Grains.Conversations;
using ContactGrains.Grains.Ownership;

namespace ContactGrains.Grains.Tests;

/// <summary>
/// The ownership policy's rules one at a time, on facts built by hand (the judgement table tests
/// them together, through the real bot and detector), and the customer notices it relies on.
/// </summary>
public sealed partial class OwnershipPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 10, 0, 0, TimeSpan.Zero);
    private static readonly OwnershipPolicy Policy = new(new OwnershipOptions());
    private static readonly BotTurn Answered = new("refund_status", "billing", 0.9, true, false);
    private static readonly BotTurn Missed = new("promo_code", "orders", 0.1, false, false);

    private static TurnFacts Facts(
        TurnSignals? signals = null, BotTurn? bot = null, TurnHistory? history = null, CustomerFacts? customer = null) =>
        new(signals ?? TurnSignals.None, bot ?? Answered, history ?? TurnHistory.Empty, customer ?? CustomerFacts.Unknown, "general", Now);

    public static TheoryData<AutomationLevel, string?> Levels => new()
    {
        { AutomationLevel.Autonomous, null },
        { AutomationLevel.Supervised, null },
        { AutomationLevel.Copilot, OwnershipReasons.CopilotIntent },
        { AutomationLevel.HumanOnly, OwnershipReasons.HumanOnlyIntent },
    };

    [Theory]
    [MemberData(nameof(Levels))]
    public void Below_supervised_a_human_answers_the_intent_with_the_level_as_its_reason(AutomationLevel level, string? reason)
    {
        var decision = Policy.Decide(Facts() with { IntentLevel = level });

        Assert.Equal(reason is not null, decision.HandOver);
        Assert.Equal(reason is null ? [] : [reason], decision.ReasonCodes.ToArray());
        if (reason is not null)
        {
            Assert.Equal("billing", decision.Skill);
            Assert.Equal(Automation.AutomationLevels.Name(level), decision.Signals["automation-level"]);
            Assert.NotEmpty(CustomerNotices.Handover(reason, "fr"));
        }
    }

    [Fact]
    public void A_level_does_not_apply_to_a_missed_message_or_a_request_for_a_human()
    {
        Assert.DoesNotContain(OwnershipReasons.HumanOnlyIntent, Policy.Decide(Facts(bot: Missed) with { IntentLevel = AutomationLevel.HumanOnly }).ReasonCodes);
        var askedForHuman = Policy.Decide(Facts(bot: new BotTurn("speak_to_agent", "general", 1, true, true)) with { IntentLevel = AutomationLevel.HumanOnly });
        Assert.Equal([OwnershipReasons.CustomerAskedForHuman], askedForHuman.ReasonCodes.ToArray());
    }

    [Fact]
    public void A_routine_answer_keeps_the_bot()
    {
        var decision = Policy.Decide(Facts());
        Assert.False(decision.HandOver);
        Assert.Empty(decision.ReasonCodes.ToArray());
    }

    [Fact]
    public void A_sensitive_topic_goes_to_its_skill_even_when_the_bot_is_sure()
    {
        var decision = Policy.Decide(Facts(TurnSignals.None with { SensitiveTopic = "fraud", SensitiveCue = "not me" }));
        Assert.True(decision.HandOver);
        Assert.Equal([OwnershipReasons.SensitiveTopic], decision.ReasonCodes.ToArray());
        Assert.Equal("security", decision.Skill);
        Assert.Equal(QueuePriority.EscalatedAfterBotFailure, decision.Priority);
        Assert.Equal("fraud", decision.Signals["topic"]);
    }

    [Fact]
    public void Small_talk_is_not_a_miss_and_does_not_break_a_run_of_misses()
    {
        var history = Policy.Advance(Facts(bot: Missed));
        Assert.Equal(1, history.ConsecutiveMisses);

        var afterHello = Policy.Advance(Facts(TurnSignals.None with { IsSmallTalk = true, Terms = [] }, Missed, history));
        Assert.Equal(1, afterHello.ConsecutiveMisses);

        var second = Policy.Decide(Facts(bot: Missed, history: afterHello));
        Assert.Equal([OwnershipReasons.RepeatedFailure], second.ReasonCodes.ToArray());
        Assert.Equal("2", second.Signals["misses"]);
    }

    [Fact]
    public void Anger_that_builds_over_messages_hands_over_when_no_single_message_would()
    {
        var mild = TurnSignals.None with { Anger = 0.3, AngerCues = ["still-not-working"] };
        var first = Policy.Decide(Facts(mild));
        Assert.False(first.HandOver);

        var second = Policy.Decide(Facts(mild with { AngerCues = ["exasperation"] }, history: Policy.Advance(Facts(mild))));
        Assert.Equal(OwnershipReasons.Frustration, second.MainReason);
        Assert.Equal("0.6", second.Signals["anger-trend"]);
    }

    [Theory]
    [InlineData(6.9, true)]
    [InlineData(7.0, true)]
    [InlineData(7.1, false)]
    public void A_contact_about_the_same_intent_within_the_window_is_a_repeat_contact(double daysAgo, bool repeat)
    {
        var customer = new CustomerFacts(CustomerTier.Standard, false, [new IntentContact("refund_status", Now.AddDays(-daysAgo), "earlier")]);
        var decision = Policy.Decide(Facts(customer: customer));
        Assert.Equal(repeat, decision.ReasonCodes.Contains(OwnershipReasons.RepeatContact));
    }

    [Fact]
    public void A_remembered_preference_hands_over_at_the_first_message_only()
    {
        var customer = new CustomerFacts(CustomerTier.Standard, PrefersHumans: true, []);
        Assert.Equal([OwnershipReasons.CustomerPreference], Policy.Decide(Facts(customer: customer)).ReasonCodes.ToArray());

        var later = Policy.Advance(Facts());
        Assert.False(Policy.Decide(Facts(customer: customer, history: later)).HandOver);
    }

    [Fact]
    public void A_vip_the_bot_cannot_serve_goes_first_in_the_queue()
    {
        var vip = new CustomerFacts(CustomerTier.Vip, false, []);
        var decision = Policy.Decide(Facts(bot: Missed, customer: vip));
        Assert.Equal([OwnershipReasons.Vip], decision.ReasonCodes.ToArray());
        Assert.Equal(QueuePriority.Vip, decision.Priority);
        Assert.Equal("general", decision.Skill);

        Assert.False(Policy.Decide(Facts(customer: vip)).HandOver);
    }

    [Fact]
    public void A_declined_human_is_not_a_request_even_when_the_bot_matched_one()
    {
        var declined = TurnSignals.None with { HumanRequest = HumanRequest.Negated, HumanCue = "an adviser" };
        var decision = Policy.Decide(Facts(declined, new BotTurn("speak_to_agent", "general", 0.9, true, AskedForHuman: true)));
        Assert.False(decision.HandOver);
    }

    [Fact]
    public void Every_reason_is_explained_with_its_signal_values()
    {
        var state = new ConversationState { LastIntent = "refund_status", BotMisses = 1 };
        var decision = Policy.Decide(Facts(TurnSignals.None with { Anger = 0.9, AngerCues = ["capitals", "insult"] }, Missed,
            customer: new CustomerFacts(CustomerTier.Vip, false, [])));
        Assert.Equal([OwnershipReasons.Frustration, OwnershipReasons.Vip], decision.ReasonCodes.ToArray());
        Assert.Equal(
            "The customer is frustrated (anger 0.9: capitals,insult); a VIP customer the bot could not serve at once. The bot had answered 'refund_status' and had not understood 1 message(s).",
            OwnershipExplanation.Describe(decision, state));
    }

    [Theory]
    [InlineData("en")]
    [InlineData("fr")]
    public void Every_customer_notice_has_a_text_with_the_same_placeholders_in_each_language(string language)
    {
        foreach (var key in CustomerNotices.Keys)
        {
            var english = CustomerNotices.Get(key, "en");
            var text = CustomerNotices.Get(key, language);
            Assert.False(string.IsNullOrWhiteSpace(text), key);
            Assert.Equal(Placeholders(english), Placeholders(text));
            if (language == "fr")
            {
                Assert.NotEqual(english, text);
            }
        }
    }

    [Fact]
    public void A_language_without_texts_gets_english_and_a_regional_variant_gets_its_language()
    {
        Assert.Equal(CustomerNotices.Get("BotResumed", "en"), CustomerNotices.Get("BotResumed", "de"));
        Assert.Equal(CustomerNotices.Get("BotResumed", "en"), CustomerNotices.Get("BotResumed", "not a language"));
        Assert.Equal(CustomerNotices.Get("BotResumed", "fr"), CustomerNotices.Get("BotResumed", "fr-CA"));
        Assert.Equal("Claire a rejoint la conversation.", CustomerNotices.Get("AgentJoined", "fr", "Claire"));
    }

    private static string[] Placeholders(string text) => [.. PlaceholderPattern().Matches(text).Select(m => m.Value).Order()];

    [GeneratedRegex(@"\{\d+\}")]
    private static partial Regex PlaceholderPattern();
}
