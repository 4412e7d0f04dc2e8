using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ContactGrains.Bot.Matching;
using ContactGrains.Bot.Serialization;
using ContactGrains.Bot.Text;

namespace ContactGrains.Bot;

/// <summary>
/// A validated knowledge base: intents with example phrasings and answers in each language, the fallback reply
/// and the confidence threshold. Loading also precomputes the matching index, so a loaded knowledge base is ready
/// for the hot path and immutable (safe to share between threads).
/// </summary>
public sealed class KnowledgeBase
{
    /// <summary>Threshold used when the file does not set one.</summary>
    public const double DefaultThreshold = 0.45;

    private readonly FrozenDictionary<string, int> _languageIndex;
    private readonly FrozenDictionary<string, KnowledgeBaseIntent> _intentsById;

    private KnowledgeBase(
        string name,
        string sourceName,
        double threshold,
        IReadOnlyList<string> languages,
        IReadOnlyDictionary<string, string> fallback,
        IReadOnlyList<KnowledgeBaseIntent> intents)
    {
        Name = name;
        SourceName = sourceName;
        Threshold = threshold;
        Languages = languages;
        Fallback = fallback;
        Intents = intents;
        _languageIndex = languages.Select((language, index) => (language, index)).ToFrozenDictionary(pair => pair.language, pair => pair.index, StringComparer.Ordinal);
        _intentsById = intents.ToFrozenDictionary(intent => intent.Id, StringComparer.Ordinal);

        var examples = languages
            .Select(language => (IReadOnlyList<IReadOnlyList<string>>)[.. intents.Select(intent => intent.Examples.GetValueOrDefault(language) ?? [])])
            .ToArray();
        Index = new MatchingIndex(languages, examples);
    }

    /// <summary>
    /// Where the sample knowledge base shipped with this library lands in the output of any project that references it:
    /// <c>knowledge/retail-payments.json</c> next to the application.
    /// </summary>
    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "knowledge", "retail-payments.json");

    /// <summary>Display name from the file ("name"), or the file name when it has none.</summary>
    public string Name { get; }

    /// <summary>Where the knowledge base came from (full path for <see cref="Load"/>), as used in error messages.</summary>
    public string SourceName { get; }

    /// <summary>Minimum confidence, in (0, 1), for the bot to answer rather than fall back.</summary>
    public double Threshold { get; }

    /// <summary>Language codes, in file order; the first is the default language.</summary>
    public IReadOnlyList<string> Languages { get; }

    /// <summary>The "I'm not sure I understood" reply, one per language.</summary>
    public IReadOnlyDictionary<string, string> Fallback { get; }

    /// <summary>Intents in file order.</summary>
    public IReadOnlyList<KnowledgeBaseIntent> Intents { get; }

    internal MatchingIndex Index { get; }

    /// <summary>Loads the sample knowledge base from <see cref="DefaultPath"/>.</summary>
    /// <exception cref="KnowledgeBaseException">The file is missing or invalid.</exception>
    public static KnowledgeBase LoadDefault() => Load(DefaultPath);

    /// <summary>Reads, validates and indexes a knowledge base file.</summary>
    /// <param name="path">Path of the JSON file, absolute or relative to the current directory.</param>
    /// <exception cref="KnowledgeBaseException">The file is missing, unreadable or invalid; the message says what to fix.</exception>
    public static KnowledgeBase Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new KnowledgeBaseException(
                $"Knowledge base file not found: '{fullPath}'. Check the path (configuration key ContactGrains:Bot:KnowledgeBasePath) " +
                "or copy the file there.");
        }

        string json;
        try
        {
            json = File.ReadAllText(fullPath);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new KnowledgeBaseException($"Knowledge base file '{fullPath}' could not be read: {exception.Message}", exception);
        }

        return Parse(json, fullPath);
    }

    /// <summary>Validates and indexes a knowledge base given as JSON text.</summary>
    /// <param name="json">The file's content.</param>
    /// <param name="sourceName">Where it came from (a path or any label), used in error messages.</param>
    /// <exception cref="KnowledgeBaseException">The JSON is invalid; the message lists every problem found.</exception>
    public static KnowledgeBase Parse(string json, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(sourceName);

        KnowledgeBaseDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, KnowledgeBaseJsonContext.Default.KnowledgeBaseDocument);
        }
        catch (JsonException exception)
        {
            var where = exception.LineNumber is { } line
                ? $" at line {line + 1}, position {CharacterPosition(json, line, exception.BytePositionInLine ?? 0) + 1}"
                : string.Empty;
            var path = string.IsNullOrEmpty(exception.Path) || exception.Path == "$" ? string.Empty : $" (JSON path {exception.Path})";
            throw new KnowledgeBaseException(
                $"Knowledge base '{sourceName}' is not valid JSON{where}{path}: {FirstSentence(exception.Message)}",
                exception);
        }

        if (document is null)
        {
            throw new KnowledgeBaseException($"Knowledge base '{sourceName}' is empty (the JSON is null); it must be an object with \"intents\".");
        }

        return new Validator(sourceName).Build(document);
    }

    /// <summary>The intent with this id, or null.</summary>
    public KnowledgeBaseIntent? FindIntent(string id) => _intentsById.GetValueOrDefault(id);

    /// <summary>The position of a language in <see cref="Languages"/>, or -1.</summary>
    internal int LanguageIndexOf(string language) => _languageIndex.TryGetValue(language, out var index) ? index : -1;

    /// <summary>
    /// Maps a customer's language tag ("fr", "FR", "fr-CA", "fr_FR") to one of <see cref="Languages"/>, or null when the
    /// knowledge base has no such language.
    /// </summary>
    public string? ResolveLanguage(string? languageTag)
    {
        if (string.IsNullOrWhiteSpace(languageTag))
        {
            return null;
        }

        var tag = languageTag.Trim().ToLowerInvariant().Replace('_', '-');
        if (_languageIndex.ContainsKey(tag))
        {
            return tag;
        }

        var dash = tag.IndexOf('-', StringComparison.Ordinal);
        return dash > 0 && _languageIndex.ContainsKey(tag[..dash]) ? tag[..dash] : null;
    }

    /// <summary>System.Text.Json reports a byte offset in the line; people count characters ("é" is two bytes).</summary>
    private static long CharacterPosition(string json, long line, long bytePosition)
    {
        var lines = json.Split('\n');
        if (line >= lines.Length)
        {
            return bytePosition;
        }

        var bytes = Encoding.UTF8.GetBytes(lines[line]);
        return Encoding.UTF8.GetCharCount(bytes, 0, (int)Math.Min(bytePosition, bytes.Length));
    }

    private static string FirstSentence(string message)
    {
        // System.Text.Json appends "Path: $.x | LineNumber: 3 | BytePositionInLine: 5."; we report those ourselves.
        var cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    /// <summary>Checks a parsed document and collects every problem before reporting them together.</summary>
    private sealed class Validator(string sourceName)
    {
        private readonly List<string> _problems = [];

        public KnowledgeBase Build(KnowledgeBaseDocument document)
        {
            var name = string.IsNullOrWhiteSpace(document.Name) ? Path.GetFileNameWithoutExtension(sourceName) : document.Name.Trim();

            var threshold = document.Threshold ?? DefaultThreshold;
            if (!(threshold > 0 && threshold < 1))
            {
                Problem($"\"threshold\" is {threshold.ToString(CultureInfo.InvariantCulture)}; it must be between 0 and 1, both excluded " +
                    $"(for example {DefaultThreshold.ToString(CultureInfo.InvariantCulture)}).");
            }

            if (document.Intents is null || document.Intents.Count == 0)
            {
                Problem("it has no intents; add at least one object to \"intents\".");
                Throw();
            }

            var declared = ReadLanguages(document.Languages);
            var languages = declared ?? [];
            var intents = new List<KnowledgeBaseIntent>();
            var positions = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < document.Intents!.Count; i++)
            {
                var intent = ReadIntent(document.Intents[i], i + 1, declared, languages, positions);
                if (intent is not null)
                {
                    intents.Add(intent);
                }
            }

            if (languages.Count == 0)
            {
                Problem("no language has any example; give each intent \"examples\" such as { \"en\": [\"...\"] }.");
            }

            var fallback = ReadFallback(document.Fallback, languages);
            CheckSharedExamples(intents, languages);
            Throw();

            return new KnowledgeBase(name, sourceName, threshold, [.. languages], fallback, intents);
        }

        private List<string>? ReadLanguages(List<string?>? declared)
        {
            if (declared is null)
            {
                return null;
            }

            if (declared.Count == 0)
            {
                Problem("\"languages\" is empty; list the language codes used, for example [\"en\", \"fr\"], or remove it.");
                return null;
            }

            var languages = new List<string>();
            foreach (var raw in declared)
            {
                var language = Language(raw);
                if (language is null)
                {
                    Problem("\"languages\" contains an empty language code.");
                }
                else if (languages.Contains(language))
                {
                    Problem($"\"languages\" lists '{language}' twice.");
                }
                else
                {
                    languages.Add(language);
                }
            }

            return languages;
        }

        private KnowledgeBaseIntent? ReadIntent(IntentDocument? document, int position, List<string>? declared, List<string> languages, Dictionary<string, int> positions)
        {
            if (document is null)
            {
                Problem($"intent #{position} is null; remove it or make it an object.");
                return null;
            }

            var id = document.Id?.Trim();
            if (string.IsNullOrEmpty(id))
            {
                Problem($"intent #{position} has no \"id\".");
                id = $"#{position}";
            }
            else if (positions.TryGetValue(id, out var first))
            {
                Problem($"duplicate intent id '{id}' (intents #{first} and #{position}); each intent needs a unique id.");
            }
            else
            {
                positions.Add(id, position);
            }

            var label = $"intent '{id}'";
            var skill = string.IsNullOrWhiteSpace(document.Skill) ? null : document.Skill.Trim();

            var examples = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            foreach (var (rawLanguage, list) in document.Examples ?? [])
            {
                var language = CheckLanguage(rawLanguage, declared, languages, $"{label} \"examples\"");
                if (language is null)
                {
                    continue;
                }

                if (examples.ContainsKey(language))
                {
                    Problem($"{label} has examples for '{language}' twice (language codes are case-insensitive).");
                    continue;
                }

                var texts = new List<string>();
                var analyzer = LanguageAnalyzer.For(language);
                for (var e = 0; e < (list?.Count ?? 0); e++)
                {
                    var text = list![e];
                    if (string.IsNullOrWhiteSpace(text))
                    {
                        Problem($"{label} has an empty example in '{language}' (#{e + 1}).");
                        continue;
                    }

                    if (LanguageIndex.Analyze(analyzer, text).Stems.Count == 0)
                    {
                        Problem($"{label} example \"{text}\" ({language}) has no meaningful word once stop words are removed; rephrase it.");
                        continue;
                    }

                    texts.Add(text.Trim());
                }

                if (texts.Count > 0)
                {
                    examples.Add(language, texts);
                }
            }

            if (examples.Count == 0)
            {
                Problem($"{label} has no examples; add \"examples\": {{ \"{languages.FirstOrDefault() ?? "en"}\": [\"...\"] }} with a few ways customers ask for it.");
            }

            var answers = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (rawLanguage, text) in document.Answers ?? [])
            {
                var language = CheckLanguage(rawLanguage, declared, languages, $"{label} \"answers\"");
                if (language is null)
                {
                    continue;
                }

                if (string.IsNullOrWhiteSpace(text))
                {
                    Problem($"{label} has an empty answer for '{language}'.");
                }
                else if (!answers.TryAdd(language, text.Trim()))
                {
                    Problem($"{label} has answers for '{language}' twice (language codes are case-insensitive).");
                }
            }

            if (answers.Count == 0)
            {
                Problem($"{label} has no answer; add \"answers\": {{ \"{examples.Keys.FirstOrDefault() ?? "en"}\": \"...\" }}.");
            }
            else
            {
                foreach (var language in examples.Keys.Where(language => !answers.ContainsKey(language)))
                {
                    Problem($"{label} has examples in '{language}' but no answer in '{language}'; add \"answers\": {{ \"{language}\": \"...\" }} or remove those examples.");
                }
            }

            return new KnowledgeBaseIntent(id, skill, examples.ToFrozenDictionary(StringComparer.Ordinal), answers.ToFrozenDictionary(StringComparer.Ordinal));
        }

        private Dictionary<string, string> ReadFallback(Dictionary<string, string?>? document, List<string> languages)
        {
            var fallback = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (rawLanguage, text) in document ?? [])
            {
                var language = Language(rawLanguage);
                if (language is null)
                {
                    Problem("\"fallback\" has an empty language code.");
                }
                else if (!languages.Contains(language))
                {
                    Problem($"\"fallback\" has a text for '{language}', which is not one of the languages ({string.Join(", ", languages)}).");
                }
                else if (string.IsNullOrWhiteSpace(text))
                {
                    Problem($"\"fallback\" text for '{language}' is empty.");
                }
                else
                {
                    fallback[language] = text.Trim();
                }
            }

            foreach (var language in languages.Where(language => !fallback.ContainsKey(language)))
            {
                Problem($"fallback missing for language '{language}'; add \"fallback\": {{ \"{language}\": \"...\" }} " +
                    "(what the bot says when it does not understand).");
            }

            return fallback;
        }

        private void CheckSharedExamples(List<KnowledgeBaseIntent> intents, List<string> languages)
        {
            foreach (var language in languages)
            {
                var owners = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var intent in intents)
                {
                    foreach (var example in intent.Examples.GetValueOrDefault(language) ?? [])
                    {
                        var key = TextNormalizer.Normalize(example);
                        if (owners.TryGetValue(key, out var owner) && owner != intent.Id)
                        {
                            Problem($"example \"{example}\" ({language}) belongs to both intent '{owner}' and intent '{intent.Id}'; keep it in one.");
                        }
                        else
                        {
                            owners.TryAdd(key, intent.Id);
                        }
                    }
                }
            }
        }

        /// <summary>Normalizes a language key and checks it against the declared list; learns languages when there is none.</summary>
        private string? CheckLanguage(string rawLanguage, List<string>? declared, List<string> languages, string where)
        {
            var language = Language(rawLanguage);
            if (language is null)
            {
                Problem($"{where} has an empty language code.");
                return null;
            }

            if (declared is not null && !declared.Contains(language))
            {
                Problem($"{where} uses language '{language}', which is not in \"languages\" ({string.Join(", ", declared)}); add it there or fix the code.");
                return null;
            }

            if (!languages.Contains(language))
            {
                languages.Add(language);
            }

            return language;
        }

        private static string? Language(string? raw) =>
            string.IsNullOrWhiteSpace(raw) ? null : raw.Trim().ToLowerInvariant();

        private void Problem(string problem) => _problems.Add(problem);

        private void Throw()
        {
            if (_problems.Count == 0)
            {
                return;
            }

            var heading = _problems.Count == 1
                ? $"Knowledge base '{sourceName}' is invalid: "
                : $"Knowledge base '{sourceName}' is invalid ({_problems.Count} problems):{Environment.NewLine}- ";
            throw new KnowledgeBaseException(heading + string.Join(Environment.NewLine + "- ", _problems));
        }
    }
}
