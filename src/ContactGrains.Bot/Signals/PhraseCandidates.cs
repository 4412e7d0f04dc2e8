namespace ContactGrains.Bot.Signals;

/// <summary>
/// The phrases of a lexicon that a message could match: those whose first word (or first word's
/// start, for "word*") is one of the message's words. Worked out once per message from two
/// dictionaries, so the detector does not scan every clause for each of several hundred phrases.
/// </summary>
internal sealed class PhraseCandidates
{
    // One bit per phrase of the lexicon (a few hundred): a few dozen bytes per message.
    private readonly ulong[] _possible;

    private PhraseCandidates(ulong[] possible) => _possible = possible;

    public bool Contains(SignalPhrase phrase) => IsSet(_possible, phrase.Index);

    public bool ContainsAny(SignalPhrase[] phrases)
    {
        foreach (var phrase in phrases)
        {
            if (IsSet(_possible, phrase.Index))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsSet(ulong[] bits, int index) => (bits[index >> 6] & (1UL << (index & 63))) != 0;

    /// <summary>Indexes phrases by their first word, to find the candidates of a message.</summary>
    public sealed class Index
    {
        private readonly int _count;
        private readonly Dictionary<string, int[]> _byWord;
        private readonly Dictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _byPrefix;
        private readonly int _longestPrefix;

        public Index(IReadOnlyList<SignalPhrase> phrases)
        {
            _count = phrases.Count;
            _byWord = Group(phrases.Where(p => !p.AnchorIsPrefix));
            var byPrefix = Group(phrases.Where(p => p.AnchorIsPrefix));
            _byPrefix = byPrefix.GetAlternateLookup<ReadOnlySpan<char>>();
            _longestPrefix = byPrefix.Keys.Select(k => k.Length).DefaultIfEmpty(0).Max();
        }

        public PhraseCandidates For(ReadOnlySpan<string> words)
        {
            var possible = new ulong[(_count + 63) / 64];
            foreach (var word in words)
            {
                if (_byWord.TryGetValue(word, out var exact))
                {
                    Mark(possible, exact);
                }

                for (var length = Math.Min(word.Length, _longestPrefix); length > 0; length--)
                {
                    if (_byPrefix.TryGetValue(word.AsSpan(0, length), out var prefixed))
                    {
                        Mark(possible, prefixed);
                    }
                }
            }

            return new PhraseCandidates(possible);
        }

        private static void Mark(ulong[] possible, int[] indexes)
        {
            foreach (var index in indexes)
            {
                possible[index >> 6] |= 1UL << (index & 63);
            }
        }

        private static Dictionary<string, int[]> Group(IEnumerable<SignalPhrase> phrases) =>
            phrases.GroupBy(p => p.Anchor, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Select(p => p.Index).ToArray(), StringComparer.Ordinal);
    }
}
