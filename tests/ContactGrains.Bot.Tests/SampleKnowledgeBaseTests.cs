namespace ContactGrains.Bot.Tests;

/// <summary>The knowledge base shipped with the library, as copied next to any project that references it.</summary>
public sealed class SampleKnowledgeBaseTests
{
    private static readonly string[] RequiredIntents =
    [
        "refund_status", "payment_due_date", "delivery_tracking", "address_change", "invoice_copy", "password_reset",
        "order_cancellation", "return_item", "payment_failed", "change_payment_method", "account_closure", "opening_hours",
        "damaged_item", "missing_item", "promo_code", "pay_in_installments", "update_email", "card_charged_twice",
    ];

    [Fact]
    public void Default_path_points_to_the_knowledge_folder_next_to_the_application()
    {
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "knowledge", "retail-payments.json"), KnowledgeBase.DefaultPath);
        Assert.True(File.Exists(KnowledgeBase.DefaultPath), $"{KnowledgeBase.DefaultPath} was not copied to the output");
    }

    [Fact]
    public void Sample_knowledge_base_loads_from_default_path_with_at_least_fifteen_intents_in_english_and_french()
    {
        var kb = KnowledgeBase.Load(KnowledgeBase.DefaultPath);

        Assert.Equal(["en", "fr"], kb.Languages);
        Assert.True(kb.Intents.Count(intent => intent.Examples.ContainsKey("en") && intent.Answers.ContainsKey("en")) >= 15);
        Assert.True(kb.Intents.Count(intent => intent.Examples.ContainsKey("fr") && intent.Answers.ContainsKey("fr")) >= 15);
        Assert.Equal(0.45, kb.Threshold);
        Assert.False(string.IsNullOrWhiteSpace(kb.Name));
        Assert.False(string.IsNullOrWhiteSpace(kb.Fallback["en"]));
        Assert.False(string.IsNullOrWhiteSpace(kb.Fallback["fr"]));
    }

    [Fact]
    public void Sample_knowledge_base_has_every_required_intent()
    {
        var ids = SampleBot.KnowledgeBase.Intents.Select(intent => intent.Id).ToHashSet(StringComparer.Ordinal);

        Assert.All(RequiredIntents, id => Assert.Contains(id, ids));
    }

    [Fact]
    public void Every_sample_intent_has_a_skill_six_to_ten_examples_and_an_answer_per_language()
    {
        Assert.All(SampleBot.KnowledgeBase.Intents, intent =>
        {
            Assert.False(string.IsNullOrWhiteSpace(intent.Skill), intent.Id);
            foreach (var language in SampleBot.KnowledgeBase.Languages)
            {
                Assert.InRange(intent.Examples[language].Count, 6, 10);
                Assert.True(intent.Answers[language].Length > 80, $"{intent.Id} ({language}) has a thin answer");
            }
        });
    }

    [Fact]
    public void Every_sample_example_reaches_its_own_intent_with_full_confidence()
    {
        var failures = new List<string>();
        foreach (var intent in SampleBot.KnowledgeBase.Intents)
        {
            foreach (var (language, examples) in intent.Examples)
            {
                foreach (var example in examples)
                {
                    var reply = SampleBot.Reply(example);
                    if (reply.IntentId != intent.Id || reply.Confidence != 1.0 || !reply.Understood || reply.Language != language)
                    {
                        failures.Add($"{example} -> {reply.IntentId} {reply.Confidence} {reply.Language}");
                    }
                }
            }
        }

        Assert.Empty(failures);
    }
}
