using System.Buffers;
using System.Globalization;
using System.Text;

namespace ContactGrains.Bot.Text;

/// <summary>
/// Turns raw customer text into a canonical form: compatibility-decomposed (NFKD) with diacritics removed,
/// lower-case (invariant), every run of punctuation, symbols or white space collapsed to one space and French
/// elisions dropped ("l'argent" becomes "argent", "qu'il" becomes "il"); the "e-" prefix stays with its word
/// ("e-mail" becomes "email"). Letters and digits are kept, so
/// numbers survive as tokens.
/// </summary>
/// <remarks>Stateless and allocation-free (the NFKD step borrows a pooled buffer for text that is not plain ASCII).</remarks>
internal static class TextNormalizer
{
    /// <summary>Upper bound of the characters <see cref="Normalize(ReadOnlySpan{char}, Span{char})"/> may write for <paramref name="inputLength"/> characters.</summary>
    /// <remarks>Ligatures such as "œ" become two characters; nothing else grows once decomposed.</remarks>
    internal static int MaxOutputLength(int inputLength) => inputLength * 2;

    /// <summary>Normalizes a whole string; meant for load time and tests.</summary>
    internal static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var buffer = ArrayPool<char>.Shared.Rent(Math.Max(16, MaxOutputLength(text.Length) + 1));
        try
        {
            var length = Normalize(text, buffer);
            return new string(buffer, 0, length);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Writes the normalized form of <paramref name="text"/> to <paramref name="destination"/>: tokens separated by
    /// exactly one space, no leading or trailing space.
    /// </summary>
    /// <param name="text">Raw text.</param>
    /// <param name="destination">Receives the result; <see cref="MaxOutputLength(int)"/> characters are enough for any
    /// ordinary text, anything beyond the destination's length is cut off.</param>
    /// <returns>The number of characters written.</returns>
    internal static int Normalize(ReadOnlySpan<char> text, Span<char> destination)
    {
        if (Ascii.IsValid(text))
        {
            return Fold(text, destination);
        }

        // NFKD splits "é" into "e" + U+0301 and compatibility characters ("ﬁ", full-width digits) into plain ones.
        var buffer = ArrayPool<char>.Shared.Rent((text.Length * 3) + 16);
        try
        {
            if (Utf16Utility.HasLoneSurrogate(text))
            {
                // Ill-formed UTF-16 cannot be normalized: blank the lone surrogates first.
                var cleaned = buffer.AsSpan(0, text.Length);
                Utf16Utility.ReplaceLoneSurrogates(text, cleaned);
                var normalized = cleaned.ToString().Normalize(NormalizationForm.FormKD);
                return Fold(normalized, destination);
            }

            if (text.TryNormalize(buffer, out var length, NormalizationForm.FormKD))
            {
                return Fold(buffer.AsSpan(0, length), destination);
            }

            // Rare: decomposition longer than three times the text.
            return Fold(text.ToString().Normalize(NormalizationForm.FormKD), destination);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    private static int Fold(ReadOnlySpan<char> text, Span<char> destination)
    {
        var written = 0;
        var tokenStart = 0;
        var pendingSpace = false;

        foreach (var raw in text)
        {
            if (char.IsLetterOrDigit(raw))
            {
                if (written + 3 > destination.Length)
                {
                    // Pathological expansion (NFKD of rare compatibility characters): keep what fits.
                    break;
                }

                if (pendingSpace && written > 0)
                {
                    destination[written++] = ' ';
                    tokenStart = written;
                }

                pendingSpace = false;
                written = Append(char.ToLowerInvariant(raw), destination, written);
                continue;
            }

            var category = CharUnicodeInfo.GetUnicodeCategory(raw);
            if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark)
            {
                // A diacritic left by NFKD: drop it so "remboursé" and "rembourse" are the same word.
                continue;
            }

            if (raw == '-' && !pendingSpace && written - tokenStart == 1 && destination[tokenStart] == 'e')
            {
                // "e-mail", "e-commerce": the prefix belongs to the word ("email").
                continue;
            }

            if (IsApostrophe(raw) && !pendingSpace && IsElisionPrefix(destination[tokenStart..written]))
            {
                // "l'argent", "qu'il", "j'ai": the elided article or pronoun carries no meaning.
                written = tokenStart;
                if (written > 0)
                {
                    // Keep the separator that preceded the dropped prefix.
                    written--;
                    pendingSpace = true;
                }

                continue;
            }

            pendingSpace = true;
        }

        return written;
    }

    private static int Append(char c, Span<char> destination, int written)
    {
        switch (c)
        {
            case 'œ':
                destination[written++] = 'o';
                destination[written++] = 'e';
                break;
            case 'æ':
                destination[written++] = 'a';
                destination[written++] = 'e';
                break;
            case 'ß':
                destination[written++] = 's';
                destination[written++] = 's';
                break;
            case 'ø':
                destination[written++] = 'o';
                break;
            case 'đ':
                destination[written++] = 'd';
                break;
            case 'ł':
                destination[written++] = 'l';
                break;
            case 'ı':
                destination[written++] = 'i';
                break;
            default:
                destination[written++] = c;
                break;
        }

        return written;
    }

    private static bool IsApostrophe(char c) => c is '\'' or '\u2019' or '\u2018' or '\u02BC' or '`' or '\u00B4';

    private static bool IsElisionPrefix(ReadOnlySpan<char> token) =>
        token switch
        {
            "l" or "d" or "j" or "m" or "n" or "s" or "t" or "c" => true,
            "qu" or "lorsqu" or "puisqu" or "jusqu" or "quoiqu" => true,
            _ => false,
        };
}

/// <summary>Helpers for text that may contain unpaired surrogates (pasted or truncated emoji).</summary>
internal static class Utf16Utility
{
    internal static bool HasLoneSurrogate(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return true;
            }
        }

        return false;
    }

    internal static void ReplaceLoneSurrogates(ReadOnlySpan<char> text, Span<char> destination)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                destination[i] = text[i];
                destination[i + 1] = text[i + 1];
                i++;
            }
            else
            {
                destination[i] = char.IsSurrogate(text[i]) ? ' ' : text[i];
            }
        }
    }
}
