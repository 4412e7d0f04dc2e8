namespace ContactGrains.Bot.Text;

/// <summary>
/// A light, deterministic suffix stripper for English: plurals, -ed/-ing, -ment, -ation, -ure, a final "e" and a
/// final doubled consonant. refunds/refunded/refunding become "refund"; delivery/delivered become "deliver";
/// cancel/cancelled/cancellation become "cancel". It only has to map related forms to the same key, not produce words.
/// </summary>
internal static class EnglishStemmer
{
    /// <summary>Stems <paramref name="word"/> (lower-case, no diacritics) in place.</summary>
    /// <returns>The length of the stem, never more than <paramref name="length"/>.</returns>
    internal static int Stem(Span<char> word, int length)
    {
        var irregular = Irregular(word[..length]);
        if (irregular is not null)
        {
            irregular.AsSpan().CopyTo(word);
            return irregular.Length;
        }

        var n = length;
        if (n <= 3)
        {
            return n;
        }

        var w = word;

        // Plurals and third person.
        if (EndsWith(w, n, "ies") && n > 4)
        {
            n -= 2;
            w[n - 1] = 'y';
        }
        else if (EndsWith(w, n, "sses"))
        {
            n -= 2;
        }
        else if (w[n - 1] == 's' && !EndsWith(w, n, "ss") && !EndsWith(w, n, "us") && !EndsWith(w, n, "is"))
        {
            n -= 1;
        }

        // Past and progressive forms.
        if (EndsWith(w, n, "ied") && n > 4)
        {
            n -= 2;
            w[n - 1] = 'y';
        }
        else if (EndsWith(w, n, "ing") && n - 3 >= 3 && HasVowel(w[..(n - 3)]))
        {
            n -= 3;
        }
        else if (EndsWith(w, n, "ed") && n - 2 >= 3 && HasVowel(w[..(n - 2)]))
        {
            n -= 2;
        }

        // A few derivational endings that matter in customer service (payment, cancellation, closure, delivery).
        if (EndsWith(w, n, "ment") && n - 4 >= 3)
        {
            n -= 4;
        }
        else if (EndsWith(w, n, "ation") && n - 5 >= 3)
        {
            n -= 5;
        }
        else if (EndsWith(w, n, "ure") && n - 3 >= 3)
        {
            n -= 3;
        }
        else if (EndsWith(w, n, "ery") && n >= 6)
        {
            n -= 1;
        }

        if (n >= 4 && w[n - 1] == 'e')
        {
            n -= 1;
        }

        if (n >= 4 && w[n - 1] == w[n - 2] && IsConsonant(w[n - 1]) && w[n - 1] != 's')
        {
            n -= 1;
        }

        return n;
    }

    // Irregular forms mapped straight to the stem their regular relatives get.
    private static string? Irregular(ReadOnlySpan<char> word) =>
        word switch
        {
            "paid" => "pay",
            "sent" => "send",
            "bought" => "buy",
            "broke" or "broken" => "break",
            "lost" => "los",
            "stolen" or "stole" => "steal",
            "forgot" or "forgotten" => "forget",
            "wrote" or "written" => "writ",
            "gave" or "given" => "giv",
            "children" => "child",
            _ => null,
        };

    internal static bool EndsWith(ReadOnlySpan<char> word, int length, string suffix) =>
        length >= suffix.Length && word[..length].EndsWith(suffix, StringComparison.Ordinal);

    private static bool HasVowel(ReadOnlySpan<char> text) => text.IndexOfAny("aeiouy") >= 0;

    private static bool IsConsonant(char c) => c is >= 'a' and <= 'z' && "aeiouy".IndexOf(c) < 0;
}
