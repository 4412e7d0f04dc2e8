using ContactGrains.Bot.Matching;
using ContactGrains.Bot.Text;

namespace ContactGrains.Bot.Tests;

/// <summary>Normalization, stemming and typo tolerance, the building blocks of matching.</summary>
public sealed class TextProcessingTests
{
    [Theory]
    [InlineData("Remboursé", "rembourse")]
    [InlineData("RÉINITIALISER mon mot de passe", "reinitialiser mon mot de passe")]
    [InlineData("Œuvre, cœur", "oeuvre coeur")]
    [InlineData("ﬁnancement", "financement")]
    public void Diacritics_ligatures_and_case_are_folded(string text, string expected) =>
        Assert.Equal(expected, TextNormalizer.Normalize(text));

    [Fact]
    public void Ill_formed_text_is_folded_without_throwing()
    {
        Assert.Equal("a b", TextNormalizer.Normalize("a\uD800b"));
        Assert.Equal("ecole", TextNormalizer.Normalize("\uDC00école"));
    }

    [Theory]
    [InlineData("l'argent", "argent")]
    [InlineData("J'ai perdu l’étiquette", "ai perdu etiquette")]
    [InlineData("qu'il m'envoie", "il envoie")]
    [InlineData("jusqu'à demain", "a demain")]
    public void French_elisions_are_dropped(string text, string expected) =>
        Assert.Equal(expected, TextNormalizer.Normalize(text));

    [Theory]
    [InlineData("Order #12345, please!!", "order 12345 please")]
    [InlineData("  where...is   it?? ", "where is it")]
    [InlineData("don't", "don t")]
    [InlineData("e-mail / E-Mail", "email email")]
    [InlineData("a-t-il été remboursé ?", "a t il ete rembourse")]
    [InlineData("", "")]
    [InlineData("?!", "")]
    public void Punctuation_becomes_single_spaces_and_numbers_stay(string text, string expected) =>
        Assert.Equal(expected, TextNormalizer.Normalize(text));

    [Theory]
    [InlineData("refund", "refunds", "refunded", "refunding")]
    [InlineData("cancel", "cancelled", "canceled", "cancellation")]
    [InlineData("deliver", "delivery", "delivered", "deliveries")]
    [InlineData("charge", "charged", "charges", "charging")]
    [InlineData("pay", "paid", "payment", "payments")]
    [InlineData("ship", "shipped", "shipping", "shipment")]
    [InlineData("installment", "installments", "instalments", "instalment")]
    public void English_inflections_share_one_stem(params string[] words) =>
        Assert.Single(words.Select(LanguageAnalyzer.For("en").Stem).Distinct());

    [Theory]
    [InlineData("livraison", "livrée", "livré", "livrer", "livrez")]
    [InlineData("remboursement", "remboursé", "rembourser", "remboursements")]
    [InlineData("paiement", "payer", "payé", "paie")]
    [InlineData("annuler", "annulé", "annulation", "annulez")]
    [InlineData("commande", "commandes", "commandée", "commander")]
    [InlineData("frauduleux", "frauduleuse", "frauduleuses")]
    public void French_inflections_share_one_stem(params string[] words)
    {
        var analyzer = LanguageAnalyzer.For("fr");

        Assert.Single(words.Select(word => analyzer.Stem(TextNormalizer.Normalize(word))).Distinct());
    }

    [Fact]
    public void Stop_words_and_lone_letters_are_not_content()
    {
        var english = LanguageAnalyzer.For("en");
        var french = LanguageAnalyzer.For("fr");

        Assert.False(english.IsContentToken("the"));
        Assert.False(english.IsContentToken("please"));
        Assert.False(english.IsContentToken("t"));
        Assert.True(english.IsContentToken("refund"));
        Assert.True(english.IsContentToken("where"));
        Assert.True(english.IsContentToken("7"));
        Assert.False(french.IsContentToken("mon"));
        Assert.False(french.IsContentToken("svp"));
        Assert.True(french.IsContentToken("colis"));
    }

    [Theory]
    [InlineData("refund", "refund", 0)]
    [InlineData("refnud", "refund", 1)]
    [InlineData("refud", "refund", 1)]
    [InlineData("refundd", "refund", 1)]
    [InlineData("rafund", "refund", 1)]
    [InlineData("rfnud", "refund", 2)]
    [InlineData("abc", "xyz", 3)]
    [InlineData("", "abc", 3)]
    public void Damerau_levenshtein_counts_a_transposition_as_one_edit(string a, string b, int expected)
    {
        Assert.Equal(expected, DamerauLevenshtein.Distance(a, b, 5));
        Assert.Equal(expected, DamerauLevenshtein.Distance(b, a, 5));
    }

    [Fact]
    public void Damerau_levenshtein_stops_early_beyond_the_maximum()
    {
        Assert.Equal(2, DamerauLevenshtein.Distance("password", "parcel", 1));
    }

    [Fact]
    public void Typo_index_finds_the_closest_terms_within_the_tolerance_for_the_word_length()
    {
        var index = new TypoIndex(["refund", "parcel", "password", "reimburse", "pay"]);
        var candidates = new int[8];

        Assert.Equal((1, 1), index.FindClosest("refnud", TypoIndex.MaxDistanceFor(6), candidates));
        Assert.Equal(0, candidates[0]);

        Assert.Equal((1, 1), index.FindClosest("pasword", TypoIndex.MaxDistanceFor(7), candidates));
        Assert.Equal(2, candidates[0]);

        Assert.Equal((1, 2), index.FindClosest("riembruse", TypoIndex.MaxDistanceFor(9), candidates));
        Assert.Equal(3, candidates[0]);
    }

    [Fact]
    public void Typo_index_respects_the_length_rules()
    {
        var index = new TypoIndex(["parcel", "card", "pay"]);
        var candidates = new int[8];

        // Three letters: never corrected. Two edits need eight letters.
        Assert.Equal(0, TypoIndex.MaxDistanceFor(3));
        Assert.Equal(1, TypoIndex.MaxDistanceFor(4));
        Assert.Equal(1, TypoIndex.MaxDistanceFor(7));
        Assert.Equal(2, TypoIndex.MaxDistanceFor(8));
        Assert.Equal((0, 0), index.FindClosest("cad", TypoIndex.MaxDistanceFor(3), candidates));
        Assert.Equal((1, 1), index.FindClosest("crad", TypoIndex.MaxDistanceFor(4), candidates));
        Assert.Equal((0, 0), index.FindClosest("pracle", TypoIndex.MaxDistanceFor(6), candidates));

        // Terms shorter than four letters are never proposed.
        Assert.Equal((0, 0), index.FindClosest("payy", TypoIndex.MaxDistanceFor(4), candidates));
    }

    [Fact]
    public void Typo_index_prefers_the_smallest_distance_and_returns_all_ties()
    {
        var index = new TypoIndex(["cart", "card", "care", "carton"]);
        var candidates = new int[8];

        var (count, distance) = index.FindClosest("carx", 1, candidates);

        Assert.Equal(1, distance);
        Assert.Equal([0, 1, 2], candidates[..count].Order());
    }
}
