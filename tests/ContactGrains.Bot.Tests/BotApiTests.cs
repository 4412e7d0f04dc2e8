namespace ContactGrains.Bot.Tests;

/// <summary>The contract the conversation grain relies on.</summary>
public sealed class BotApiTests
{
    [Fact]
    public async Task ReplyAsync_returns_the_answer_with_intent_skill_language_and_confidence()
    {
        IBot bot = SampleBot.Bot;

        var reply = await bot.ReplyAsync(new BotRequest("I was charged twice", "en"));

        var intent = SampleBot.KnowledgeBase.FindIntent("card_charged_twice")!;
        Assert.Equal(new BotReply(intent.Answers["en"], "en", "card_charged_twice", "payments", 1.0, Understood: true), reply);
    }

    [Fact]
    public async Task ReplyAsync_honours_a_cancelled_token()
    {
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            async () => await SampleBot.Bot.ReplyAsync(new BotRequest("where is my refund", null), cancellation.Token));
    }

    [Fact]
    public async Task ReplyAsync_rejects_a_null_request()
    {
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await SampleBot.Bot.ReplyAsync(null!));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void Threshold_override_must_be_strictly_between_zero_and_one(double threshold)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new KnowledgeBaseBot(SampleBot.KnowledgeBase, threshold));
    }

    [Fact]
    public void Threshold_defaults_to_the_knowledge_base_and_can_be_overridden()
    {
        Assert.Equal(SampleBot.KnowledgeBase.Threshold, new KnowledgeBaseBot(SampleBot.KnowledgeBase).Threshold);

        var lenient = new KnowledgeBaseBot(SampleBot.KnowledgeBase, threshold: 0.01);
        var reply = lenient.Reply(new BotRequest("how much is a coffee", null));

        Assert.Equal(0.01, lenient.Threshold);
        Assert.True(reply.Understood);
    }

    [Fact]
    public void FromFile_loads_the_knowledge_base_and_builds_a_bot()
    {
        var bot = KnowledgeBaseBot.FromFile(KnowledgeBase.DefaultPath, threshold: 0.5);

        Assert.Equal(0.5, bot.Threshold);
        Assert.Equal("refund_status", bot.Reply(new BotRequest("where is my refund", null)).IntentId);
    }
}
