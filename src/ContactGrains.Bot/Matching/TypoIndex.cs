using System.Collections.Frozen;
using ContactGrains.Bot.Text;

namespace ContactGrains.Bot.Matching;

/// <summary>
/// Finds vocabulary terms within a small Damerau-Levenshtein distance of an unknown token without scanning the
/// vocabulary: every term is registered at load time under all the strings obtained by deleting up to two of its
/// characters (a symmetric deletion neighbourhood). Two strings within distance d always share a key with at most d
/// deletions on each side, so a lookup only probes the query's own deletion neighbourhood and verifies the few
/// candidates it finds.
/// </summary>
internal sealed class TypoIndex
{
    /// <summary>Tokens shorter than this are never corrected: too many short words are one edit apart.</summary>
    internal const int MinLengthForOneEdit = 4;

    /// <summary>Tokens at least this long may be two edits away from a vocabulary term.</summary>
    internal const int MinLengthForTwoEdits = 8;

    /// <summary>Longer tokens are not words a customer mistyped (URLs, pasted ids); they are never corrected.</summary>
    internal const int MaxTokenLength = 24;

    /// <summary>
    /// Vocabulary terms shorter than this are never proposed as corrections: one deletion turns too many ordinary
    /// words into a three-letter stem ("paris" into "pai").
    /// </summary>
    private const int MinTermLength = 4;

    private readonly string[] _terms;
    private readonly FrozenDictionary<string, int[]> _neighbourhood;
    private readonly FrozenDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    /// <param name="terms">The vocabulary; a term's position is its id.</param>
    internal TypoIndex(IReadOnlyList<string> terms)
    {
        _terms = [.. terms];
        var keys = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var id = 0; id < _terms.Length; id++)
        {
            var term = _terms[id];
            if (term.Length < MinTermLength)
            {
                continue;
            }

            // Every term gets the full two-deletion neighbourhood: the tolerance follows the word as typed, whose
            // stem may be much shorter ("remboursements" is "rembours").
            seen.Clear();
            AddDeletions(term, 2, seen);
            foreach (var key in seen)
            {
                if (!keys.TryGetValue(key, out var ids))
                {
                    ids = [];
                    keys.Add(key, ids);
                }

                ids.Add(id);
            }
        }

        _neighbourhood = keys.ToFrozenDictionary(pair => pair.Key, pair => pair.Value.ToArray(), StringComparer.Ordinal);
        _lookup = _neighbourhood.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The number of deletion keys; for diagnostics.</summary>
    internal int KeyCount => _neighbourhood.Count;

    /// <summary>The largest distance tolerated for a token of <paramref name="length"/> characters.</summary>
    internal static int MaxDistanceFor(int length) =>
        length >= MinLengthForTwoEdits ? 2 : length >= MinLengthForOneEdit ? 1 : 0;

    /// <summary>
    /// Writes to <paramref name="candidates"/> the ids of the vocabulary terms closest to <paramref name="token"/>
    /// (all of them at the smallest distance found, at most <paramref name="maxDistance"/>).
    /// </summary>
    /// <param name="token">The stem to correct.</param>
    /// <param name="maxDistance">The tolerance, from <see cref="MaxDistanceFor"/> applied to the word as typed.</param>
    /// <param name="candidates">Receives the ids.</param>
    /// <returns>How many ids were written and at which distance (0 when none was found).</returns>
    internal (int Count, int Distance) FindClosest(ReadOnlySpan<char> token, int maxDistance, Span<int> candidates)
    {
        maxDistance = Math.Min(maxDistance, 2);
        if (maxDistance == 0 || token.Length > MaxTokenLength || candidates.IsEmpty)
        {
            return (0, 0);
        }

        var state = new SearchState(candidates, maxDistance);
        Probe(token, token, ref state);

        Span<char> buffer = stackalloc char[token.Length];
        Span<char> twiceBuffer = stackalloc char[token.Length];
        for (var i = 0; i < token.Length; i++)
        {
            // Skip a deletion that gives the same key as the previous one ("aab" minus either "a").
            if (i > 0 && token[i] == token[i - 1])
            {
                continue;
            }

            var once = Delete(token, i, buffer);
            Probe(token, once, ref state);
            if (maxDistance < 2)
            {
                continue;
            }

            for (var j = i; j < once.Length; j++)
            {
                if (j > i && once[j] == once[j - 1])
                {
                    continue;
                }

                Probe(token, Delete(once, j, twiceBuffer), ref state);
            }
        }

        return state.Count == 0 ? (0, 0) : (state.Count, state.Distance);
    }

    private void Probe(scoped ReadOnlySpan<char> token, scoped ReadOnlySpan<char> key, ref SearchState state)
    {
        if (!_lookup.TryGetValue(key, out var ids))
        {
            return;
        }

        foreach (var id in ids)
        {
            if (state.Contains(id))
            {
                continue;
            }

            var distance = DamerauLevenshtein.Distance(token, _terms[id], state.Distance);
            if (distance == 0 || distance > state.Distance)
            {
                continue;
            }

            state.Add(id, distance);
        }
    }

    private static ReadOnlySpan<char> Delete(ReadOnlySpan<char> source, int index, Span<char> buffer)
    {
        source[..index].CopyTo(buffer);
        source[(index + 1)..].CopyTo(buffer[index..]);
        return buffer[..(source.Length - 1)];
    }

    private static void AddDeletions(string term, int depth, HashSet<string> keys)
    {
        keys.Add(term);
        if (depth == 0 || term.Length <= 1)
        {
            return;
        }

        for (var i = 0; i < term.Length; i++)
        {
            var shorter = term.Remove(i, 1);
            if (keys.Contains(shorter) && depth == 1)
            {
                continue;
            }

            AddDeletions(shorter, depth - 1, keys);
        }
    }

    /// <summary>The best candidates found so far: all at the same, smallest, distance.</summary>
    private ref struct SearchState(Span<int> candidates, int limit)
    {
        private readonly Span<int> _candidates = candidates;

        /// <summary>Candidates farther than this are rejected; tightened as closer ones are found.</summary>
        public int Distance { get; private set; } = limit;

        public int Count { get; private set; }

        public readonly bool Contains(int id) => _candidates[..Count].Contains(id);

        public void Add(int id, int distance)
        {
            if (distance < Distance)
            {
                Count = 0;
                Distance = distance;
            }

            if (Count < _candidates.Length)
            {
                _candidates[Count++] = id;
            }
        }
    }
}
