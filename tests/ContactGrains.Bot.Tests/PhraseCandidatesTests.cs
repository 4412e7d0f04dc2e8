using ContactGrains.Bot.Signals;

namespace ContactGrains.Bot.Tests;

/// <summary>
/// The detector's shortcut: a phrase is looked for only in messages holding its first word (or a
/// word starting with its first word's start). It must never skip a phrase that could match.
/// </summary>
public sealed class PhraseCandidatesTests
{
    private static readonly SignalPhrase[] Phrases =
    [
        SignalPhrase.Parse("put me", 0),
        SignalPhrase.Parse("speak* __ someone", 1),
        SignalPhrase.Parse("what time __ agent*", 2),
        SignalPhrase.Parse("agent", 3),
        SignalPhrase.Parse("agent*", 4),
    ];

    private static readonly PhraseCandidates.Index Index = new(Phrases);

    public static TheoryData<string, int[]> Messages => new()
    {
        { "please put me through", [0] },
        { "please place me somewhere", [] },
        { "speaking to someone would help", [1] },
        { "spea to someone", [] },
        { "what time do agents start", [2, 4] },
        { "agent", [3, 4] },
        { "agents please", [4] },
        { "an age old question", [] },
        { "", [] },
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void A_phrase_is_a_candidate_exactly_when_the_message_holds_its_first_word_or_a_word_with_its_start(string message, int[] expected)
    {
        var words = message.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var candidates = Index.For(words);
        Assert.Equal(expected, Phrases.Where(candidates.Contains).Select(p => p.Index));
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void Finding_among_candidates_finds_what_a_full_scan_finds(string message, int[] _)
    {
        var words = message.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var candidates = Index.For(words);
        foreach (var phrase in Phrases)
        {
            for (var from = 0; from <= words.Length; from++)
            {
                Assert.Equal(phrase.Find(words, from), phrase.Find(words, from, candidates));
            }
        }
    }

    [Fact]
    public void Every_lexicon_phrase_is_a_candidate_in_a_message_made_of_its_own_words()
    {
        foreach (var language in new[] { SignalLexicon.English, SignalLexicon.French })
        {
            var sources = new[]
            {
                language.RequestFrames, language.HumanNouns, language.HumanPhrases, language.NotHumanSenses, language.Negations,
                language.NegationExceptions, language.PrefersHumans, language.Insults, language.ThreatsToLeave, language.StillNotWorking,
                language.Exasperation, language.DidNotHelp, language.HighStakes, language.AsksIfBot,
            }.Concat(language.SensitiveTopics.Values).SelectMany(list => list).ToArray();
            var phrases = sources.Select((source, i) => SignalPhrase.Parse(source, i)).ToArray();
            var index = new PhraseCandidates.Index(phrases);
            foreach (var phrase in phrases)
            {
                // The phrase written out: "word*" as a longer word, "_" as one word, "__" as none.
                var words = phrase.Source.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                    .Where(part => part != "__")
                    .Select(part => part == "_" ? "x" : part.EndsWith('*') ? part[..^1] + "s" : part)
                    .ToArray();
                Assert.True(phrase.Find(words, 0) is not null, $"'{phrase.Source}' should match its own words");
                Assert.True(index.For(words).Contains(phrase), $"'{phrase.Source}' is not a candidate in '{string.Join(' ', words)}'");
            }
        }
    }
}
