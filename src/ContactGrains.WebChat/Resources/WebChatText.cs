using System.Collections;
using System.Globalization;
using System.Resources;

namespace ContactGrains.WebChat.Resources;

/// <summary>
/// Everything the page says that the adapter itself writes, from <c>WebChatText.resx</c> (English)
/// and its translations (<c>WebChatText.fr.resx</c>). A text missing from a translation falls back
/// to English, so a new language can be added one text at a time.
/// </summary>
public static class WebChatText
{
    /// <summary>The languages the page speaks; the first is the default.</summary>
    public static IReadOnlyList<CultureInfo> Cultures { get; } = [CultureInfo.GetCultureInfo("en"), CultureInfo.GetCultureInfo("fr")];

    private static readonly ResourceManager Resources = new("ContactGrains.WebChat.Resources.WebChatText", typeof(WebChatText).Assembly);

    private static readonly string[] Keys = ReadKeys();

    /// <summary>One text in <paramref name="culture"/>'s language.</summary>
    /// <exception cref="ArgumentException">No such text: a typo in the caller, found by the first test that reaches it.</exception>
    public static string Get(string key, CultureInfo culture) =>
        Resources.GetString(key, culture) ?? throw new ArgumentException($"The web chat has no text '{key}'.", nameof(key));

    /// <summary>One text with its placeholders filled in, numbers written the language's way.</summary>
    public static string Format(string key, CultureInfo culture, params object[] values) =>
        string.Format(culture, Get(key, culture), values);

    /// <summary>Every text in <paramref name="culture"/>'s language, for the page's script.</summary>
    public static IReadOnlyDictionary<string, string> All(CultureInfo culture) =>
        Keys.ToDictionary(key => key, key => Get(key, culture), StringComparer.Ordinal);

    /// <summary>The supported culture closest to <paramref name="culture"/> ("fr-CA" → "fr"), else English.</summary>
    public static CultureInfo Supported(CultureInfo? culture)
    {
        for (var current = culture; current is not null && !Equals(current, CultureInfo.InvariantCulture); current = current.Parent)
        {
            if (Cultures.FirstOrDefault(c => string.Equals(c.Name, current.Name, StringComparison.OrdinalIgnoreCase)) is { } supported)
            {
                return supported;
            }
        }

        return Cultures[0];
    }

    private static string[] ReadKeys()
    {
        // The neutral (English) set names every text; translations may lack some.
        // Not disposed: the set belongs to the ResourceManager's cache.
        var set = Resources.GetResourceSet(CultureInfo.InvariantCulture, createIfNotExists: true, tryParents: false)
            ?? throw new InvalidOperationException("The web chat's English texts are not embedded.");
        return [.. set.Cast<DictionaryEntry>().Select(entry => (string)entry.Key).Order(StringComparer.Ordinal)];
    }
}
