namespace ContactGrains.Bot.Tests;

/// <summary>The ranked view used by tests and diagnostics.</summary>
public sealed class ClassifyTests
{
    [Fact]
    public void Classify_ranks_intents_best_first_with_their_language_and_skill()
    {
        var matches = SampleBot.Bot.Classify("Où est mon colis ?");

        Assert.NotEmpty(matches);
        Assert.Equal("delivery_tracking", matches[0].IntentId);
        Assert.Equal("fr", matches[0].Language);
        Assert.Equal("delivery", matches[0].Skill);
        Assert.Equal(matches.OrderByDescending(match => match.Confidence).Select(match => match.Confidence), matches.Select(match => match.Confidence));
        Assert.All(matches, match => Assert.InRange(match.Confidence, double.Epsilon, 1.0));
        Assert.Equal(matches.Count, matches.Select(match => match.IntentId).Distinct().Count());
    }

    [Fact]
    public void Classify_agrees_with_reply()
    {
        const string text = "my card was refused when paying";

        var top = SampleBot.Bot.Classify(text)[0];
        var reply = SampleBot.Reply(text);

        Assert.Equal(top.IntentId, reply.IntentId);
        Assert.Equal(top.Confidence, reply.Confidence);
        Assert.Equal(top.Language, reply.Language);
    }

    [Fact]
    public void Exact_example_scores_one_and_a_paraphrase_less()
    {
        var exact = SampleBot.Bot.Classify("Where is my refund?")[0];
        var paraphrase = SampleBot.Bot.Classify("my refund still hasn't arrived")[0];

        Assert.Equal(("refund_status", 1.0), (exact.IntentId, exact.Confidence));
        Assert.Equal("refund_status", paraphrase.IntentId);
        Assert.InRange(paraphrase.Confidence, SampleBot.Bot.Threshold, 0.99);
    }

    [Fact]
    public void A_typo_costs_some_confidence_but_not_the_match()
    {
        var correct = SampleBot.Bot.Classify("forgot my password")[0];
        var typo = SampleBot.Bot.Classify("forgot my pasword")[0];

        Assert.Equal(correct.IntentId, typo.IntentId);
        Assert.True(typo.Confidence < correct.Confidence);
        Assert.True(typo.Confidence >= SampleBot.Bot.Threshold);
    }

    [Fact]
    public void Casing_and_punctuation_do_not_change_the_scores()
    {
        Assert.Equal(SampleBot.Bot.Classify("where is my refund"), SampleBot.Bot.Classify("WHERE... is my REFUND?!"));
    }

    [Fact]
    public void Order_and_card_numbers_weigh_little()
    {
        var plain = SampleBot.Reply("cancel my order");
        var withNumber = SampleBot.Reply("cancel my order 4711-0042");

        Assert.Equal("order_cancellation", withNumber.IntentId);
        Assert.True(withNumber.Understood);
        Assert.True(withNumber.Confidence < plain.Confidence);
    }
}
