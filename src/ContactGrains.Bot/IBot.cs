namespace ContactGrains.Bot;

/// <summary>
/// The bot's brain. Default: <see cref="KnowledgeBaseBot"/>. An LLM-backed implementation
/// (Microsoft.Extensions.AI <c>IChatClient</c>) can replace or assist it later.
/// </summary>
/// <remarks>Implementations must be safe to call concurrently: one instance serves every conversation of a silo.</remarks>
public interface IBot
{
    /// <summary>Produces the bot's reply to one customer message.</summary>
    /// <param name="request">The customer's message and what is known of their language.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The reply; never null.</returns>
    ValueTask<BotReply> ReplyAsync(BotRequest request, CancellationToken cancellationToken = default);
}

/// <summary>One customer message handed to an <see cref="IBot"/>.</summary>
/// <param name="Text">The customer's message, raw.</param>
/// <param name="PreferredLanguage">The customer's profile language ("en", "fr") or null if unknown.</param>
public sealed record BotRequest(string Text, string? PreferredLanguage);

/// <summary>What an <see cref="IBot"/> answers.</summary>
/// <param name="Text">What the bot says to the customer.</param>
/// <param name="Language">Language of Text ("en"/"fr").</param>
/// <param name="IntentId">Best-matching intent, even when below threshold (for explainability); null if nothing matched at all.</param>
/// <param name="Skill">That intent's skill (routing key for humans later), or null.</param>
/// <param name="Confidence">0..1.</param>
/// <param name="Understood">Confidence &gt;= threshold. When false, Text is the "I'm not sure" fallback in Language.</param>
public sealed record BotReply(string Text, string Language, string? IntentId, string? Skill, double Confidence, bool Understood);
