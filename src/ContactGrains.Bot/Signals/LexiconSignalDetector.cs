using System.Collections.Frozen;
using System.Collections.Immutable;
using ContactGrains.Bot.Text;

namespace ContactGrains.Bot.Signals;

/// <summary>
/// The default <see cref="ISignalDetector"/>: lexicons (<see cref="SignalLexicon"/>) and rules, in
/// English and French. A message is split into clauses (at punctuation and at words such as "but",
/// "just", "mais"), so a declined human ("I don't need an adviser, just …") is told from a request
/// in the next clause ("not the bot, a human please").
/// </summary>
public sealed class LexiconSignalDetector : ISignalDetector
{
    // A negation this far (in words) before a mention of a human declines it; "no"/"non" only right before.
    private const int NegationReach = 8;
    private const int TightNegationReach = 2;
    private const int RequestFrameReach = 5;

    private static readonly char[] ClausePunctuation = ['.', ',', ';', ':', '!', '?', '\n', '\r', '(', ')', '—', '–'];

    private readonly Compiled _english = new(SignalLexicon.English, LanguageAnalyzer.For("en"));

    /// <summary>The sensitive topics this detector names (<see cref="TurnSignals.SensitiveTopic"/>).</summary>
    public static IReadOnlyList<string> Topics { get; } = [.. SignalLexicon.English.SensitiveTopics.Keys];
    private readonly Compiled _french = new(SignalLexicon.French, LanguageAnalyzer.For("fr"));

    /// <inheritdoc />
    public TurnSignals Detect(string text, string language)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lexicon = language.StartsWith("fr", StringComparison.OrdinalIgnoreCase) ? _french : _english;
        var clauses = SplitClauses(text, lexicon);
        var all = Concat(clauses);
        if (all.Length == 0)
        {
            return TurnSignals.None with { AngerCues = [], Terms = [] };
        }

        var candidates = lexicon.Candidates.For(all);
        var (request, cue, remainder) = ReadHumanRequest(clauses, all, lexicon, candidates);
        var (anger, angerCues) = ReadAnger(text, all, lexicon, candidates);
        var (topic, topicCue) = ReadSensitiveTopic(clauses, lexicon, candidates);
        var saysItDidNotHelp = FindsAny(lexicon.DidNotHelp, all, candidates);
        var smallTalk = all.Length <= 8 && AllIn(all, lexicon.SmallTalk);
        var prefersHumans = false;
        foreach (var clause in clauses)
        {
            prefersHumans |= FindsAny(lexicon.PrefersHumans, clause, candidates);
        }

        string? stakes = null;
        foreach (var phrase in lexicon.HighStakes)
        {
            if (phrase.Find(all, 0, candidates) is { } hit)
            {
                stakes = string.Join(' ', all[hit.Start..hit.End]);
                break;
            }
        }

        remainder ??= clauses.Count > 1 ? string.Join(' ', clauses.Skip(1).SelectMany(c => c)) : null;
        var asksIfBot = FindsAny(lexicon.AsksIfBot, all, candidates);
        return new TurnSignals(request, cue, anger, angerCues, topic, topicCue, saysItDidNotHelp, smallTalk, prefersHumans,
            lexicon.Terms(all), remainder, stakes, asksIfBot);
    }

    private static string[] Concat(List<string[]> clauses)
    {
        var length = 0;
        foreach (var clause in clauses)
        {
            length += clause.Length;
        }

        var all = new string[length];
        var at = 0;
        foreach (var clause in clauses)
        {
            clause.CopyTo(all, at);
            at += clause.Length;
        }

        return all;
    }

    private static bool AllIn(string[] tokens, FrozenSet<string> set)
    {
        foreach (var token in tokens)
        {
            if (!set.Contains(token))
            {
                return false;
            }
        }

        return true;
    }

    private static List<string[]> SplitClauses(string text, Compiled lexicon)
    {
        var clauses = new List<string[]>();
        foreach (var piece in text.Split(ClausePunctuation, StringSplitOptions.RemoveEmptyEntries))
        {
            var tokens = TextNormalizer.Normalize(piece).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var start = tokens.Length > 0 && lexicon.ClauseBreaks.Contains(tokens[0]) ? 1 : 0;
            for (var i = 0; i < tokens.Length; i++)
            {
                if (i > start && lexicon.ClauseBreaks.Contains(tokens[i]))
                {
                    clauses.Add(tokens[start..i]);
                    start = i + 1;
                }
            }

            if (start < tokens.Length)
            {
                clauses.Add(tokens[start..]);
            }
        }

        return clauses;
    }

    private static (HumanRequest Request, string? Cue, string? Remainder) ReadHumanRequest(
        List<string[]> clauses, string[] all, Compiled lexicon, PhraseCandidates candidates)
    {
        // "agent", "human please", "un conseiller svp": a message that is little more than a human noun.
        if (OnlyMeaningfulWord(all, lexicon) is { } only && FindsAny(lexicon.HumanNouns, new ReadOnlySpan<string>(ref only), candidates))
        {
            return (HumanRequest.Explicit, only, null);
        }

        string? negatedCue = null;
        var negatedClause = -1;
        List<(int Start, int End)>? mentions = null;
        for (var c = 0; c < clauses.Count; c++)
        {
            var clause = clauses[c];
            mentions?.Clear();
            FindMentions(clause, lexicon, candidates, ref mentions);
            if (mentions is null)
            {
                continue; // no mention yet in this message
            }

            foreach (var (start, end) in mentions)
            {
                var mention = string.Join(' ', clause[start..end]);
                if (IsNegated(clause, start, lexicon, candidates))
                {
                    negatedCue ??= mention;
                    negatedClause = negatedClause < 0 ? c : negatedClause;
                }
                else
                {
                    return (HumanRequest.Explicit, mention, null);
                }
            }
        }

        if (negatedCue is null)
        {
            return (HumanRequest.None, null, null);
        }

        var rest = string.Join(' ', clauses.Skip(negatedClause + 1).SelectMany(c => c));
        return (HumanRequest.Negated, negatedCue, rest.Length == 0 ? null : rest);
    }

    /// <summary>The message's one word that is not a filler word, or null when it has none or several.</summary>
    private static string? OnlyMeaningfulWord(string[] all, Compiled lexicon)
    {
        string? only = null;
        foreach (var token in all)
        {
            if (lexicon.FillerWords.Contains(token))
            {
                continue;
            }

            if (only is not null)
            {
                return null;
            }

            only = token;
        }

        return only;
    }

    /// <summary>
    /// Where a clause mentions a human the customer could be asking for: strong phrases, or a human
    /// noun after a request verb. Added to <paramref name="mentions"/>, created at the first one (most
    /// messages have none).
    /// </summary>
    private static void FindMentions(string[] clause, Compiled lexicon, PhraseCandidates candidates, ref List<(int Start, int End)>? mentions)
    {
        Span<bool> masked = clause.Length <= 256 ? stackalloc bool[clause.Length] : new bool[clause.Length];
        foreach (var sense in lexicon.NotHumanSenses)
        {
            for (var from = 0; sense.Find(clause, from, candidates) is { } hit; from = hit.Start + 1)
            {
                masked.Slice(hit.Start, hit.End - hit.Start).Fill(true);
            }
        }

        foreach (var phrase in lexicon.HumanPhrases)
        {
            if (phrase.Find(clause, 0, candidates) is { } hit && !masked.Slice(hit.Start, hit.End - hit.Start).Contains(true))
            {
                (mentions ??= []).Add(hit);
            }
        }

        foreach (var noun in lexicon.HumanNouns)
        {
            for (var from = 0; noun.Find(clause, from, candidates) is { } hit; from = hit.Start + 1)
            {
                if (masked.Slice(hit.Start, hit.End - hit.Start).Contains(true))
                {
                    continue;
                }

                var windowStart = Math.Max(0, hit.Start - RequestFrameReach);
                if (FindsAny(lexicon.RequestFrames, clause.AsSpan(windowStart, hit.Start - windowStart), candidates))
                {
                    (mentions ??= []).Add(hit);
                }
            }
        }
    }

    private static bool IsNegated(string[] clause, int mentionStart, Compiled lexicon, PhraseCandidates candidates)
    {
        var before = clause.AsSpan(0, mentionStart);
        if (FindsAny(lexicon.NegationExceptions, before, candidates))
        {
            return false; // "why can't I talk to a person?" asks for one
        }

        foreach (var negation in lexicon.Negations)
        {
            for (var from = 0; negation.Find(before, from, candidates) is { } hit; from = hit.Start + 1)
            {
                var reach = negation.Source is "no" or "non" ? TightNegationReach : NegationReach;
                if (mentionStart - hit.End < reach)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static (double Anger, ImmutableArray<string> Cues) ReadAnger(string raw, string[] all, Compiled lexicon, PhraseCandidates candidates)
    {
        var cues = ImmutableArray.CreateBuilder<string>();
        var score = 0.0;

        if (IsShouted(raw))
        {
            cues.Add("capitals");
            score += 0.4;
        }

        var (runs, longest) = PunctuationRuns(raw);
        if (runs > 0)
        {
            // "??" is impatience; "!!!" or "hello??? anyone???" is anger.
            cues.Add("repeated-punctuation");
            score += runs > 1 || longest >= 3 ? 0.6 : 0.3;
        }

        void Add(string cue, SignalPhrase[] phrases, double weight)
        {
            if (FindsAny(phrases, all, candidates))
            {
                cues.Add(cue);
                score += weight;
            }
        }

        Add("insult", lexicon.Insults, 0.6);
        Add("threat-to-leave", lexicon.ThreatsToLeave, 0.6);
        Add("exasperation", lexicon.Exasperation, 0.4);
        Add("still-not-working", lexicon.StillNotWorking, 0.3);
        return (Math.Min(1.0, score), cues.ToImmutable());
    }

    /// <summary>Shouting: most letters in capitals, or several long words in capitals (one capitalised word is emphasis, not anger).</summary>
    private static bool IsShouted(string raw)
    {
        int letters = 0, upper = 0, shoutedWords = 0, wordLetters = 0, wordUpper = 0;
        for (var i = 0; i <= raw.Length; i++)
        {
            var ch = i < raw.Length ? raw[i] : ' '; // a space after the end ends the last word
            if (char.IsLetter(ch))
            {
                letters++;
                wordLetters++;
                if (char.IsUpper(ch))
                {
                    upper++;
                    wordUpper++;
                }
            }
            else
            {
                if (wordLetters >= 4 && wordUpper == wordLetters)
                {
                    shoutedWords++;
                }

                wordLetters = wordUpper = 0;
            }
        }

        return (letters >= 12 && upper >= 0.6 * letters) || shoutedWords >= 3;
    }

    private static (int Runs, int Longest) PunctuationRuns(string raw)
    {
        int runs = 0, longest = 0, current = 0;
        for (var i = 0; i <= raw.Length; i++)
        {
            var ch = i < raw.Length ? raw[i] : ' '; // a space after the end ends the last run
            if (ch is '!' or '?')
            {
                current++;
                continue;
            }

            if (current >= 2)
            {
                runs++;
                longest = Math.Max(longest, current);
            }

            current = 0;
        }

        return (runs, longest);
    }

    private static (string? Topic, string? Cue) ReadSensitiveTopic(List<string[]> clauses, Compiled lexicon, PhraseCandidates candidates)
    {
        foreach (var (topic, phrases) in lexicon.SensitiveTopics)
        {
            if (!candidates.ContainsAny(phrases))
            {
                continue; // none of the topic's phrases can occur in this message
            }

            foreach (var clause in clauses)
            {
                foreach (var phrase in phrases)
                {
                    for (var from = 0; phrase.Find(clause, from, candidates) is { } hit; from = hit.Start + 1)
                    {
                        // "I'm not complaining, just asking": a topic declined is not raised.
                        if (!IsNegatedTightly(clause, hit.Start, lexicon, candidates))
                        {
                            return (topic, string.Join(' ', clause[hit.Start..hit.End]));
                        }
                    }
                }
            }
        }

        return (null, null);
    }

    private static bool IsNegatedTightly(string[] clause, int start, Compiled lexicon, PhraseCandidates candidates)
    {
        var from = Math.Max(0, start - 3);
        return FindsAny(lexicon.Negations, clause.AsSpan(from, start - from), candidates);
    }

    // A loop rather than Any with a lambda: this runs for every phrase list on every message.
    private static bool FindsAny(SignalPhrase[] phrases, ReadOnlySpan<string> words, PhraseCandidates candidates)
    {
        foreach (var phrase in phrases)
        {
            if (phrase.Find(words, 0, candidates) is not null)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A lexicon with its phrases parsed once.</summary>
    private sealed class Compiled
    {
        private readonly LanguageAnalyzer _analyzer;
        private readonly List<SignalPhrase> _phrases = [];

        public Compiled(SignalLexicon.Language source, LanguageAnalyzer analyzer)
        {
            _analyzer = analyzer;
            RequestFrames = Parse(source.RequestFrames);
            HumanNouns = Parse(source.HumanNouns);
            HumanPhrases = Parse(source.HumanPhrases);
            NotHumanSenses = Parse(source.NotHumanSenses);
            Negations = Parse(source.Negations);
            NegationExceptions = Parse(source.NegationExceptions);
            ClauseBreaks = source.ClauseBreaks.ToFrozenSet(StringComparer.Ordinal);
            FillerWords = source.FillerWords.ToFrozenSet(StringComparer.Ordinal);
            PrefersHumans = Parse(source.PrefersHumans);
            Insults = Parse(source.Insults);
            ThreatsToLeave = Parse(source.ThreatsToLeave);
            StillNotWorking = Parse(source.StillNotWorking);
            Exasperation = Parse(source.Exasperation);
            DidNotHelp = Parse(source.DidNotHelp);
            SmallTalk = source.SmallTalk.ToFrozenSet(StringComparer.Ordinal);
            HighStakes = Parse(source.HighStakes);
            AsksIfBot = Parse(source.AsksIfBot);
            SensitiveTopics = [.. source.SensitiveTopics.Select(t => (t.Key, Parse(t.Value)))];
            Candidates = new PhraseCandidates.Index(_phrases);
        }

        /// <summary>Finds which of this lexicon's phrases a message could match at all.</summary>
        public PhraseCandidates.Index Candidates { get; }

        public SignalPhrase[] RequestFrames { get; }
        public SignalPhrase[] HumanNouns { get; }
        public SignalPhrase[] HumanPhrases { get; }
        public SignalPhrase[] NotHumanSenses { get; }
        public SignalPhrase[] Negations { get; }
        public SignalPhrase[] NegationExceptions { get; }
        public FrozenSet<string> ClauseBreaks { get; }
        public FrozenSet<string> FillerWords { get; }
        public SignalPhrase[] PrefersHumans { get; }
        public SignalPhrase[] Insults { get; }
        public SignalPhrase[] ThreatsToLeave { get; }
        public SignalPhrase[] StillNotWorking { get; }
        public SignalPhrase[] Exasperation { get; }
        public SignalPhrase[] DidNotHelp { get; }
        public FrozenSet<string> SmallTalk { get; }
        public SignalPhrase[] HighStakes { get; }
        public SignalPhrase[] AsksIfBot { get; }
        public (string Topic, SignalPhrase[] Phrases)[] SensitiveTopics { get; }

        /// <summary>The content words of a message, stemmed and distinct, in order of first appearance.</summary>
        public ImmutableArray<string> Terms(string[] tokens)
        {
            // A loop and a linear search: a message has a few dozen words at most, and this runs on every one.
            var terms = ImmutableArray.CreateBuilder<string>(tokens.Length);
            foreach (var token in tokens)
            {
                if (!_analyzer.IsContentToken(token) || SmallTalk.Contains(token))
                {
                    continue;
                }

                var stem = _analyzer.Stem(token);
                if (!terms.Contains(stem))
                {
                    terms.Add(stem);
                }
            }

            return terms.DrainToImmutable();
        }

        private SignalPhrase[] Parse(string[] phrases)
        {
            var parsed = new SignalPhrase[phrases.Length];
            for (var i = 0; i < phrases.Length; i++)
            {
                parsed[i] = SignalPhrase.Parse(phrases[i], _phrases.Count);
                _phrases.Add(parsed[i]);
            }

            return parsed;
        }
    }
}
