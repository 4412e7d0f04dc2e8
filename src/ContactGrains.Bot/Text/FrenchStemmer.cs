namespace ContactGrains.Bot.Text;

/// <summary>
/// A light, deterministic suffix stripper for French, applied after diacritics are removed: plural -s/-x, then one
/// ending among -ement, -ation, -aison, -euse/-eu(x), -ee, -er, -e and a few others, then "y" to "i".
/// livraison/livree/livre/livrer all become "livr"; paiement/payer/paye become "pai"; remboursement/rembourse
/// become "rembours".
/// </summary>
internal static class FrenchStemmer
{
    // Longest first: the first ending that leaves at least three characters is removed, and only that one.
    private static readonly string[] Suffixes =
    [
        "issement", "cation", "ements", "ement", "ation", "aison", "ment", "euse", "eur", "eu", "ant", "ais", "ait", "ee", "er", "ez", "e",
    ];

    /// <summary>Stems <paramref name="word"/> (lower-case, no diacritics) in place.</summary>
    /// <returns>The length of the stem, never more than <paramref name="length"/>.</returns>
    internal static int Stem(Span<char> word, int length)
    {
        var n = length;
        if (n <= 3)
        {
            return n;
        }

        if (word[n - 1] is 's' or 'x')
        {
            n--;
        }

        foreach (var suffix in Suffixes)
        {
            if (n - suffix.Length >= 3 && EnglishStemmer.EndsWith(word, n, suffix))
            {
                n -= suffix.Length;
                break;
            }
        }

        // "pay-" and "pai-" are the same verb (payer, paiement, paie).
        if (word[n - 1] == 'y')
        {
            word[n - 1] = 'i';
        }

        return n;
    }
}
