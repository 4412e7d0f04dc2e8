using System.Collections.Frozen;
using ContactGrains.Bot.Text;

namespace ContactGrains.Bot.Matching;

/// <summary>
/// Everything precomputed for matching messages against the examples of one language: stemmed vocabulary with
/// intent-level IDF weights, postings from terms to intents and examples, a typo index, and character-trigram
/// postings. Immutable once built, so any number of threads can score against it at once.
/// </summary>
/// <remarks>
/// <para>The score of an example combines two views of the message.</para>
/// <para>Words (weight <see cref="WordWeight"/>): each distinct content token of the message (stop words removed,
/// stemmed) is weighted by its inverse frequency across intents. A token that is not in the vocabulary but one or two
/// edits away from terms that are stands for those terms at a discount (<see cref="OneEditQuality"/> and friends); a
/// token that matches nothing counts as an unknown word (<see cref="UnknownWordFactor"/>), a number far less.
/// <em>Precision</em> is the share of the message's weight explained by the vocabulary of the example's intent (unknown
/// words lower it); <em>recall</em> is the share of the example's own weight present in the message (missing key words
/// lower it); the word score is their harmonic mean. A message identical to an example scores 1.</para>
/// <para>Characters (the rest): cosine similarity of IDF-weighted character trigram sets of the unstemmed content
/// tokens, which gives partial credit to inflections and misspellings the stemmer and typo index miss.</para>
/// <para>An intent's score in this language is the best score of its examples.</para>
/// </remarks>
internal sealed class LanguageIndex
{
    /// <summary>Share of the word view in the final score; the character view has the rest.</summary>
    internal const double WordWeight = 0.8;

    /// <summary>How much a word of five letters or more one edit away from a vocabulary term is worth compared to the term itself.</summary>
    internal const double OneEditQuality = 0.8;

    /// <summary>Same for a four-letter word: one edit turns many short ordinary words into vocabulary terms ("play", "plac(ed)").</summary>
    internal const double ShortWordOneEditQuality = 0.6;

    /// <summary>How much a word two edits away from a vocabulary term is worth compared to the term itself.</summary>
    internal const double TwoEditQuality = 0.6;

    /// <summary>
    /// Weight of a word the knowledge base never uses, as a share of the weight of the rarest known word: unknown words
    /// are what makes an off-topic message off-topic, so they count in full.
    /// </summary>
    internal const double UnknownWordFactor = 1.0;

    /// <summary>Weight of an unknown number (order or card numbers say little about intent), same scale.</summary>
    internal const double UnknownNumberFactor = 0.2;

    /// <summary>Most typo corrections kept for one token.</summary>
    private const int MaxCandidatesPerToken = 8;

    private readonly int _intentCount;
    private readonly FrozenDictionary<string, int> _terms;
    private readonly FrozenDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _termLookup;
    private readonly double[] _idf;
    private readonly int[][] _termIntents;
    private readonly int[][] _termExamples;
    private readonly double _unknownWordWeight;
    private readonly double _unknownNumberWeight;
    private readonly TypoIndex _typos;

    private readonly int[] _exampleIntent;
    private readonly double[] _exampleWeight;
    private readonly double[] _exampleTrigramNorm;

    private readonly FrozenDictionary<long, int> _trigrams;
    private readonly double[] _trigramIdf;
    private readonly int[][] _trigramExamples;
    private readonly double _unknownTrigramWeight;

    /// <param name="analyzer">Stop words and stemmer of the language.</param>
    /// <param name="examplesByIntent">For each intent of the knowledge base (by position), its examples in this language (possibly none).</param>
    internal LanguageIndex(LanguageAnalyzer analyzer, IReadOnlyList<IReadOnlyList<string>> examplesByIntent)
    {
        Analyzer = analyzer;
        _intentCount = examplesByIntent.Count;

        var termIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var termIntents = new List<SortedSet<int>>();
        var termExamples = new List<List<int>>();
        var trigramIds = new Dictionary<long, int>();
        var trigramExamples = new List<List<int>>();
        var exampleIntent = new List<int>();
        var exampleTerms = new List<int[]>();
        var exampleTrigrams = new List<int[]>();
        var intentsWithExamples = 0;

        for (var intent = 0; intent < examplesByIntent.Count; intent++)
        {
            if (examplesByIntent[intent].Count > 0)
            {
                intentsWithExamples++;
            }

            foreach (var example in examplesByIntent[intent])
            {
                var exampleIndex = exampleIntent.Count;
                exampleIntent.Add(intent);

                var (surfaces, stems) = Analyze(analyzer, example);

                var terms = new List<int>();
                foreach (var stem in stems)
                {
                    if (!termIds.TryGetValue(stem, out var id))
                    {
                        id = termIds.Count;
                        termIds.Add(stem, id);
                        termIntents.Add([]);
                        termExamples.Add([]);
                    }

                    termIntents[id].Add(intent);
                    termExamples[id].Add(exampleIndex);
                    terms.Add(id);
                }

                exampleTerms.Add([.. terms]);

                var trigrams = new HashSet<long>();
                foreach (var surface in surfaces)
                {
                    var keys = new long[surface.Length];
                    var count = WriteTrigrams(surface, keys);
                    foreach (var key in keys.AsSpan(0, count))
                    {
                        trigrams.Add(key);
                    }
                }

                var trigramList = new List<int>();
                foreach (var key in trigrams)
                {
                    if (!trigramIds.TryGetValue(key, out var id))
                    {
                        id = trigramIds.Count;
                        trigramIds.Add(key, id);
                        trigramExamples.Add([]);
                    }

                    trigramExamples[id].Add(exampleIndex);
                    trigramList.Add(id);
                }

                exampleTrigrams.Add([.. trigramList]);
            }
        }

        // Word weights: inverse frequency across intents, not examples, so that a word every example of one intent
        // repeats ("refund") stays as strong as a word only one example uses.
        intentsWithExamples = Math.Max(1, intentsWithExamples);
        _idf = new double[termIds.Count];
        for (var id = 0; id < _idf.Length; id++)
        {
            _idf[id] = Math.Log(1 + ((double)intentsWithExamples / termIntents[id].Count));
        }

        var rarestWordWeight = Math.Log(1 + intentsWithExamples);
        _unknownWordWeight = UnknownWordFactor * rarestWordWeight;
        _unknownNumberWeight = UnknownNumberFactor * rarestWordWeight;

        _terms = termIds.ToFrozenDictionary(StringComparer.Ordinal);
        _termLookup = _terms.GetAlternateLookup<ReadOnlySpan<char>>();
        _termIntents = [.. termIntents.Select(set => set.ToArray())];
        _termExamples = [.. termExamples.Select(list => list.ToArray())];

        var vocabulary = new string[termIds.Count];
        foreach (var (term, id) in termIds)
        {
            vocabulary[id] = term;
        }

        _typos = new TypoIndex(vocabulary);

        var exampleCount = exampleIntent.Count;
        _trigramIdf = new double[trigramIds.Count];
        for (var id = 0; id < _trigramIdf.Length; id++)
        {
            _trigramIdf[id] = Math.Log(1 + ((double)exampleCount / trigramExamples[id].Count));
        }

        _unknownTrigramWeight = Math.Log(1 + Math.Max(1, exampleCount));
        _trigrams = trigramIds.ToFrozenDictionary();
        _trigramExamples = [.. trigramExamples.Select(list => list.ToArray())];

        _exampleIntent = [.. exampleIntent];
        _exampleWeight = new double[exampleCount];
        _exampleTrigramNorm = new double[exampleCount];
        for (var e = 0; e < exampleCount; e++)
        {
            foreach (var id in exampleTerms[e])
            {
                _exampleWeight[e] += _idf[id];
            }

            var norm = 0.0;
            foreach (var id in exampleTrigrams[e])
            {
                norm += _trigramIdf[id] * _trigramIdf[id];
            }

            _exampleTrigramNorm[e] = Math.Sqrt(norm);
        }
    }

    internal LanguageAnalyzer Analyzer { get; }

    internal string Language => Analyzer.Language;

    internal int ExampleCount => _exampleIntent.Length;

    internal int VocabularySize => _idf.Length;

    /// <summary>
    /// The distinct content tokens (as normalized) and distinct stems of <paramref name="text"/> in this language;
    /// used at load time, for validation and for building the index.
    /// </summary>
    internal static (List<string> Surfaces, List<string> Stems) Analyze(LanguageAnalyzer analyzer, string text)
    {
        var normalized = TextNormalizer.Normalize(text);
        var surfaces = new List<string>();
        var stems = new List<string>();
        foreach (var range in normalized.AsSpan().Split(' '))
        {
            var token = normalized.AsSpan()[range];
            if (token.IsEmpty || !analyzer.IsContentToken(token))
            {
                continue;
            }

            var surface = token.ToString();
            if (!surfaces.Contains(surface))
            {
                surfaces.Add(surface);
            }

            var stem = analyzer.Stem(surface);
            if (!stems.Contains(stem))
            {
                stems.Add(stem);
            }
        }

        return (surfaces, stems);
    }

    /// <summary>
    /// Scores the intents against a normalized message.
    /// </summary>
    /// <param name="normalized">The message as produced by <see cref="TextNormalizer"/>.</param>
    /// <param name="tokens">Ranges of its tokens.</param>
    /// <param name="scratch">The calling thread's working memory.</param>
    /// <param name="intentScores">Receives one score in 0..1 per intent (0 for intents without examples in this language).</param>
    internal void Score(ReadOnlySpan<char> normalized, ReadOnlySpan<(int Start, int Length)> tokens, Scratch scratch, Span<double> intentScores)
    {
        intentScores.Clear();

        // 1. Content tokens: stems, their vocabulary terms (exact or corrected) and weights; trigrams of the surface forms.
        Scratch.Ensure(ref scratch.Stems, normalized.Length);
        Scratch.Ensure(ref scratch.StemRanges, tokens.Length);
        Scratch.Ensure(ref scratch.CandidateStart, tokens.Length);
        Scratch.Ensure(ref scratch.CandidateCount, tokens.Length);
        Scratch.Ensure(ref scratch.TokenWeight, tokens.Length);
        Scratch.Ensure(ref scratch.CandidateIds, tokens.Length * MaxCandidatesPerToken);
        Scratch.Ensure(ref scratch.CandidateQuality, tokens.Length * MaxCandidatesPerToken);
        Scratch.Ensure(ref scratch.Trigrams, normalized.Length + tokens.Length);

        var queryCount = 0;
        var candidateTotal = 0;
        var stemOffset = 0;
        var trigramCount = 0;
        var queryWeight = 0.0;

        foreach (var (start, length) in tokens)
        {
            var token = normalized.Slice(start, length);
            if (!Analyzer.IsContentToken(token))
            {
                continue;
            }

            trigramCount += WriteTrigrams(token, scratch.Trigrams.AsSpan(trigramCount));

            var stemLength = Analyzer.Stem(token, scratch.Stems.AsSpan(stemOffset));
            var stem = scratch.Stems.AsSpan(stemOffset, stemLength);
            if (IsRepeated(stem, scratch, queryCount))
            {
                continue;
            }

            scratch.StemRanges[queryCount] = (stemOffset, stemLength);
            stemOffset += stemLength;

            int count;
            double weight;
            if (_termLookup.TryGetValue(stem, out var termId))
            {
                scratch.CandidateIds[candidateTotal] = termId;
                scratch.CandidateQuality[candidateTotal] = 1;
                count = 1;
                weight = _idf[termId];
            }
            else
            {
                // The tolerance follows the word as typed: "were" (4 letters) may be "where" even though its stem is "wer".
                var tolerance = TypoIndex.MaxDistanceFor(token.Length);
                var (found, distance) = _typos.FindClosest(stem, tolerance, scratch.CandidateIds.AsSpan(candidateTotal, MaxCandidatesPerToken));
                count = found;
                if (found == 0)
                {
                    weight = stem.ContainsAnyInRange('0', '9') ? _unknownNumberWeight : _unknownWordWeight;
                }
                else
                {
                    var quality = distance > 1 ? TwoEditQuality : token.Length > TypoIndex.MinLengthForOneEdit ? OneEditQuality : ShortWordOneEditQuality;
                    weight = 0;
                    for (var c = candidateTotal; c < candidateTotal + found; c++)
                    {
                        scratch.CandidateQuality[c] = quality;
                        weight = Math.Max(weight, _idf[scratch.CandidateIds[c]]);
                    }
                }
            }

            scratch.CandidateStart[queryCount] = candidateTotal;
            scratch.CandidateCount[queryCount] = count;
            scratch.TokenWeight[queryCount] = weight;
            candidateTotal += count;
            queryWeight += weight;
            queryCount++;
        }

        if (queryCount == 0 || ExampleCount == 0)
        {
            return;
        }

        // 2. Per intent: the message weight its vocabulary explains (each token counted once, at its best candidate).
        Scratch.Ensure(ref scratch.IntentMatched, _intentCount);
        Scratch.Ensure(ref scratch.TokenBest, _intentCount);
        var intentMatched = scratch.IntentMatched.AsSpan(0, _intentCount);
        var tokenBest = scratch.TokenBest.AsSpan(0, _intentCount);
        intentMatched.Clear();
        for (var q = 0; q < queryCount; q++)
        {
            var first = scratch.CandidateStart[q];
            var last = first + scratch.CandidateCount[q];
            if (first == last)
            {
                continue;
            }

            tokenBest.Clear();
            for (var c = first; c < last; c++)
            {
                var id = scratch.CandidateIds[c];
                var value = _idf[id] * scratch.CandidateQuality[c];
                foreach (var intent in _termIntents[id])
                {
                    tokenBest[intent] = Math.Max(tokenBest[intent], value);
                }
            }

            for (var i = 0; i < tokenBest.Length; i++)
            {
                intentMatched[i] += tokenBest[i];
            }
        }

        // 3. Per example: the example weight the message covers (each term counted once, at its best quality).
        Scratch.Ensure(ref scratch.DistinctTerms, candidateTotal);
        Scratch.Ensure(ref scratch.DistinctQuality, candidateTotal);
        var distinctCount = 0;
        for (var c = 0; c < candidateTotal; c++)
        {
            var id = scratch.CandidateIds[c];
            var at = Array.IndexOf(scratch.DistinctTerms, id, 0, distinctCount);
            if (at < 0)
            {
                scratch.DistinctTerms[distinctCount] = id;
                scratch.DistinctQuality[distinctCount] = scratch.CandidateQuality[c];
                distinctCount++;
            }
            else
            {
                scratch.DistinctQuality[at] = Math.Max(scratch.DistinctQuality[at], scratch.CandidateQuality[c]);
            }
        }

        Scratch.Ensure(ref scratch.ExampleMatched, ExampleCount);
        Scratch.Ensure(ref scratch.Dot, ExampleCount);
        var exampleMatched = scratch.ExampleMatched.AsSpan(0, ExampleCount);
        var dot = scratch.Dot.AsSpan(0, ExampleCount);
        exampleMatched.Clear();
        dot.Clear();
        for (var d = 0; d < distinctCount; d++)
        {
            var id = scratch.DistinctTerms[d];
            var value = _idf[id] * scratch.DistinctQuality[d];
            foreach (var example in _termExamples[id])
            {
                exampleMatched[example] += value;
            }
        }

        // 4. Character trigrams: the message's distinct trigrams against each example's.
        var trigrams = scratch.Trigrams.AsSpan(0, trigramCount);
        trigrams.Sort();
        var queryNorm = 0.0;
        for (var t = 0; t < trigrams.Length; t++)
        {
            if (t > 0 && trigrams[t] == trigrams[t - 1])
            {
                continue;
            }

            if (_trigrams.TryGetValue(trigrams[t], out var id))
            {
                var squared = _trigramIdf[id] * _trigramIdf[id];
                queryNorm += squared;
                foreach (var example in _trigramExamples[id])
                {
                    dot[example] += squared;
                }
            }
            else
            {
                queryNorm += _unknownTrigramWeight * _unknownTrigramWeight;
            }
        }

        queryNorm = Math.Sqrt(queryNorm);

        // 5. Combine; an intent scores as its best example.
        for (var e = 0; e < ExampleCount; e++)
        {
            if (exampleMatched[e] == 0 && dot[e] == 0)
            {
                continue;
            }

            var intent = _exampleIntent[e];
            var precision = intentMatched[intent] / queryWeight;
            var recall = exampleMatched[e] / _exampleWeight[e];
            var words = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
            var characters = queryNorm > 0 ? dot[e] / (queryNorm * _exampleTrigramNorm[e]) : 0;
            var score = Math.Clamp((WordWeight * words) + ((1 - WordWeight) * characters), 0, 1);
            if (score > intentScores[intent])
            {
                intentScores[intent] = score;
            }
        }
    }

    private static bool IsRepeated(ReadOnlySpan<char> stem, Scratch scratch, int count)
    {
        for (var q = 0; q < count; q++)
        {
            var (start, length) = scratch.StemRanges[q];
            if (stem.SequenceEqual(scratch.Stems.AsSpan(start, length)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Writes the character trigrams of a token padded with boundary marks ("^re", "ref", ..., "nd$"), each packed
    /// into a long; a token of n characters has n of them.
    /// </summary>
    internal static int WriteTrigrams(ReadOnlySpan<char> token, Span<long> destination)
    {
        var count = 0;
        for (var i = -1; i < token.Length - 1; i++)
        {
            var a = i < 0 ? '^' : token[i];
            var b = token[i + 1];
            var c = i + 2 < token.Length ? token[i + 2] : '$';
            destination[count++] = ((long)a << 32) | ((long)b << 16) | c;
        }

        return count;
    }
}
