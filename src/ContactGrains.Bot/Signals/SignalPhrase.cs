namespace ContactGrains.Bot.Signals;

/// <summary>
/// One lexicon phrase, matched against the words of normalized text: "word" must equal the word,
/// "word*" starts it, "_" is any one word and "__" up to three words.
/// </summary>
internal sealed class SignalPhrase
{
    private const int MaxGap = 3;

    private readonly string[] _parts;

    private SignalPhrase(string source, string[] parts, int index)
    {
        Source = source;
        _parts = parts;
        Index = index;
        Anchor = parts[0].EndsWith('*') ? parts[0][..^1] : parts[0];
        AnchorIsPrefix = parts[0].EndsWith('*');
    }

    public string Source { get; }

    /// <summary>Its number in its lexicon, for <see cref="PhraseCandidates"/>.</summary>
    public int Index { get; }

    /// <summary>
    /// The word the phrase starts with (or, when <see cref="AnchorIsPrefix"/>, the start of that
    /// word): a message without it cannot match the phrase anywhere.
    /// </summary>
    public string Anchor { get; }

    public bool AnchorIsPrefix { get; }

    public static SignalPhrase Parse(string phrase, int index = 0)
    {
        var parts = phrase.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts[0] is "_" or "__" || parts[^1] is "__" || parts.Any(p => p == "*"))
        {
            throw new ArgumentException($"Lexicon phrase '{phrase}' must start and end with a word, and '*' must end a word.", nameof(phrase));
        }

        return new SignalPhrase(phrase, parts, index);
    }

    /// <summary>
    /// <see cref="Find(ReadOnlySpan{string}, int)"/> within a message whose <paramref name="candidates"/>
    /// were worked out: a phrase whose first word the message lacks is skipped without a scan.
    /// </summary>
    public (int Start, int End)? Find(ReadOnlySpan<string> words, int from, PhraseCandidates candidates) =>
        candidates.Contains(this) ? Find(words, from) : null;

    /// <summary>The first match starting at or after <paramref name="from"/>: its words [Start, End), or null.</summary>
    public (int Start, int End)? Find(ReadOnlySpan<string> words, int from)
    {
        for (var start = from; start < words.Length; start++)
        {
            if (MatchFrom(words, start, 0) is { } end)
            {
                return (start, end);
            }
        }

        return null;
    }

    private int? MatchFrom(ReadOnlySpan<string> words, int position, int part)
    {
        if (part == _parts.Length)
        {
            return position;
        }

        var pattern = _parts[part];
        if (pattern == "__")
        {
            for (var skip = 0; skip <= MaxGap && position + skip <= words.Length; skip++)
            {
                if (MatchFrom(words, position + skip, part + 1) is { } end)
                {
                    return end;
                }
            }

            return null;
        }

        if (position >= words.Length)
        {
            return null;
        }

        var word = words[position];
        var matches = pattern == "_"
            || (pattern.EndsWith('*') ? word.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal) : word == pattern);
        return matches ? MatchFrom(words, position + 1, part + 1) : null;
    }
}
