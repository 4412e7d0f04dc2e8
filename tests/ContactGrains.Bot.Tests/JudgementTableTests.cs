using System.Text;
using ContactGrains.Testing;

namespace ContactGrains.Bot.Tests;

/// <summary>
/// The judgement table itself is well formed and large enough to measure an ownership policy with: these tests check
/// the labels, not any policy.
/// </summary>
public sealed class JudgementTableTests
{
    private const int MinimumCases = 170;
    private const int MinimumTurns = 150;
    private const double MinimumFrenchShare = 0.40;
    private const int MinimumRoutineCases = 70;
    private const int MinimumMustHumanCases = 90;

    // Floors chosen for this table so that per-language figures mean something: each category in each language,
    // and each reason in each language.
    private const int MinimumCasesPerCategoryAndLanguage = 30;
    private const int MinimumCasesPerReasonAndLanguage = 3;

    private static readonly string[] Languages = [JudgementLabels.English, JudgementLabels.French];

    private static readonly IReadOnlyList<JudgementCase> Cases = JudgementTable.Load();

    public static TheoryData<string, string> ReasonsByLanguage()
    {
        var data = new TheoryData<string, string>();
        foreach (var reason in JudgementLabels.Reasons)
        {
            foreach (var language in Languages)
            {
                data.Add(reason, language);
            }
        }

        return data;
    }

    [Fact]
    public void Table_is_copied_next_to_the_tests_and_loads()
    {
        Assert.True(File.Exists(JudgementTable.FilePath), $"{JudgementTable.FilePath} was not copied to the output");
        Assert.NotEmpty(Cases);
    }

    [Fact]
    public void Ids_are_unique()
    {
        var duplicates = Cases.GroupBy(c => c.Id, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key);

        Assert.Empty(duplicates);
    }

    [Fact]
    public void Every_case_is_in_english_or_french()
    {
        Assert.Empty(Cases.Where(c => !Languages.Contains(c.Language, StringComparer.Ordinal)).Select(c => c.Id));
    }

    [Fact]
    public void Routine_cases_keep_the_bot_and_must_human_cases_expect_a_human()
    {
        var wrong = Cases.Where(c => c.Category switch
        {
            JudgementLabels.Routine => c.Expect is not { Decision: JudgementLabels.Bot, ByTurn: null, Reason: null },
            JudgementLabels.MustHuman => c.Expect.Decision != JudgementLabels.Human,
            _ => true,
        });

        Assert.Empty(wrong.Select(c => $"{c.Id}: {c.Category} / {c.Expect}"));
    }

    [Fact]
    public void Every_expected_reason_is_a_known_code()
    {
        var unknown = Cases.Where(c => c.MustReachHuman && !JudgementLabels.Reasons.Contains(c.Expect.Reason, StringComparer.Ordinal));

        Assert.Empty(unknown.Select(c => $"{c.Id}: '{c.Expect.Reason}'"));
    }

    [Fact]
    public void Human_cases_hand_over_by_a_turn_of_the_dialogue()
    {
        var outside = Cases.Where(c =>
            c.MustReachHuman && !(c.Expect.ByTurn is { } byTurn && byTurn >= 1 && byTurn <= c.Turns.Count));

        Assert.Empty(outside.Select(c => $"{c.Id}: byTurn {c.Expect.ByTurn} of {c.Turns.Count} turns"));
    }

    [Fact]
    public void Every_case_has_customer_turns_and_a_note()
    {
        var incomplete = Cases.Where(c =>
            c.Turns.Count == 0 || c.Turns.Any(string.IsNullOrWhiteSpace) || string.IsNullOrWhiteSpace(c.Note));

        Assert.Empty(incomplete.Select(c => c.Id));
    }

    [Fact]
    public void Customers_are_standard_or_vip_and_recall_intents_of_the_knowledge_base()
    {
        var intents = SampleBot.KnowledgeBase.Intents.Select(intent => intent.Id).ToHashSet(StringComparer.Ordinal);

        var wrong = Cases.Where(c =>
            c.Customer.Tier is not (JudgementLabels.Standard or JudgementLabels.Vip)
            || c.Customer.RecentIntents.Any(recent => !intents.Contains(recent.Intent) || recent.DaysAgo < 0));

        Assert.Empty(wrong.Select(c => c.Id));
    }

    [Fact]
    public void Labels_that_come_from_the_profile_agree_with_the_profile()
    {
        // A stated preference hands over on the first turn; the vip and repeat-contact reasons need their profile.
        var wrong = Cases.Where(c =>
            (c.Customer.PrefersHumans && c.Expect is not { Decision: JudgementLabels.Human, ByTurn: 1 })
            || (c.Expect.Reason == JudgementLabels.VipReason && c.Customer.Tier != JudgementLabels.Vip)
            || (c.Expect.Reason == JudgementLabels.RepeatContact
                && !c.Customer.RecentIntents.Any(recent => recent.DaysAgo <= JudgementLabels.RepeatContactWindowDays)));

        Assert.Empty(wrong.Select(c => c.Id));
    }

    [Fact]
    public void No_two_cases_have_the_same_dialogue()
    {
        var repeated = Cases
            .GroupBy(c => string.Join(" | ", c.Turns.Select(Fold)), StringComparer.Ordinal)
            .Where(g => g.Count() > 1)
            .Select(g => string.Join(", ", g.Select(c => c.Id)));

        Assert.Empty(repeated);
    }

    [Fact]
    public void Table_is_large_enough_and_at_least_forty_percent_french()
    {
        var french = Cases.Count(c => c.Language == JudgementLabels.French);

        Assert.True(Cases.Count >= MinimumCases, $"{Cases.Count} cases, at least {MinimumCases} wanted");
        Assert.True(Cases.Sum(c => c.Turns.Count) >= MinimumTurns, $"{Cases.Sum(c => c.Turns.Count)} turns, at least {MinimumTurns} wanted");
        Assert.True(french >= MinimumFrenchShare * Cases.Count, $"{french} of {Cases.Count} cases in French, at least 40 % wanted");
        Assert.True(Count(JudgementLabels.Routine) >= MinimumRoutineCases, $"{Count(JudgementLabels.Routine)} routine cases");
        Assert.True(Count(JudgementLabels.MustHuman) >= MinimumMustHumanCases, $"{Count(JudgementLabels.MustHuman)} must-human cases");

        static int Count(string category) => Cases.Count(c => c.Category == category);
    }

    [Theory]
    [InlineData(JudgementLabels.Routine, JudgementLabels.English)]
    [InlineData(JudgementLabels.Routine, JudgementLabels.French)]
    [InlineData(JudgementLabels.MustHuman, JudgementLabels.English)]
    [InlineData(JudgementLabels.MustHuman, JudgementLabels.French)]
    public void Each_category_has_enough_cases_in_each_language(string category, string language)
    {
        var count = Cases.Count(c => c.Category == category && c.Language == language);

        Assert.True(count >= MinimumCasesPerCategoryAndLanguage, $"{count} {category} cases in {language}");
    }

    [Theory]
    [MemberData(nameof(ReasonsByLanguage))]
    public void Every_reason_is_covered_in_both_languages(string reason, string language)
    {
        var count = Cases.Count(c => c.Expect.Reason == reason && c.Language == language);

        Assert.True(count >= MinimumCasesPerReasonAndLanguage, $"{count} {reason} cases in {language}");
    }

    /// <summary>Lower case, accents (split off by FormD) and punctuation dropped: "Où est mon colis ?" equals "ou est mon colis".</summary>
    private static string Fold(string text)
    {
        var folded = new StringBuilder(text.Length);
        foreach (var character in text.Normalize(NormalizationForm.FormD))
        {
            if (char.IsLetterOrDigit(character))
            {
                folded.Append(char.ToLowerInvariant(character));
            }
            else if (char.IsWhiteSpace(character) && folded.Length > 0 && folded[^1] != ' ')
            {
                folded.Append(' ');
            }
        }

        return folded.ToString().TrimEnd();
    }
}

/// <summary>The held-out set follows the table's schema and shares no dialogue with it.</summary>
public sealed class HoldoutSetTests
{
    [Fact]
    public void The_held_out_set_loads_and_its_labels_are_the_policys()
    {
        var holdout = JudgementTable.Load(JudgementTable.HoldoutPath);
        Assert.True(holdout.Count >= 80, $"{holdout.Count} held-out cases");
        Assert.All(holdout, c => Assert.StartsWith("holdout-", c.Id, StringComparison.Ordinal));
        Assert.Equal(holdout.Count, holdout.Select(c => c.Id).Distinct(StringComparer.Ordinal).Count());
        Assert.All(holdout.Where(c => c.MustReachHuman), c => Assert.Contains(c.Expect.Reason, JudgementLabels.Reasons));
        Assert.All(holdout.Where(c => c.MustReachHuman), c => Assert.InRange(c.Expect.ByTurn ?? 0, 1, c.Turns.Count));
    }

    [Fact]
    public void No_held_out_question_appears_in_the_table()
    {
        // Greetings ("Hi", "bonne soirée") are the same everywhere; questions must not be.
        static bool IsQuestion(string turn) => turn.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length >= 3;
        var table = JudgementTable.Load().SelectMany(c => c.Turns).Where(IsQuestion).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var shared = JudgementTable.Load(JudgementTable.HoldoutPath).SelectMany(c => c.Turns).Where(table.Contains).ToList();
        Assert.True(shared.Count == 0, "In both: " + string.Join(" | ", shared));
    }
}
