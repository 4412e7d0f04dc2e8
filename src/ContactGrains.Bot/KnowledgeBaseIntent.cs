namespace ContactGrains.Bot;

/// <summary>One thing customers ask about: how they phrase it (per language) and what the bot answers (per language).</summary>
public sealed class KnowledgeBaseIntent
{
    internal KnowledgeBaseIntent(
        string id,
        string? skill,
        IReadOnlyDictionary<string, IReadOnlyList<string>> examples,
        IReadOnlyDictionary<string, string> answers)
    {
        Id = id;
        Skill = skill;
        Examples = examples;
        Answers = answers;
    }

    /// <summary>Unique id, e.g. "refund_status".</summary>
    public string Id { get; }

    /// <summary>Routing key for human agents, e.g. "billing"; null when the file gives none.</summary>
    public string? Skill { get; }

    /// <summary>Example phrasings by language code.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Examples { get; }

    /// <summary>The answer by language code; there is one for every language that has examples.</summary>
    public IReadOnlyDictionary<string, string> Answers { get; }
}
