namespace ContactGrains.Bot;

/// <summary>One ranked candidate returned by <see cref="KnowledgeBaseBot.Classify(string)"/>.</summary>
/// <param name="IntentId">The intent's id.</param>
/// <param name="Confidence">0..1; 1 for a message identical to one of the intent's examples.</param>
/// <param name="Language">The language of the examples that matched best.</param>
/// <param name="Skill">The intent's skill, or null when the knowledge base gives none.</param>
public sealed record IntentMatch(string IntentId, double Confidence, string Language, string? Skill);
