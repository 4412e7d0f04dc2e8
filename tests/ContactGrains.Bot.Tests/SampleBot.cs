namespace ContactGrains.Bot.Tests;

/// <summary>The shipped sample knowledge base, loaded once from the test output (knowledge/retail-payments.json).</summary>
internal static class SampleBot
{
    private static readonly Lazy<KnowledgeBaseBot> LazyBot = new(() => new KnowledgeBaseBot(KnowledgeBase.Load(KnowledgeBase.DefaultPath)));

    public static KnowledgeBaseBot Bot => LazyBot.Value;

    public static KnowledgeBase KnowledgeBase => Bot.KnowledgeBase;

    public static BotReply Reply(string text, string? preferredLanguage = null) =>
        Bot.Reply(new BotRequest(text, preferredLanguage));
}
