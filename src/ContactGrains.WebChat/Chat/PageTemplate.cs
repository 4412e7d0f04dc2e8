using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ContactGrains.WebChat.Resources;

namespace ContactGrains.WebChat.Chat;

/// <summary>
/// The chat page, rendered once per language from <c>Assets/index.html</c>: <c>{{T:Key}}</c> becomes
/// the text <c>Key</c> (HTML-encoded), <c>{{Lang}}</c> the language, <c>{{Texts}}</c> every text as
/// JSON for the script and <c>{{MaxLength}}</c> the longest message. The page reads in the
/// customer's language from its first byte, with no flash of English.
/// </summary>
public sealed partial class PageTemplate
{
    private readonly string _template;
    private readonly Dictionary<(string Culture, int MaxLength), string> _rendered = [];
    private readonly Lock _lock = new();

    /// <summary>Reads the template from the assembly.</summary>
    public PageTemplate()
    {
        using var stream = typeof(PageTemplate).Assembly.GetManifestResourceStream(AssetsNamespace + ".index.html")
            ?? throw new InvalidOperationException("The chat page (Assets/index.html) is not embedded.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        _template = reader.ReadToEnd();
    }

    /// <summary>The namespace of the embedded page files (<c>Assets/</c>).</summary>
    public const string AssetsNamespace = "ContactGrains.WebChat.Assets";

    /// <summary>The page in <paramref name="culture"/>'s language.</summary>
    public string Render(CultureInfo culture, int maxLength)
    {
        lock (_lock)
        {
            if (!_rendered.TryGetValue((culture.Name, maxLength), out var page))
            {
                _rendered[(culture.Name, maxLength)] = page = RenderNow(culture, maxLength);
            }

            return page;
        }
    }

    private string RenderNow(CultureInfo culture, int maxLength)
    {
        // The default encoder escapes '<', '>' and '&', so the JSON cannot close its <script> element.
        var texts = JsonSerializer.Serialize(WebChatText.All(culture));
        return Placeholder().Replace(_template, match => match.Groups["name"].Value switch
        {
            "Lang" => culture.TwoLetterISOLanguageName,
            "Texts" => texts,
            "MaxLength" => maxLength.ToString(CultureInfo.InvariantCulture),
            var name when name.StartsWith("T:", StringComparison.Ordinal) => WebUtility.HtmlEncode(WebChatText.Get(name[2..], culture)),
            var name => throw new InvalidOperationException($"The chat page has an unknown placeholder '{{{{{name}}}}}'."),
        });
    }

    [GeneratedRegex(@"\{\{(?<name>[A-Za-z:]+)\}\}")]
    private static partial Regex Placeholder();
}
