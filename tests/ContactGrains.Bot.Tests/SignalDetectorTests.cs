using ContactGrains.Bot.Signals;

namespace ContactGrains.Bot.Tests;

/// <summary>The detector's rules on messages as customers write them, traps included.</summary>
public sealed class SignalDetectorTests
{
    private static readonly LexiconSignalDetector Detector = new();

    public static TheoryData<string, string, HumanRequest> HumanRequests => new()
    {
        // Single words and short forms.
        { "agent", "en", HumanRequest.Explicit },
        { "Human!", "en", HumanRequest.Explicit },
        { "representative please", "en", HumanRequest.Explicit },
        { "operator", "en", HumanRequest.Explicit },
        { "conseiller", "fr", HumanRequest.Explicit },
        { "un humain svp", "fr", HumanRequest.Explicit },
        { "Opérateur !", "fr", HumanRequest.Explicit },
        // Long requests.
        { "Can I please speak to a real person about my order?", "en", HumanRequest.Explicit },
        { "I'd like to talk to someone from your team", "en", HumanRequest.Explicit },
        { "is there an actual human I can chat with", "en", HumanRequest.Explicit },
        { "Put me through to customer service please", "en", HumanRequest.Explicit },
        { "why can't I talk to a person", "en", HumanRequest.Explicit },
        { "I don't want the bot, I want an agent", "en", HumanRequest.Explicit },
        { "Je voudrais parler à un conseiller", "fr", HumanRequest.Explicit },
        { "est-ce que je peux avoir quelqu'un au téléphone ?", "fr", HumanRequest.Explicit },
        { "Mettez-moi en relation avec une vraie personne", "fr", HumanRequest.Explicit },
        { "pourquoi je ne peux pas parler à un humain", "fr", HumanRequest.Explicit },
        // Declined.
        { "I don't need an adviser, just tell me where my refund is", "en", HumanRequest.Negated },
        { "no need for an agent, what are your opening hours?", "en", HumanRequest.Negated },
        { "Je n'ai pas besoin d'un conseiller, juste savoir où est mon colis", "fr", HumanRequest.Negated },
        { "pas besoin d'un humain, c'est quoi les frais de livraison", "fr", HumanRequest.Negated },
        // Other senses of the same words.
        { "The delivery agent left my parcel at the neighbour's", "en", HumanRequest.None },
        { "I need an invoice for human resources", "en", HumanRequest.None },
        { "A person at the door signed for my parcel but it's not mine", "en", HumanRequest.None },
        { "my browser's user agent is blocking the payment page", "en", HumanRequest.None },
        { "Personne ne m'a répondu pour mon remboursement", "fr", HumanRequest.None },
        { "l'agent de livraison a laissé le colis devant la porte", "fr", HumanRequest.None },
        { "Where is my refund?", "en", HumanRequest.None },
    };

    [Theory]
    [MemberData(nameof(HumanRequests))]
    public void Requests_for_a_human_are_told_from_declined_ones_and_other_senses(string text, string language, HumanRequest expected) =>
        Assert.Equal(expected, Detector.Detect(text, language).HumanRequest);

    [Fact]
    public void A_declined_human_leaves_what_the_customer_asked_instead()
    {
        var signals = Detector.Detect("I don't need an adviser, just tell me where my refund is", "en");
        Assert.Equal("tell me where my refund is", signals.Remainder);
        Assert.Equal("an adviser", signals.HumanCue);
    }

    public static TheoryData<string, string, string?> Topics => new()
    {
        { "There's a payment on my card I don't recognise", "en", "fraud" },
        { "someone used my card to buy things, it wasn't me", "en", "fraud" },
        { "I want to dispute this charge", "en", "dispute" },
        { "My husband passed away last month and the account is in his name", "en", "bereavement" },
        { "I lost my job and can't pay this month", "en", "hardship" },
        { "I'll be contacting my lawyer about this", "en", "legal" },
        { "I want to make a formal complaint", "en", "complaint" },
        { "Please delete my data under GDPR", "en", "data-protection" },
        { "Il y a un prélèvement que je ne reconnais pas", "fr", "fraud" },
        { "Ma mère est décédée, je voudrais fermer son compte", "fr", "bereavement" },
        { "je n'ai plus les moyens de payer, je suis au chômage", "fr", "hardship" },
        { "je vais saisir le tribunal", "fr", "legal" },
        { "je souhaite faire une réclamation", "fr", "complaint" },
        { "supprimez mes données personnelles (RGPD)", "fr", "data-protection" },
        // Traps.
        { "My phone died while I was paying, did it go through?", "en", null },
        { "The box broke in transit", "en", null },
        { "I'm not complaining, just asking when my parcel comes", "en", null },
        { "je suis payé en fin de mois, je peux payer en plusieurs fois ?", "fr", null },
        { "Hi Sue here, where is my parcel?", "en", null },
    };

    [Theory]
    [MemberData(nameof(Topics))]
    public void Sensitive_topics_are_named_and_other_senses_are_not(string text, string language, string? topic) =>
        Assert.Equal(topic, Detector.Detect(text, language).SensitiveTopic);

    public static TheoryData<string, string, bool> Anger => new()
    {
        { "THIS IS THE THIRD TIME I ASK WHERE MY REFUND IS", "en", true },
        { "This is ridiculous, still no refund after 3 weeks!!!", "en", true },
        { "you are useless, I'm taking my business elsewhere", "en", true },
        { "C'est inadmissible, toujours pas de remboursement !!!", "fr", true },
        { "vous êtes nuls, je vais voir ailleurs", "fr", true },
        // Not anger.
        { "Hi, I need my INVOICE for March", "en", false },
        { "Thanks!", "en", false },
        { "Where is my parcel?", "en", false },
        { "Bonjour ! Où est mon colis ?", "fr", false },
        { "I ordered the XL size but got M", "en", false },
    };

    [Theory]
    [MemberData(nameof(Anger))]
    public void Anger_comes_from_shouting_insults_threats_and_exasperation_not_from_one_capital_word_or_one_mark(string text, string language, bool angry) =>
        Assert.Equal(angry, Detector.Detect(text, language).Anger >= 0.6);

    [Theory]
    [InlineData("hello", "en", true)]
    [InlineData("Thanks a lot, have a great day", "en", true)]
    [InlineData("ok", "en", true)]
    [InlineData("Bonjour", "fr", true)]
    [InlineData("merci beaucoup, bonne journée", "fr", true)]
    [InlineData("hello where is my refund", "en", false)]
    public void Greetings_and_thanks_are_small_talk(string text, string language, bool smallTalk) =>
        Assert.Equal(smallTalk, Detector.Detect(text, language).IsSmallTalk);

    [Theory]
    [InlineData("that didn't help at all", "en", true)]
    [InlineData("That's not what I asked", "en", true)]
    [InlineData("ça ne m'aide pas", "fr", true)]
    [InlineData("ce n'est pas ma question", "fr", true)]
    [InlineData("that helped, thanks", "en", false)]
    public void Saying_the_answer_did_not_help_is_recognised(string text, string language, bool didNotHelp) =>
        Assert.Equal(didNotHelp, Detector.Detect(text, language).SaysItDidNotHelp);

    [Theory]
    [InlineData("I always prefer talking to a real person", "en", true)]
    [InlineData("I hate bots", "en", true)]
    [InlineData("je préfère parler à un humain", "fr", true)]
    [InlineData("I prefer delivery on Saturdays", "en", false)]
    public void A_preference_for_humans_is_recognised(string text, string language, bool prefers) =>
        Assert.Equal(prefers, Detector.Detect(text, language).PrefersHumans);
}
