using ContactGrains.Bot.Matching;

namespace ContactGrains.Bot;

/// <summary>
/// The built-in <see cref="IBot"/>: answers from a <see cref="KnowledgeBase"/> by matching the message against the
/// intents' examples (normalization, stop words, light stemming, typo tolerance, IDF-weighted word overlap combined
/// with character trigrams). Deterministic, no I/O, and safe for any number of concurrent callers.
/// </summary>
public sealed class KnowledgeBaseBot : IBot
{
    /// <summary>
    /// Two languages whose best scores for the same intent differ by less than this are considered tied; the
    /// language's own stop words in the message, then the customer's preferred language, decide.
    /// </summary>
    internal const double LanguageMargin = 0.05;

    /// <summary>Below this score the matched language says little; only stop words decide.</summary>
    internal const double MinimumScoreForLanguage = 0.2;

    private const int StackLimit = 256;

    private readonly MatchingIndex _index;
    private readonly int _languageCount;
    private readonly int _intentCount;

    /// <param name="knowledgeBase">What the bot knows.</param>
    /// <param name="threshold">Overrides <see cref="KnowledgeBase.Threshold"/>; must be in (0, 1).</param>
    public KnowledgeBaseBot(KnowledgeBase knowledgeBase, double? threshold = null)
    {
        ArgumentNullException.ThrowIfNull(knowledgeBase);
        if (threshold is { } value && !(value > 0 && value < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), value, "The threshold must be between 0 and 1, both excluded.");
        }

        KnowledgeBase = knowledgeBase;
        Threshold = threshold ?? knowledgeBase.Threshold;
        _index = knowledgeBase.Index;
        _languageCount = _index.LanguageCount;
        _intentCount = _index.IntentCount;
    }

    /// <summary>The knowledge base the bot answers from.</summary>
    public KnowledgeBase KnowledgeBase { get; }

    /// <summary>Minimum confidence for an answer; below it the bot replies with the fallback.</summary>
    public double Threshold { get; }

    /// <summary>Loads the knowledge base at <paramref name="path"/> and builds a bot on it.</summary>
    /// <exception cref="KnowledgeBaseException">The file is missing or invalid.</exception>
    public static KnowledgeBaseBot FromFile(string path, double? threshold = null) => new(KnowledgeBase.Load(path), threshold);

    /// <inheritdoc />
    public ValueTask<BotReply> ReplyAsync(BotRequest request, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Reply(request));
    }

    /// <summary>The synchronous form of <see cref="ReplyAsync"/>: matching never waits on anything.</summary>
    public BotReply Reply(BotRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);

        var cells = _languageCount * _intentCount;
        Span<double> scores = cells <= StackLimit ? stackalloc double[StackLimit] : new double[cells];
        Span<int> evidence = _languageCount <= StackLimit ? stackalloc int[StackLimit] : new int[_languageCount];
        scores = scores[..cells];
        evidence = evidence[.._languageCount];

        _index.Score(request.Text ?? string.Empty, scores, evidence);

        var preferredCode = KnowledgeBase.ResolveLanguage(request.PreferredLanguage);
        var preferred = preferredCode is null ? -1 : KnowledgeBase.LanguageIndexOf(preferredCode);

        var best = -1;
        var bestScore = 0.0;
        for (var i = 0; i < _intentCount; i++)
        {
            var score = IntentScore(scores, i);
            if (score > bestScore)
            {
                best = i;
                bestScore = score;
            }
        }

        if (best < 0)
        {
            var language = preferred >= 0 ? preferred : Math.Max(0, EvidenceLanguage(evidence, null));
            return Fallback(language, null, 0);
        }

        var intent = KnowledgeBase.Intents[best];
        var confidence = Round(bestScore);
        var detected = DetectLanguage(scores, best, evidence);
        if (confidence >= Threshold)
        {
            var language = detected >= 0 ? detected
                : preferred >= 0 && intent.Answers.ContainsKey(KnowledgeBase.Languages[preferred]) ? preferred
                : FirstAnsweredLanguage(intent);
            var code = KnowledgeBase.Languages[language];
            return new BotReply(intent.Answers[code], code, intent.Id, intent.Skill, confidence, Understood: true);
        }

        // Not understood: the match itself is doubtful, so the language's own stop words speak first.
        var fallbackLanguage = preferred >= 0 ? preferred
            : EvidenceLanguage(evidence, null) is var hinted and >= 0 ? hinted
            : Math.Max(0, detected);
        return Fallback(fallbackLanguage, intent, confidence);
    }

    /// <summary>
    /// Ranks the intents for a message: every intent with a non-zero score, best first (ties in knowledge base order).
    /// Confidences are those <see cref="Reply"/> compares with <see cref="Threshold"/>.
    /// </summary>
    public IReadOnlyList<IntentMatch> Classify(string text)
    {
        var scores = new double[_languageCount * _intentCount];
        var evidence = new int[_languageCount];
        _index.Score(text ?? string.Empty, scores, evidence);

        var matches = new List<(IntentMatch Match, int Order)>();
        for (var i = 0; i < _intentCount; i++)
        {
            var score = IntentScore(scores, i);
            if (score <= 0)
            {
                continue;
            }

            var intent = KnowledgeBase.Intents[i];
            var language = DetectLanguage(scores, i, evidence);
            if (language < 0)
            {
                language = ArgMaxLanguage(scores, i);
            }

            matches.Add((new IntentMatch(intent.Id, Round(score), KnowledgeBase.Languages[language], intent.Skill), i));
        }

        matches.Sort(static (a, b) =>
        {
            var byConfidence = b.Match.Confidence.CompareTo(a.Match.Confidence);
            return byConfidence != 0 ? byConfidence : a.Order.CompareTo(b.Order);
        });
        return [.. matches.Select(match => match.Match)];
    }

    private BotReply Fallback(int language, KnowledgeBaseIntent? intent, double confidence)
    {
        var code = KnowledgeBase.Languages[language];
        return new BotReply(KnowledgeBase.Fallback[code], code, intent?.Id, intent?.Skill, confidence, Understood: false);
    }

    private double IntentScore(ReadOnlySpan<double> scores, int intent)
    {
        var best = 0.0;
        for (var l = 0; l < _languageCount; l++)
        {
            best = Math.Max(best, scores[(l * _intentCount) + intent]);
        }

        return best;
    }

    private int ArgMaxLanguage(ReadOnlySpan<double> scores, int intent)
    {
        var best = 0;
        for (var l = 1; l < _languageCount; l++)
        {
            if (scores[(l * _intentCount) + intent] > scores[(best * _intentCount) + intent])
            {
                best = l;
            }
        }

        return best;
    }

    /// <summary>
    /// The language the customer wrote in, judged for one intent: the language whose examples of it match best;
    /// languages within <see cref="LanguageMargin"/> of each other are told apart by their stop words in the message.
    /// Weak matches leave the decision to stop words alone. -1 when undecided.
    /// </summary>
    private int DetectLanguage(ReadOnlySpan<double> scores, int intent, ReadOnlySpan<int> evidence)
    {
        var top = IntentScore(scores, intent);
        if (top < MinimumScoreForLanguage)
        {
            return EvidenceLanguage(evidence, null);
        }

        Span<bool> close = _languageCount <= StackLimit ? stackalloc bool[StackLimit] : new bool[_languageCount];
        close = close[.._languageCount];
        var closeCount = 0;
        var only = -1;
        for (var l = 0; l < _languageCount; l++)
        {
            var score = scores[(l * _intentCount) + intent];
            if (score > 0 && score >= top - LanguageMargin)
            {
                close[l] = true;
                closeCount++;
                only = l;
            }
        }

        return closeCount == 1 ? only : EvidenceLanguage(evidence, close);
    }

    /// <summary>The language with strictly the most stop words of its own in the message (among <paramref name="among"/>), or -1.</summary>
    private int EvidenceLanguage(ReadOnlySpan<int> evidence, ReadOnlySpan<bool> among)
    {
        var best = -1;
        var tied = false;
        for (var l = 0; l < evidence.Length; l++)
        {
            if ((!among.IsEmpty && !among[l]) || evidence[l] == 0)
            {
                continue;
            }

            if (best < 0 || evidence[l] > evidence[best])
            {
                best = l;
                tied = false;
            }
            else if (evidence[l] == evidence[best])
            {
                tied = true;
            }
        }

        return tied ? -1 : best;
    }

    private int FirstAnsweredLanguage(KnowledgeBaseIntent intent)
    {
        for (var l = 0; l < _languageCount; l++)
        {
            if (intent.Answers.ContainsKey(KnowledgeBase.Languages[l]))
            {
                return l;
            }
        }

        return 0;
    }

    private static double Round(double score) => Math.Round(score, 4, MidpointRounding.AwayFromZero);
}
