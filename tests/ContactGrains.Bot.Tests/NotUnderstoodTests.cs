namespace ContactGrains.Bot.Tests;

/// <summary>What the bot does when it should not answer: gibberish, off-topic text, empty text.</summary>
public sealed class NotUnderstoodTests
{
    public static TheoryData<string, string> OffTopic => new()
    {
        { "asdkjh qwe zzz", "en" },
        { "the weather in Tokyo is nice", "en" },
        { "what is the meaning of life", "en" },
        { "can you book me a flight to London", "en" },
        { "tell me about quantum physics", "en" },
        { "lorem ipsum dolor sit amet", "en" },
        { "xyzzy plugh", "en" },
        { "il fait beau aujourd'hui", "fr" },
        { "je voudrais une pizza", "fr" },
        { "qui a gagné le match hier soir", "fr" },
        { "quelle est la capitale de la France", "fr" },
    };

    [Theory]
    [MemberData(nameof(OffTopic))]
    public void Gibberish_and_off_topic_text_gets_the_fallback_in_the_language_written(string text, string language)
    {
        var reply = SampleBot.Reply(text);

        Assert.False(reply.Understood);
        Assert.Equal(language, reply.Language);
        Assert.Equal(SampleBot.KnowledgeBase.Fallback[language], reply.Text);
        Assert.True(reply.Confidence < SampleBot.Bot.Threshold, $"'{text}' scored {reply.Confidence} for {reply.IntentId}");
    }

    [Theory]
    [MemberData(nameof(OffTopic))]
    public void Gibberish_and_off_topic_text_scores_clearly_below_the_threshold(string text, string language)
    {
        _ = language;
        var reply = SampleBot.Reply(text);

        Assert.True(reply.Confidence <= SampleBot.Bot.Threshold / 2, $"'{text}' scored {reply.Confidence} for {reply.IntentId}");
    }

    [Fact]
    public void French_message_sharing_a_word_with_english_examples_falls_back_in_french()
    {
        // "chat" is a cat in French, and a conversation in the English examples ("a human I can chat with").
        var reply = SampleBot.Reply("mon chat est malade");

        Assert.False(reply.Understood);
        Assert.Equal("fr", reply.Language);
        Assert.Equal(SampleBot.KnowledgeBase.Fallback["fr"], reply.Text);
    }

    [Fact]
    public void Gibberish_matches_nothing_at_all()
    {
        var reply = SampleBot.Reply("asdkjh qwe zzz");

        Assert.Null(reply.IntentId);
        Assert.Null(reply.Skill);
        Assert.Equal(0, reply.Confidence);
        Assert.Empty(SampleBot.Bot.Classify("asdkjh qwe zzz"));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("   \t\r\n  ")]
    [InlineData("?!?! ... ---")]
    [InlineData("\u00A0\u2003")]
    public void Empty_or_blank_text_is_not_understood_and_does_not_throw(string text)
    {
        var reply = SampleBot.Reply(text);

        Assert.False(reply.Understood);
        Assert.Null(reply.IntentId);
        Assert.Null(reply.Skill);
        Assert.Equal(0, reply.Confidence);
        Assert.Equal("en", reply.Language);
        Assert.Equal(SampleBot.KnowledgeBase.Fallback["en"], reply.Text);
        Assert.Empty(SampleBot.Bot.Classify(text));
    }

    [Fact]
    public void Null_text_is_treated_as_empty()
    {
        var reply = SampleBot.Bot.Reply(new BotRequest(null!, "fr"));

        Assert.False(reply.Understood);
        Assert.Equal("fr", reply.Language);
        Assert.Equal(SampleBot.KnowledgeBase.Fallback["fr"], reply.Text);
    }

    [Fact]
    public void Empty_text_gets_the_fallback_in_the_preferred_language()
    {
        var reply = SampleBot.Reply("   ", "fr");

        Assert.False(reply.Understood);
        Assert.Equal("fr", reply.Language);
        Assert.Equal(SampleBot.KnowledgeBase.Fallback["fr"], reply.Text);
    }

    [Fact]
    public void Fallback_is_in_the_preferred_language_even_when_another_is_detected()
    {
        var reply = SampleBot.Reply("the weather in Tokyo is nice", "fr");

        Assert.False(reply.Understood);
        Assert.Equal("fr", reply.Language);
        Assert.Equal(SampleBot.KnowledgeBase.Fallback["fr"], reply.Text);
    }

    [Fact]
    public void Fallback_is_in_the_first_language_when_neither_preferred_nor_detected()
    {
        var reply = SampleBot.Reply("zzzz qqqq 42");

        Assert.False(reply.Understood);
        Assert.Equal("en", reply.Language);
    }

    [Fact]
    public void Reply_below_threshold_still_names_the_best_intent_and_its_skill()
    {
        var strict = new KnowledgeBaseBot(SampleBot.KnowledgeBase, threshold: 0.99);

        var reply = strict.Reply(new BotRequest("where is my pakage", null));

        Assert.False(reply.Understood);
        Assert.Equal("delivery_tracking", reply.IntentId);
        Assert.Equal("delivery", reply.Skill);
        Assert.InRange(reply.Confidence, 0.3, 0.99);
        Assert.Equal("en", reply.Language);
        Assert.Equal(SampleBot.KnowledgeBase.Fallback["en"], reply.Text);
    }
}
