using System.Buffers;
using System.Collections.Frozen;
using ContactGrains.Bot;
using ContactGrains.Contracts;

namespace ContactGrains.Grains.Routing;

/// <summary>
/// The skills and languages queues exist for: the knowledge base's (each intent names the skill that
/// serves it) plus configured extras. Agents' skills and transfer targets must come from here, so a
/// typo cannot create a queue nobody serves.
/// </summary>
public sealed class RoutingCatalog
{
    private static readonly SearchValues<char> TokenChars = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-_");

    public RoutingCatalog(IEnumerable<string> skills, IEnumerable<string> languages, string defaultSkill)
    {
        Skills = skills.Append(defaultSkill).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToFrozenSet(StringComparer.Ordinal);
        Languages = [.. languages.Distinct(StringComparer.Ordinal)];
        if (Languages.Count == 0)
        {
            throw new ArgumentException("The routing catalog needs at least one language.", nameof(languages));
        }

        DefaultSkill = defaultSkill;
    }

    public static RoutingCatalog From(KnowledgeBase knowledgeBase, RoutingOptions options) =>
        new(knowledgeBase.Intents.Select(i => i.Skill).OfType<string>().Concat(options.ExtraSkills), knowledgeBase.Languages, options.DefaultSkill);

    public FrozenSet<string> Skills { get; }

    /// <summary>Supported languages; the first is the default for customers whose language is unknown.</summary>
    public IReadOnlyList<string> Languages { get; }

    public string DefaultSkill { get; }

    /// <summary>Every queue of the catalog: each skill in each language.</summary>
    public IEnumerable<string> QueueKeys => Skills.SelectMany(skill => Languages.Select(language => GrainKeys.Queue(skill, language)));

    /// <summary>The catalog language for a customer's language tag ("fr-CA" → "fr"); the default when unsupported.</summary>
    public string ResolveLanguage(string? languageTag)
    {
        if (!string.IsNullOrWhiteSpace(languageTag))
        {
            var primary = languageTag.Split('-', '_')[0].ToLowerInvariant();
            if (Languages.Contains(primary))
            {
                return primary;
            }
        }

        return Languages[0];
    }

    public string? CheckSkill(string? skill, string fieldName) =>
        string.IsNullOrEmpty(skill) ? $"{fieldName} is required."
        : Skills.Contains(skill) ? null
        : $"{fieldName} '{Shorten(skill)}' is not a routing skill; known skills: {string.Join(", ", Skills)}.";

    public string? CheckLanguage(string? language, string fieldName) =>
        string.IsNullOrEmpty(language) ? $"{fieldName} is required."
        : Languages.Contains(language) ? null
        : $"{fieldName} '{Shorten(language)}' is not a supported language; supported: {string.Join(", ", Languages)}.";

    /// <summary>Returns why <paramref name="value"/> is not a short lowercase token (wrap-up codes, ids), or null.</summary>
    public static string? CheckToken(string? value, string fieldName, int maxLength)
    {
        if (string.IsNullOrEmpty(value))
        {
            return $"{fieldName} is required.";
        }

        return value.Length > maxLength || value.AsSpan().ContainsAnyExcept(TokenChars)
            ? $"{fieldName} '{Shorten(value)}' is invalid: use 1 to {maxLength} characters from a-z, 0-9, '-' and '_'."
            : null;
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
