using System.Globalization;
using System.Text;

namespace ContactGrains.Grains.Conversations;

/// <summary>
/// The rule for text that people send (customer and agent messages, names, notes, reasons) before
/// it is stored and relayed to other people's screens and terminals:
/// <list type="bullet">
/// <item>normalised to Unicode NFC, so that "é" typed two ways is one string for the bot, the
/// transcript and search;</item>
/// <item>terminal escape sequences (ANSI/VT: CSI, OSC, DCS and the short ESC forms) removed whole, so
/// no colour, cursor move or window title reaches an agent's terminal;</item>
/// <item>control characters removed, except tab and line feed; a carriage return becomes a line feed;</item>
/// <item>invisible characters that carry nothing in chat removed: zero-width space, word joiner,
/// byte-order mark, Mongolian vowel separator, soft hyphen, and the bidirectional embeddings,
/// overrides and isolates that can make text display in another order than it is stored;</item>
/// <item>kept: zero-width joiner and non-joiner (emoji sequences, Persian and Indic scripts), variation
/// selectors, and the left-to-right and right-to-left marks.</item>
/// </list>
/// What remains must have at least one visible character (<see cref="HasVisibleCharacter"/>).
/// </summary>
public static class InboundText
{
    private const char Escape = '\u001B';

    /// <summary>The text as it is stored: see the class summary. Plain printable ASCII comes back as is.</summary>
    public static string Clean(string text)
    {
        if (IsPlain(text))
        {
            return text;
        }

        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == Escape)
            {
                i = EndOfEscapeSequence(text, i);
                continue;
            }

            if (c == '\r')
            {
                // CR LF and a lone CR are both one line break.
                if (i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                result.Append('\n');
                continue;
            }

            if (c is '\u2028' or '\u2029')
            {
                result.Append('\n');
                continue;
            }

            if (!IsRemoved(c))
            {
                result.Append(c);
            }
        }

        var cleaned = result.ToString();
        return cleaned.IsNormalized(NormalizationForm.FormC) ? cleaned : cleaned.Normalize(NormalizationForm.FormC);
    }

    /// <summary>
    /// True when <paramref name="text"/> shows something: a letter, digit, punctuation, symbol or
    /// emoji, not only spaces, marks, format characters or the characters that render as blanks
    /// (Hangul fillers, the braille blank).
    /// </summary>
    public static bool HasVisibleCharacter(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        foreach (var rune in text.EnumerateRunes())
        {
            if (IsVisible(rune))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The first character an id may not contain (a control or format character), or null.</summary>
    public static Rune? FirstInvisibleInId(string id)
    {
        foreach (var rune in id.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                return rune;
            }
        }

        return null;
    }

    private static bool IsPlain(string text)
    {
        foreach (var c in text)
        {
            if (c is (< ' ' and not '\n' and not '\t') or > '~')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsRemoved(char c) => c switch
    {
        '\t' or '\n' => false,
        < ' ' or '\u007F' => true,                // C0 controls, DEL
        >= '\u0080' and <= '\u009F' => true,      // C1 controls (including the one-character CSI)
        '\u00AD' or '\u180E' or '\u200B' or '\u2060' or '\uFEFF' => true,
        >= '\u202A' and <= '\u202E' => true,      // bidi embeddings and overrides
        >= '\u2066' and <= '\u2069' => true,      // bidi isolates
        _ => false,
    };

    /// <summary>The index of the last character of the escape sequence that starts at <paramref name="start"/>.</summary>
    private static int EndOfEscapeSequence(string text, int start)
    {
        var i = start + 1;
        if (i >= text.Length)
        {
            return start;
        }

        switch (text[i])
        {
            case '[':
                // CSI: parameter bytes 0x30–0x3F, intermediate bytes 0x20–0x2F, one final byte 0x40–0x7E.
                i++;
                while (i < text.Length && text[i] is >= '\u0030' and <= '\u003F')
                {
                    i++;
                }

                while (i < text.Length && text[i] is >= '\u0020' and <= '\u002F')
                {
                    i++;
                }

                return i < text.Length && text[i] is >= '\u0040' and <= '\u007E' ? i : i - 1;

            case ']' or 'P' or 'X' or '^' or '_':
                // OSC, DCS, SOS, PM, APC: a string up to BEL or ST (ESC \), or the end of the text.
                for (i++; i < text.Length; i++)
                {
                    if (text[i] == '\u0007')
                    {
                        return i;
                    }

                    if (text[i] == Escape && i + 1 < text.Length && text[i + 1] == '\\')
                    {
                        return i + 1;
                    }
                }

                return text.Length - 1;

            default:
                // Short forms (ESC 7, ESC c, ESC ( B, …): intermediate bytes, then one final byte.
                while (i < text.Length && text[i] is >= '\u0020' and <= '\u002F')
                {
                    i++;
                }

                return i < text.Length && text[i] is >= '\u0030' and <= '\u007E' ? i : i - 1;
        }
    }

    private static bool IsVisible(Rune rune)
    {
        if (rune.Value is 0x115F or 0x1160 or 0x3164 or 0xFFA0 or 0x2800)
        {
            return false;
        }

        return Rune.GetUnicodeCategory(rune) is not (UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            or UnicodeCategory.Surrogate or UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark);
    }
}
