using ContactGrains.Bot.Text;

namespace ContactGrains.Bot.Matching;

/// <summary>
/// The precomputed matcher for a whole knowledge base: one <see cref="LanguageIndex"/> per language. A message is
/// scored against every language's examples with that language's stop words and stemmer, so the language whose
/// examples match best is also the language the customer wrote in.
/// </summary>
internal sealed class MatchingIndex
{
    /// <summary>Only the start of longer messages is read; customers' intents are stated early.</summary>
    internal const int MaxMessageLength = 2000;

    private readonly LanguageIndex[] _languages;

    /// <param name="languages">The knowledge base's languages, in order.</param>
    /// <param name="examplesByLanguage">For each language (same order), for each intent (knowledge base order), its examples.</param>
    internal MatchingIndex(IReadOnlyList<string> languages, IReadOnlyList<IReadOnlyList<IReadOnlyList<string>>> examplesByLanguage)
    {
        _languages = new LanguageIndex[languages.Count];
        for (var l = 0; l < languages.Count; l++)
        {
            _languages[l] = new LanguageIndex(LanguageAnalyzer.For(languages[l]), examplesByLanguage[l]);
        }

        IntentCount = examplesByLanguage.Count == 0 ? 0 : examplesByLanguage[0].Count;
    }

    internal int LanguageCount => _languages.Length;

    internal int IntentCount { get; }

    internal LanguageIndex Language(int index) => _languages[index];

    /// <summary>
    /// Scores every intent in every language.
    /// </summary>
    /// <param name="text">The raw message.</param>
    /// <param name="scores">Receives <see cref="LanguageCount"/> × <see cref="IntentCount"/> scores, language-major.</param>
    /// <param name="evidence">Receives, per language, how many tokens are stop words of that language only (a
    /// language hint for messages that match nothing).</param>
    internal void Score(ReadOnlySpan<char> text, Span<double> scores, Span<int> evidence)
    {
        scores.Clear();
        evidence.Clear();
        if (text.Length > MaxMessageLength)
        {
            text = text[..MaxMessageLength];
        }

        var scratch = Scratch.Current;
        Scratch.Ensure(ref scratch.Normalized, TextNormalizer.MaxOutputLength(text.Length));
        var length = TextNormalizer.Normalize(text, scratch.Normalized);
        var normalized = scratch.Normalized.AsSpan(0, length);

        Scratch.Ensure(ref scratch.Tokens, (length / 2) + 1);
        var tokenCount = 0;
        var start = 0;
        while (start < length)
        {
            var end = normalized[start..].IndexOf(' ');
            end = end < 0 ? length : start + end;
            var token = normalized[start..end];
            scratch.Tokens[tokenCount++] = (start, end - start);
            CountEvidence(token, evidence);
            start = end + 1;
        }

        if (tokenCount == 0)
        {
            return;
        }

        var tokens = scratch.Tokens.AsSpan(0, tokenCount);
        for (var l = 0; l < _languages.Length; l++)
        {
            _languages[l].Score(normalized, tokens, scratch, scores.Slice(l * IntentCount, IntentCount));
        }
    }

    private void CountEvidence(ReadOnlySpan<char> token, Span<int> evidence)
    {
        var only = -1;
        for (var l = 0; l < _languages.Length; l++)
        {
            if (!_languages[l].Analyzer.IsStopWord(token))
            {
                continue;
            }

            if (only >= 0)
            {
                return;
            }

            only = l;
        }

        if (only >= 0)
        {
            evidence[only]++;
        }
    }
}
