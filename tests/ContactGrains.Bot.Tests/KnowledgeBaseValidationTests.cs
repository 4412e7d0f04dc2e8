namespace ContactGrains.Bot.Tests;

/// <summary>A broken knowledge base file is rejected with a message that says what to fix.</summary>
public sealed class KnowledgeBaseValidationTests
{
    private const string Source = "test-kb.json";

    private const string ValidJson = """
        {
          "name": "Test KB",
          "threshold": 0.4,
          "languages": ["en", "fr"],
          "fallback": { "en": "Sorry?", "fr": "Pardon ?" },
          "intents": [
            {
              "id": "refund_status",
              "skill": "billing",
              "examples": { "en": ["where is my refund"], "fr": ["où est mon remboursement"] },
              "answers": { "en": "Refunds take 5 days.", "fr": "Les remboursements prennent 5 jours." }
            },
            {
              "id": "delivery_tracking",
              "skill": "delivery",
              "examples": { "en": ["track my parcel"], "fr": ["suivre mon colis"] },
              "answers": { "en": "Track it in your account.", "fr": "Suivez-le dans votre compte." }
            }
          ]
        }
        """;

    [Fact]
    public void Valid_knowledge_base_exposes_its_content()
    {
        var kb = KnowledgeBase.Parse(ValidJson, Source);

        Assert.Equal("Test KB", kb.Name);
        Assert.Equal(Source, kb.SourceName);
        Assert.Equal(0.4, kb.Threshold);
        Assert.Equal(["en", "fr"], kb.Languages);
        Assert.Equal(["refund_status", "delivery_tracking"], kb.Intents.Select(intent => intent.Id));
        Assert.Equal("billing", kb.Intents[0].Skill);
        Assert.Equal(["where is my refund"], kb.Intents[0].Examples["en"]);
        Assert.Equal("Les remboursements prennent 5 jours.", kb.Intents[0].Answers["fr"]);
        Assert.Equal("Pardon ?", kb.Fallback["fr"]);
        Assert.Same(kb.Intents[1], kb.FindIntent("delivery_tracking"));
        Assert.Null(kb.FindIntent("nope"));
    }

    [Fact]
    public void Missing_file_is_reported_with_its_full_path()
    {
        var relative = Path.Combine("no-such-folder", "missing-kb.json");

        var error = Assert.Throws<KnowledgeBaseException>(() => KnowledgeBase.Load(relative));

        Assert.Contains("not found", error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.GetFullPath(relative), error.Message, StringComparison.Ordinal);
        Assert.Contains("ContactGrains:Bot:KnowledgeBasePath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_json_is_reported_with_line_and_position()
    {
        // Line 3 is `  "threshold": 0.4,,`: the second comma is its 20th character.
        const string json = "{\n  \"name\": \"x\",\n  \"threshold\": 0.4,,\n  \"intents\": []\n}";

        var error = Assert.Throws<KnowledgeBaseException>(() => KnowledgeBase.Parse(json, Source));

        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
        Assert.Contains("line 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("position 20", error.Message, StringComparison.Ordinal);
        Assert.Contains(Source, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_json_position_counts_characters_not_bytes()
    {
        // "é" takes two bytes in UTF-8: the stray "x" is the 16th byte but the 15th character of line 2.
        const string json = "{\n  \"name\": \"é\" x\n}";

        var error = Assert.Throws<KnowledgeBaseException>(() => KnowledgeBase.Parse(json, Source));

        Assert.Contains("line 2, position 15", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_value_type_is_reported_with_its_json_path()
    {
        var json = ValidJson.Replace("\"threshold\": 0.4", "\"threshold\": \"high\"", StringComparison.Ordinal);

        var error = Assert.Throws<KnowledgeBaseException>(() => KnowledgeBase.Parse(json, Source));

        Assert.Contains("$.threshold", error.Message, StringComparison.Ordinal);
        Assert.Contains("line 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Misspelled_property_is_reported_by_name()
    {
        var json = ValidJson.Replace("\"examples\": { \"en\": [\"track", "\"exemples\": { \"en\": [\"track", StringComparison.Ordinal);

        var error = Assert.Throws<KnowledgeBaseException>(() => KnowledgeBase.Parse(json, Source));

        Assert.Contains("exemples", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"intents\": []")]
    [InlineData("\"intents\": null")]
    public void Knowledge_base_without_intents_is_rejected(string intents)
    {
        var json = $$"""{ "name": "x", "fallback": { "en": "?" }, {{intents}} }""";

        var error = Assert.Throws<KnowledgeBaseException>(() => KnowledgeBase.Parse(json, Source));

        Assert.Contains("no intents", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_intent_ids_are_rejected_with_both_positions()
    {
        var json = ValidJson.Replace("\"id\": \"delivery_tracking\"", "\"id\": \"refund_status\"", StringComparison.Ordinal);

        var error = Assert.Throws<KnowledgeBaseException>(() => KnowledgeBase.Parse(json, Source));

        Assert.Contains("duplicate intent id 'refund_status'", error.Message, StringComparison.Ordinal);
        Assert.Contains("#1 and #2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Intent_without_id_is_rejected()
    {
        var json = ValidJson.Replace("\"id\": \"delivery_tracking\",", string.Empty, StringComparison.Ordinal);

        var error = Assert.Throws<KnowledgeBaseException>(() => KnowledgeBase.Parse(json, Source));

        Assert.Contains("intent #2 has no \"id\"", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"examples\": { \"en\": [\"track my parcel\"], \"fr\": [\"suivre mon colis\"] },", "")]
    [InlineData("\"examples\": { \"en\": [\"track my parcel\"], \"fr\": [\"suivre mon colis\"] },", "\"examples\": { \"en\": [], \"fr\": [] },")]
    public void Intent_without_examples_is_rejected(string examples, string replacement)
    {
        var json = ValidJson.Replace(examples, replacement, StringComparison.Ordinal);

        var error = Assert.Throws<KnowledgeBaseException>(() => KnowledgeBase.Parse(json, Source));

        Assert.Contains("intent 'delivery_tracking' has no examples", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Intent_without_answer_is_rejected()
    {
        var json = ValidJson.Replace(
            ",\n      \"answers\": { \"en\": \"Track it in your account.\", \"fr\": \"Suivez-le dans votre compte.\" }",
            string.Empty,
            StringComparison.Ordinal);

        var error = Assert.Throws<KnowledgeBaseException>(() => KnowledgeBase.Parse(json, Source));

        Assert.Contains("intent 'delivery_tracking' has no answer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Example_language_without_answer_in_that_language_is_rejected()
    {
        var json = ValidJson.Replace(", \"fr\": \"Suivez-le dans votre compte.\"", string.Empty, StringComparison.Ordinal);

        var error = Assert.Throws<KnowledgeBaseException>(() => KnowledgeBase.Parse(json, Source));

        Assert.Contains("intent 'delivery_tracking' has examples in 'fr' but no answer in 'fr'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("-0.2")]
    [InlineData("1.5")]
    public void Threshold_outside_zero_to_one_is_rejected(string threshold)
    {
        var json = ValidJson.Replace("\"threshold\": 0.4", $"\"threshold\": {threshold}", StringComparison.Ordinal);

        var error = Assert.Throws<KnowledgeBaseException>(() => KnowledgeBase.Parse(json, Source));

        Assert.Contains($"\"threshold\" is {threshold}", error.Message, StringComparison.Ordinal);
        Assert.Contains("between 0 and 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_threshold_defaults_to_the_documented_value()
    {
        var json = ValidJson.Replace("\"threshold\": 0.4,", string.Empty, StringComparison.Ordinal);

        Assert.Equal(KnowledgeBase.DefaultThreshold, KnowledgeBase.Parse(json, Source).Threshold);
    }

    [Fact]
    public void Missing_fallback_for_a_language_used_is_rejected()
    {
        var json = ValidJson.Replace(", \"fr\": \"Pardon ?\"", string.Empty, StringComparison.Ordinal);

        var error = Assert.Throws<KnowledgeBaseException>(() => KnowledgeBase.Parse(json, Source));

        Assert.Contains("fallback missing for language 'fr'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_fallback_is_detected_for_inferred_languages_too()
    {
        var json = ValidJson
            .Replace("\"languages\": [\"en\", \"fr\"],", string.Empty, StringComparison.Ordinal)
            .Replace(", \"fr\": \"Pardon ?\"", string.Empty, StringComparison.Ordinal);

        var error = Assert.Throws<KnowledgeBaseException>(() => KnowledgeBase.Parse(json, Source));

        Assert.Contains("fallback missing for language 'fr'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Languages_are_inferred_in_order_of_appearance_when_not_listed()
    {
        var json = ValidJson.Replace("\"languages\": [\"en\", \"fr\"],", string.Empty, StringComparison.Ordinal);

        Assert.Equal(["en", "fr"], KnowledgeBase.Parse(json, Source).Languages);
    }

    [Fact]
    public void Language_not_listed_in_languages_is_rejected()
    {
        var json = ValidJson.Replace("\"languages\": [\"en\", \"fr\"]", "\"languages\": [\"en\"]", StringComparison.Ordinal);

        var error = Assert.Throws<KnowledgeBaseException>(() => KnowledgeBase.Parse(json, Source));

        Assert.Contains("uses language 'fr', which is not in \"languages\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Example_made_only_of_stop_words_is_rejected()
    {
        var json = ValidJson.Replace("[\"track my parcel\"]", "[\"track my parcel\", \"is it ok?\"]", StringComparison.Ordinal);

        var error = Assert.Throws<KnowledgeBaseException>(() => KnowledgeBase.Parse(json, Source));

        Assert.Contains("\"is it ok?\" (en) has no meaningful word", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Example_shared_by_two_intents_is_rejected()
    {
        var json = ValidJson.Replace("[\"track my parcel\"]", "[\"track my parcel\", \"Where is my REFUND?\"]", StringComparison.Ordinal);

        var error = Assert.Throws<KnowledgeBaseException>(() => KnowledgeBase.Parse(json, Source));

        Assert.Contains("belongs to both intent 'refund_status' and intent 'delivery_tracking'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var json = ValidJson
            .Replace("\"threshold\": 0.4", "\"threshold\": 2", StringComparison.Ordinal)
            .Replace("\"id\": \"delivery_tracking\"", "\"id\": \"refund_status\"", StringComparison.Ordinal)
            .Replace(", \"fr\": \"Pardon ?\"", string.Empty, StringComparison.Ordinal);

        var error = Assert.Throws<KnowledgeBaseException>(() => KnowledgeBase.Parse(json, Source));

        Assert.Contains("3 problems", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"threshold\" is 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("duplicate intent id 'refund_status'", error.Message, StringComparison.Ordinal);
        Assert.Contains("fallback missing for language 'fr'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_reads_a_file_and_names_the_knowledge_base_after_it_when_unnamed()
    {
        var path = Path.Combine(Path.GetTempPath(), $"contactgrains-kb-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, ValidJson.Replace("\"name\": \"Test KB\",", string.Empty, StringComparison.Ordinal));
        try
        {
            var kb = KnowledgeBase.Load(path);

            Assert.Equal(Path.GetFileNameWithoutExtension(path), kb.Name);
            Assert.Equal(Path.GetFullPath(path), kb.SourceName);
            Assert.Equal(2, kb.Intents.Count);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Json_comments_and_trailing_commas_are_accepted()
    {
        var json = ValidJson
            .Replace("\"name\": \"Test KB\",", "// A hand-edited file.\n  \"name\": \"Test KB\",", StringComparison.Ordinal)
            .Replace("\"fr\": \"Pardon ?\" }", "\"fr\": \"Pardon ?\", }", StringComparison.Ordinal);

        Assert.Equal("Test KB", KnowledgeBase.Parse(json, Source).Name);
    }

    [Fact]
    public void Knowledge_base_from_json_answers_like_the_sample()
    {
        var bot = new KnowledgeBaseBot(KnowledgeBase.Parse(ValidJson, Source));

        var reply = bot.Reply(new BotRequest("Where's my parcel? I want to track it", null));

        Assert.True(reply.Understood);
        Assert.Equal("delivery_tracking", reply.IntentId);
        Assert.Equal("Track it in your account.", reply.Text);
    }
}
