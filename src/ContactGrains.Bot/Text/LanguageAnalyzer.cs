using System.Collections.Frozen;

namespace ContactGrains.Bot.Text;

/// <summary>
/// Per-language token processing: which normalized tokens are stop words and how the others are stemmed.
/// English and French have built-in lists and stemmers; any other language code gets neither, which still
/// works (exact and typo-tolerant matching on whole words).
/// </summary>
internal sealed class LanguageAnalyzer
{
    private readonly FrozenSet<string> _stopWords;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _stopWordLookup;
    private readonly StemFunction? _stem;

    private LanguageAnalyzer(string language, IEnumerable<string> stopWords, StemFunction? stem)
    {
        Language = language;
        _stopWords = stopWords.ToFrozenSet(StringComparer.Ordinal);
        _stopWordLookup = _stopWords.GetAlternateLookup<ReadOnlySpan<char>>();
        _stem = stem;
    }

    private delegate int StemFunction(Span<char> word, int length);

    /// <summary>The language code this analyzer serves.</summary>
    internal string Language { get; }

    /// <summary>True when the language has a built-in stop-word list and stemmer.</summary>
    internal bool IsBuiltIn => _stem is not null;

    /// <summary>The analyzer for <paramref name="language"/> (a lower-case code such as "en" or "fr").</summary>
    internal static LanguageAnalyzer For(string language) =>
        language switch
        {
            "en" => new LanguageAnalyzer(language, StopWords.English, EnglishStemmer.Stem),
            "fr" => new LanguageAnalyzer(language, StopWords.French, FrenchStemmer.Stem),
            _ => new LanguageAnalyzer(language, [], null),
        };

    /// <summary>True for a normalized token that carries no meaning in this language.</summary>
    internal bool IsStopWord(ReadOnlySpan<char> token) => _stopWordLookup.Contains(token);

    /// <summary>
    /// True for a normalized token that is worth matching: not a stop word and not a lone letter
    /// (left over from "don't" or "i'm"). Numbers always count.
    /// </summary>
    internal bool IsContentToken(ReadOnlySpan<char> token) =>
        !(token.Length == 1 && char.IsLetter(token[0])) && !IsStopWord(token);

    /// <summary>Writes the stem of a normalized content token to <paramref name="destination"/>.</summary>
    /// <param name="token">A normalized token.</param>
    /// <param name="destination">At least as long as <paramref name="token"/>.</param>
    /// <returns>The stem's length.</returns>
    internal int Stem(ReadOnlySpan<char> token, Span<char> destination)
    {
        token.CopyTo(destination);
        if (_stem is null || token.ContainsAnyInRange('0', '9'))
        {
            return token.Length;
        }

        return _stem(destination, token.Length);
    }

    /// <summary>Load-time convenience: the stem as a string.</summary>
    internal string Stem(string token)
    {
        Span<char> buffer = stackalloc char[token.Length];
        var length = Stem(token, buffer);

        // Many words are their own stem: no new string for them.
        return token.AsSpan().SequenceEqual(buffer[..length]) ? token : new string(buffer[..length]);
    }
}
