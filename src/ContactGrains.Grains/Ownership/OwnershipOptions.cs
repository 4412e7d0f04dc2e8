using ContactGrains.Bot;
using ContactGrains.Bot.Signals;

namespace ContactGrains.Grains.Ownership;

/// <summary>
/// The thresholds and lists of the ownership policy ("ContactGrains:Ownership"). Which topics and
/// intents are human-only, and which intents are high-stakes, is configuration, not code.
/// </summary>
public sealed class OwnershipOptions
{
    public const string SectionName = "ContactGrains:Ownership";

    /// <summary>Anger of one message (0–1) at which a human takes over.</summary>
    public double AngerThreshold { get; set; } = 0.6;

    /// <summary>Summed anger of the last <see cref="AngerTrendTurns"/> messages, two of them angry at least, at which a human takes over.</summary>
    public double AngerTrendThreshold { get; set; } = 0.6;

    public int AngerTrendTurns { get; set; } = 3;

    /// <summary>Messages in a row the bot did not understand (small talk aside) before a human takes over.</summary>
    public int MaxConsecutiveMisses { get; set; } = 2;

    /// <summary>Words shared with an earlier message (0–1, Jaccard) above which a message is the same question asked again.</summary>
    public double SameQuestionSimilarity { get; set; } = 0.5;

    /// <summary>Topics (from the signal detector) that always go to a human, whatever the bot's confidence.</summary>
    public List<string> HumanOnlyTopics { get; set; } = ["fraud", "dispute", "bereavement", "hardship", "legal", "complaint", "data-protection"];

    /// <summary>Knowledge-base intents that always go to a human.</summary>
    public List<string> HumanOnlyIntents { get; set; } = ["suspicious_transaction"];

    /// <summary>The skill whose queue takes each human-only topic.</summary>
    public Dictionary<string, string> TopicSkills { get; set; } = new()
    {
        ["fraud"] = "security",
        ["dispute"] = "payments",
        ["bereavement"] = "account",
        ["hardship"] = "billing",
        ["legal"] = "general",
        ["complaint"] = "general",
        ["data-protection"] = "account",
    };

    /// <summary>
    /// Intents about money, cards, accounts or security. A message about such matters (the signal
    /// detector's high-stakes words) goes to a human when the bot misses it, or matches it to an intent
    /// not in this list below <see cref="HighStakesConfidence"/>.
    /// </summary>
    public List<string> HighStakesIntents { get; set; } =
    [
        "payment_failed", "change_payment_method", "account_closure", "card_charged_twice", "password_reset", "pay_in_installments",
        "refund_status", "payment_due_date", "invoice_copy", "suspicious_transaction", "update_email",
    ];

    /// <summary>Confidence below which a high-stakes message matched to another kind of intent goes to a human.</summary>
    public double HighStakesConfidence { get; set; } = 0.6;

    /// <summary>A high-stakes message of one or two words ("my card") is vague below this confidence: a human asks what it is about.</summary>
    public double VagueConfidence { get; set; } = 0.75;

    /// <summary>VIP customers go to a human when the bot is less sure than this.</summary>
    public double VipConfidence { get; set; } = 0.6;

    /// <summary>A contact about the same intent within this window goes to a human (the first answer did not settle it).</summary>
    public TimeSpan RepeatContactWindow { get; set; } = TimeSpan.FromDays(7);

    /// <summary>VIP customers go to a human at this much anger.</summary>
    public double VipAngerThreshold { get; set; } = 0.3;

    /// <summary>One sentence per problem, or null when the options can work with this knowledge base and these skills.</summary>
    public string? Validate(KnowledgeBase knowledgeBase, IReadOnlyCollection<string> skills)
    {
        static bool IsShare(double value) => value is > 0 and <= 1;
        var intents = knowledgeBase.Intents.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
        var problems = new List<string>();
        void Check(bool ok, string problem)
        {
            if (!ok)
            {
                problems.Add($"{SectionName}:{problem}");
            }
        }

        Check(IsShare(AngerThreshold), $"AngerThreshold is {AngerThreshold}; it must be more than 0 and at most 1.");
        Check(AngerTrendThreshold > 0, $"AngerTrendThreshold is {AngerTrendThreshold}; it must be more than 0.");
        Check(AngerTrendTurns is >= 2 and <= 10, $"AngerTrendTurns is {AngerTrendTurns}; it must be between 2 and 10.");
        Check(MaxConsecutiveMisses >= 1, $"MaxConsecutiveMisses is {MaxConsecutiveMisses}; it must be at least 1.");
        Check(IsShare(SameQuestionSimilarity), $"SameQuestionSimilarity is {SameQuestionSimilarity}; it must be more than 0 and at most 1.");
        Check(IsShare(HighStakesConfidence), $"HighStakesConfidence is {HighStakesConfidence}; it must be more than 0 and at most 1.");
        Check(IsShare(VagueConfidence), $"VagueConfidence is {VagueConfidence}; it must be more than 0 and at most 1.");
        Check(IsShare(VipConfidence), $"VipConfidence is {VipConfidence}; it must be more than 0 and at most 1.");
        Check(IsShare(VipAngerThreshold), $"VipAngerThreshold is {VipAngerThreshold}; it must be more than 0 and at most 1.");
        Check(RepeatContactWindow >= TimeSpan.Zero, $"RepeatContactWindow is {RepeatContactWindow}; it cannot be negative.");
        var knownTopics = LexiconSignalDetector.Topics;
        foreach (var topic in HumanOnlyTopics.Where(t => !knownTopics.Contains(t)))
        {
            problems.Add($"{SectionName}:HumanOnlyTopics names '{topic}', which the signal detector does not know (known: {string.Join(", ", knownTopics)}).");
        }

        foreach (var intent in HumanOnlyIntents.Concat(HighStakesIntents).Where(i => !intents.Contains(i)).Distinct())
        {
            problems.Add($"{SectionName} names intent '{intent}', which is not in the knowledge base.");
        }

        foreach (var (topic, skill) in TopicSkills.Where(t => !skills.Contains(t.Value)))
        {
            problems.Add($"{SectionName}:TopicSkills sends '{topic}' to skill '{skill}', which no intent or extra skill defines.");
        }

        return problems.Count == 0 ? null : string.Join(" ", problems);
    }
}
