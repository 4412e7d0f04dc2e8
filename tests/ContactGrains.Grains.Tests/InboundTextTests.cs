using ContactGrains.Grains.Conversations;

namespace ContactGrains.Grains.Tests;

/// <summary>The text rule (<see cref="InboundText"/>) on what people and adapters really send.</summary>
public sealed class InboundTextTests
{
    public static TheoryData<string, string, string> Cleaned => new()
    {
        // what, sent, stored
        { "plain ASCII is untouched", "Where is my refund?", "Where is my refund?" },
        { "accents typed as combining marks become one character (NFC)", "cafe\u0301 cre\u0300me", "café crème" },
        { "French already composed is untouched", "où est mon colis ? Ça fait 3 jours", "où est mon colis ? Ça fait 3 jours" },
        { "an emoji family keeps its zero-width joiners", "merci \U0001F468\u200D\U0001F469\u200D\U0001F467", "merci \U0001F468\u200D\U0001F469\u200D\U0001F467" },
        { "a heart keeps its variation selector", "thanks \u2764\uFE0F", "thanks \u2764\uFE0F" },
        { "Persian keeps its zero-width non-joiner", "می\u200Cخواهم", "می\u200Cخواهم" },
        { "a colour escape is removed whole", "\u001B[31mURGENT\u001B[0m refund", "URGENT refund" },
        { "a cursor move and screen clear are removed", "hi\u001B[2J\u001B[H there", "hi there" },
        { "an OSC window title (BEL-terminated) is removed", "\u001B]0;pwned\u0007hello", "hello" },
        { "an OSC hyperlink (ST-terminated) keeps its visible text", "\u001B]8;;http://evil\u001B\\click\u001B]8;;\u001B\\", "click" },
        { "a short escape (save cursor) is removed", "a\u001B7b", "ab" },
        { "a lone escape at the end is removed", "bye\u001B", "bye" },
        { "the one-character C1 CSI is removed", "x\u009B31my", "x31my" },
        { "a bell and a backspace are removed", "ding\u0007\u0008!", "ding!" },
        { "NUL is removed", "a\u0000b", "ab" },
        { "CR LF becomes LF", "line 1\r\nline 2", "line 1\nline 2" },
        { "a lone CR becomes LF (it would overwrite the line on a terminal)", "safe\rEVIL", "safe\nEVIL" },
        { "tabs and line feeds stay", "order:\t40021\nthanks", "order:\t40021\nthanks" },
        { "a zero-width space is removed", "ref\u200Bund", "refund" },
        { "a byte-order mark at the start is removed", "\uFEFFbonjour", "bonjour" },
        { "a word joiner and a soft hyphen are removed", "re\u2060fu\u00ADnd", "refund" },
        { "a right-to-left override is removed (Trojan Source)", "invoice \u202Egnp.exe", "invoice gnp.exe" },
        { "bidi isolates are removed", "\u2067abc\u2069", "abc" },
        { "left-to-right and right-to-left marks stay", "\u200Fشكرا\u200E 123", "\u200Fشكرا\u200E 123" },
        { "a line separator becomes LF", "a\u2028b", "a\nb" },
        { "DEL is removed", "ab\u007Fc", "abc" },
    };

    [Theory]
    [MemberData(nameof(Cleaned))]
    public void Text_is_stored_as_the_rule_says(string what, string sent, string stored)
    {
        Assert.True(InboundText.Clean(sent) == stored, $"{what}: got '{Escape(InboundText.Clean(sent))}', expected '{Escape(stored)}'");
    }

    [Theory]
    [MemberData(nameof(Cleaned))]
    public void Cleaning_twice_changes_nothing(string what, string sent, string stored)
    {
        _ = stored;
        var once = InboundText.Clean(sent);
        Assert.True(InboundText.Clean(once) == once, what);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   \t\n ", "spaces, tabs and line feeds")]
    [InlineData("\u200B\u200B\u200B", "zero-width spaces")]
    [InlineData("\u200D", "a lone zero-width joiner")]
    [InlineData("\u00A0\u2003\u3000", "no-break, em and ideographic spaces")]
    [InlineData("\u0301\u0308", "combining marks with nothing to combine with")]
    [InlineData("\u3164\u3164", "Hangul fillers (blank 'names')")]
    [InlineData("\u2800", "the braille blank")]
    [InlineData("\uFE0F", "a variation selector alone")]
    [InlineData("\U000E0041\U000E0042", "tag characters")]
    public void Nothing_visible_is_refused(string text, string what)
    {
        Assert.False(InboundText.HasVisibleCharacter(text), what);
        Assert.NotNull(InboundValidation.CheckText(text));
    }

    [Theory]
    [InlineData("?", "a question mark")]
    [InlineData("0", "a digit")]
    [InlineData("\U0001F44D", "a thumbs-up emoji")]
    [InlineData("\u00E9", "an accented letter")]
    [InlineData("你好", "Chinese")]
    [InlineData("\u200B ok \u200B", "a word among zero-width spaces")]
    [InlineData("\uFFFD", "a replacement character (what a lone surrogate becomes)")]
    public void Something_visible_is_accepted(string text, string what)
    {
        Assert.True(InboundText.HasVisibleCharacter(text), what);
        Assert.Null(InboundValidation.CheckText(text));
    }

    [Fact]
    public void Text_made_only_of_control_characters_is_refused_once_cleaned()
    {
        var cleaned = InboundText.Clean("\u0000\u0007\u001B[0m\u001B");

        Assert.Equal("", cleaned);
        Assert.Equal("text is empty: a message needs at least one visible character.", InboundValidation.CheckText(cleaned));
    }

    [Theory]
    [InlineData("msg-\u001B[31m", "U+001B")]
    [InlineData("thread\u200B1", "U+200B")]
    [InlineData("a\nb", "U+000A")]
    [InlineData("\u202Eabc", "U+202E")]
    public void Ids_with_control_or_formatting_characters_are_refused(string id, string named)
    {
        var problem = InboundValidation.CheckId(id, "message_id");

        Assert.Equal($"message_id contains the control or formatting character {named}; ids are printable text.", problem);
    }

    [Theory]
    [InlineData("+33611223344")]
    [InlineData("whatsapp:447700900123")]
    [InlineData("web-visitor-7f3c é")]
    public void Ordinary_ids_are_accepted(string id) => Assert.Null(InboundValidation.CheckId(id, "message_id"));

    private static string Escape(string text) =>
        string.Concat(text.Select(c => c < ' ' || c is > '~' and < '\u00A0' ? $"\\u{(int)c:X4}" : c.ToString()));
}
