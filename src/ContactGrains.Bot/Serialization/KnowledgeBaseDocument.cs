using System.Text.Json.Serialization;

namespace ContactGrains.Bot.Serialization;

/// <summary>The knowledge base file exactly as written; <see cref="KnowledgeBase.Parse"/> validates it.</summary>
internal sealed class KnowledgeBaseDocument
{
    public string? Name { get; set; }

    public double? Threshold { get; set; }

    public List<string?>? Languages { get; set; }

    public Dictionary<string, string?>? Fallback { get; set; }

    public List<IntentDocument?>? Intents { get; set; }
}

/// <summary>One intent as written in the file.</summary>
internal sealed class IntentDocument
{
    public string? Id { get; set; }

    public string? Skill { get; set; }

    public Dictionary<string, List<string?>?>? Examples { get; set; }

    public Dictionary<string, string?>? Answers { get; set; }
}

/// <summary>Reflection-free (source-generated) reader for knowledge base files.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    AllowDuplicateProperties = false,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(KnowledgeBaseDocument))]
internal sealed partial class KnowledgeBaseJsonContext : JsonSerializerContext
{
}
