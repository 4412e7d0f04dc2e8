using ContactGrains.Bot.Text;

namespace ContactGrains.Bot.Tests;

/// <summary>
/// Customer phrasings that are not in the knowledge base verbatim must still reach the right intent, with the answer
/// in the language the customer wrote in (no preferred language given, so detection alone decides).
/// </summary>
public sealed class ParaphraseTests
{
    public static TheoryData<string, string, string> PlainParaphrases => new()
    {
        { "has my money been refunded yet", "refund_status", "en" },
        { "when do i get reimbursed for my return", "refund_status", "en" },
        { "due date for my payment?", "payment_due_date", "en" },
        { "by when must i pay this month's bill", "payment_due_date", "en" },
        { "quelle est la date limite pour payer", "payment_due_date", "fr" },
        { "tracking number for my order please", "delivery_tracking", "en" },
        { "je veux suivre ma commande", "delivery_tracking", "fr" },
        { "i moved house, new address for my orders", "address_change", "en" },
        { "mon adresse est fausse sur la commande", "address_change", "fr" },
        { "send me a copy of my invoice", "invoice_copy", "en" },
        { "je voudrais une copie de ma facture", "invoice_copy", "fr" },
        { "i cant login", "password_reset", "en" },
        { "please cancel the order i just placed", "order_cancellation", "en" },
        { "je souhaite annuler mon achat", "order_cancellation", "fr" },
        { "how can i send an item back", "return_item", "en" },
        { "comment renvoyer un article", "return_item", "fr" },
        { "je veux faire un retour", "return_item", "fr" },
        { "my payment keeps failing", "payment_failed", "en" },
        { "update my payment method", "change_payment_method", "en" },
        { "changer ma carte bancaire", "change_payment_method", "fr" },
        { "modifier mon moyen de paiement", "change_payment_method", "fr" },
        { "close my account please", "account_closure", "en" },
        { "je veux supprimer mon compte", "account_closure", "fr" },
        { "what time do you open?", "opening_hours", "en" },
        { "the item i received is broken", "damaged_item", "en" },
        { "my parcel arrived damaged", "damaged_item", "en" },
        { "one item is missing from my parcel", "missing_item", "en" },
        { "il manque un produit dans mon colis", "missing_item", "fr" },
        { "promo code not working", "promo_code", "en" },
        { "can i pay in 3 installments", "pay_in_installments", "en" },
        { "payer en 3 fois", "pay_in_installments", "fr" },
        { "change my email", "update_email", "en" },
        { "changer mon adresse mail", "update_email", "fr" },
        { "i was charged two times", "card_charged_twice", "en" },
        { "i don't recognise this payment", "suspicious_transaction", "en" },
        { "fraud on my card", "suspicious_transaction", "en" },
        { "how much is shipping", "shipping_costs", "en" },
        { "frais de livraison", "shipping_costs", "fr" },
        { "talk to a human", "speak_to_agent", "en" },
        { "i want a real person", "speak_to_agent", "en" },
        { "je veux un humain", "speak_to_agent", "fr" },
    };

    public static TheoryData<string, string, string> TypoParaphrases => new()
    {
        { "i still havent got my refnud", "refund_status", "en" },
        { "were is my parcel", "delivery_tracking", "en" },
        { "where is my pakage", "delivery_tracking", "en" },
        { "change my adress", "address_change", "en" },
        { "download invoce", "invoice_copy", "en" },
        { "forgot my pasword", "password_reset", "en" },
        { "cancell my order", "order_cancellation", "en" },
        { "je n'ai toujours rien recu, rembourssement en attente", "refund_status", "fr" },
        { "paiement frauduleux", "suspicious_transaction", "fr" },
    };

    public static TheoryData<string, string, string> ParaphrasesWithoutAccents => new()
    {
        { "quand est-ce que je serai rembourse", "refund_status", "fr" },
        { "toujours pas rembourse pour mon retour", "refund_status", "fr" },
        { "ou est mon colis", "delivery_tracking", "fr" },
        { "quand est-ce que mon colis sera livre", "delivery_tracking", "fr" },
        { "je voudrais modifier mon adresse de livraison", "address_change", "fr" },
        { "telecharger ma facture en pdf", "invoice_copy", "fr" },
        { "mot de passe oublie", "password_reset", "fr" },
        { "je narrive plus a me connecter", "password_reset", "fr" },
        { "paiement refuse", "payment_failed", "fr" },
        { "ma carte est refusee lors du paiement", "payment_failed", "fr" },
        { "article recu casse", "damaged_item", "fr" },
        { "mon produit est arrive abime", "damaged_item", "fr" },
        { "mon code de reduction ne marche pas", "promo_code", "fr" },
        { "j'ai ete preleve deux fois", "card_charged_twice", "fr" },
        { "debite 2 fois", "card_charged_twice", "fr" },
        { "je ne reconnais pas ce debit", "suspicious_transaction", "fr" },
        { "parler a un conseiller", "speak_to_agent", "fr" },
        { "livraison gratuite a partir de combien ?", "shipping_costs", "fr" },
    };

    public static TheoryData<string, string, string> ParaphrasesWithOtherOrderCasingOrPunctuation => new()
    {
        { "REFUND??? where is it", "refund_status", "en" },
        { "ANNULER MA COMMANDE SVP!!!", "order_cancellation", "fr" },
        { "account: delete", "account_closure", "en" },
        { "opening hours", "opening_hours", "en" },
        { "vos horaires svp", "opening_hours", "fr" },
        { "an article was missing in the box", "missing_item", "en" },
        { "article manquant", "missing_item", "fr" },
        { "my discount code doesnt work", "promo_code", "en" },
        { "pay in instalments", "pay_in_installments", "en" },
        { "paiement en plusieurs fois possible ?", "pay_in_installments", "fr" },
        { "update email address", "update_email", "en" },
        { "charged twice for my order", "card_charged_twice", "en" },
        { "card declined at checkout", "payment_failed", "en" },
        { "delivery fees", "shipping_costs", "en" },
    };

    public static TheoryData<string, string, string> ChattyMessages => new()
    {
        { "Hi there, I ordered a blender last Monday and it still hasn't arrived, any news?", "delivery_tracking", "en" },
        { "I paid for my order but the money was taken twice from my bank account", "card_charged_twice", "en" },
        { "hey my card keeps getting declined when i try to pay, what should i do?", "payment_failed", "en" },
        { "Je souhaiterais savoir s'il est possible de régler mon achat en plusieurs mensualités", "pay_in_installments", "fr" },
        { "I moved last month, how do I update the address for future deliveries?", "address_change", "en" },
        { "Could you tell me until what time your phone line is open today?", "opening_hours", "en" },
        { "Je n'ai pas reçu le mail pour changer mon mot de passe", "password_reset", "fr" },
        { "there are charges on my account i never made", "suspicious_transaction", "en" },
        { "is delivery free if i spend over 50 euros?", "shipping_costs", "en" },
        { "I would like to speak to someone, this bot is useless", "speak_to_agent", "en" },
        { "what's the return window for shoes?", "return_item", "en" },
        { "I entered the wrong discount code", "promo_code", "en" },
        { "my e-mail changed, please update it", "update_email", "en" },
        { "je voudrais parler à quelqu'un de votre service client", "speak_to_agent", "fr" },
    };

    [Theory]
    [MemberData(nameof(PlainParaphrases))]
    public void Paraphrase_reaches_its_intent_in_the_language_written(string text, string intentId, string language) =>
        AssertUnderstood(text, intentId, language);

    [Theory]
    [MemberData(nameof(TypoParaphrases))]
    public void Paraphrase_with_typos_reaches_its_intent(string text, string intentId, string language) =>
        AssertUnderstood(text, intentId, language);

    [Theory]
    [MemberData(nameof(ParaphrasesWithoutAccents))]
    public void Paraphrase_without_accents_reaches_its_intent(string text, string intentId, string language) =>
        AssertUnderstood(text, intentId, language);

    [Theory]
    [MemberData(nameof(ParaphrasesWithOtherOrderCasingOrPunctuation))]
    public void Paraphrase_with_other_word_order_casing_or_punctuation_reaches_its_intent(string text, string intentId, string language) =>
        AssertUnderstood(text, intentId, language);

    [Theory]
    [MemberData(nameof(ChattyMessages))]
    public void Chatty_message_with_extra_words_reaches_its_intent(string text, string intentId, string language) =>
        AssertUnderstood(text, intentId, language);

    [Fact]
    public void Paraphrase_with_typos_reaches_refund_status()
    {
        var reply = SampleBot.Reply("i still havent got my refnud");

        Assert.True(reply.Understood);
        Assert.Equal("refund_status", reply.IntentId);
        Assert.Equal("billing", reply.Skill);
    }

    [Fact]
    public void Misspelled_where_reaches_delivery_tracking()
    {
        var reply = SampleBot.Reply("were is my parcel");

        Assert.True(reply.Understood);
        Assert.Equal("delivery_tracking", reply.IntentId);
        Assert.Equal("delivery", reply.Skill);
    }

    [Fact]
    public void Missing_accents_reach_the_same_intent_and_score_as_accented_text()
    {
        var withAccents = SampleBot.Reply("Où est mon colis ? Il n'est toujours pas arrivé");
        var withoutAccents = SampleBot.Reply("ou est mon colis ? il n'est toujours pas arrive");

        Assert.Equal("delivery_tracking", withAccents.IntentId);
        Assert.Equal(withAccents, withoutAccents);
    }

    [Fact]
    public void Paraphrase_tables_cover_at_least_forty_cases_fifteen_intents_and_both_languages()
    {
        var cases = AllCases().ToList();

        Assert.True(cases.Count >= 40, $"only {cases.Count} cases");
        Assert.True(cases.Select(c => c.IntentId).Distinct().Count() >= 15);
        Assert.Contains(cases, c => c.Language == "en");
        Assert.Contains(cases, c => c.Language == "fr");
    }

    [Fact]
    public void No_paraphrase_is_an_example_of_the_knowledge_base_verbatim()
    {
        var examples = SampleBot.KnowledgeBase.Intents
            .SelectMany(intent => intent.Examples.Values.SelectMany(list => list))
            .Select(TextNormalizer.Normalize)
            .ToHashSet(StringComparer.Ordinal);

        var verbatim = AllCases().Where(c => examples.Contains(TextNormalizer.Normalize(c.Text))).Select(c => c.Text).ToList();

        Assert.Empty(verbatim);
    }

    private static void AssertUnderstood(string text, string intentId, string language)
    {
        var reply = SampleBot.Reply(text);
        var intent = SampleBot.KnowledgeBase.FindIntent(intentId)!;

        Assert.Equal(intentId, reply.IntentId);
        Assert.True(reply.Understood, $"'{text}' reached {reply.IntentId} with confidence {reply.Confidence}, below the threshold");
        Assert.Equal(language, reply.Language);
        Assert.Equal(intent.Answers[language], reply.Text);
        Assert.Equal(intent.Skill, reply.Skill);
        Assert.InRange(reply.Confidence, SampleBot.Bot.Threshold, 1.0);
    }

    private static IEnumerable<(string Text, string IntentId, string Language)> AllCases() =>
        new[] { PlainParaphrases, TypoParaphrases, ParaphrasesWithoutAccents, ParaphrasesWithOtherOrderCasingOrPunctuation, ChattyMessages }
            .SelectMany(data => data)
            .Select(row => ((string)row[0], (string)row[1], (string)row[2]));
}
