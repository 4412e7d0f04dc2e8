using ContactGrains.Bot;
using ContactGrains.Bot.Signals;
using ContactGrains.Grains.Ownership;
using ContactGrains.Grains.Routing;

namespace ContactGrains.LoadTest.Tests;

public sealed class HybridScriptTests
{
    private static readonly RoutingOptions Routing = new();

    private static readonly TurnJudge Judge = new(
        new KnowledgeBaseBot(KnowledgeBase.Load(KnowledgeBase.DefaultPath)), new LexiconSignalDetector(), new OwnershipPolicy(new OwnershipOptions()), Routing.HumanRequestIntent);

    [Theory]
    [InlineData(0.2, 100, 20)]
    [InlineData(0.2, 12, 2)]
    [InlineData(0.5, 7, 3)]
    [InlineData(0.0, 50, 0)]
    [InlineData(1.0, 9, 9)]
    [InlineData(0.33, 100, 33)]
    public void The_human_share_is_exact_for_every_prefix_rounded_down(double share, int conversations, int humans)
    {
        Assert.Equal(humans, Enumerable.Range(0, conversations).Count(i => HybridScript.IsHuman(i, share)));
        for (var n = 1; n <= conversations; n++)
        {
            Assert.Equal((int)Math.Floor(n * share), Enumerable.Range(0, n).Count(i => HybridScript.IsHuman(i, share)));
        }
    }

    [Fact]
    public void Human_conversations_cycle_through_every_phrasing_and_routine_ones_ask_two_different_questions_in_one_language()
    {
        var plans = Enumerable.Range(0, 500).Select(i => HybridScript.For(i, 0.2)).ToList();
        var human = plans.Where(p => p.NeedsHuman).ToList();
        Assert.Equal(100, human.Count);
        Assert.Equal(HybridScript.NeedsHuman.Select(p => p.Text).Order(), human.Select(p => p.Deciding).Distinct().Order());
        Assert.Contains(human, p => p.Turns.Count == 2);
        Assert.All(human.Where(p => p.Turns.Count == 2), p => Assert.Contains(HybridScript.Routine, r => r.Text == p.Turns[0] && r.Language == p.Language));

        var routine = plans.Where(p => !p.NeedsHuman).ToList();
        Assert.Equal(HybridScript.Routine.Select(p => p.Text).Order(), routine.Select(p => p.Turns[0]).Distinct().Order());
        Assert.All(routine, p =>
        {
            Assert.Equal(2, p.Turns.Count);
            Assert.NotEqual(p.Turns[0], p.Turns[1]);
            Assert.All(p.Turns, t => Assert.Equal(p.Language, HybridScript.Routine.Single(r => r.Text == t).Language));
        });
    }

    public static TheoryData<string, string> RoutineQuestions => Table(HybridScript.Routine);

    public static TheoryData<string, string> HumanPhrasings => Table(HybridScript.NeedsHuman);

    private static TheoryData<string, string> Table(IEnumerable<Phrasing> phrasings)
    {
        var table = new TheoryData<string, string>();
        foreach (var p in phrasings)
        {
            table.Add(p.Text, p.Language);
        }

        return table;
    }

    [Theory]
    [MemberData(nameof(RoutineQuestions))]
    public async Task Every_routine_question_is_answered_by_the_bot_and_kept(string text, string language)
    {
        var judged = await Judge.JudgeAsync(text, language, TurnHistory.Empty, CustomerFacts.Unknown, Routing.DefaultSkill, DateTimeOffset.UtcNow);
        Assert.True(judged.Reply.Understood, $"{text}: not understood");
        Assert.False(judged.Decision.HandOver, $"{text}: handed over ({string.Join(",", judged.Decision.ReasonCodes)})");
    }

    [Theory]
    [MemberData(nameof(HumanPhrasings))]
    public async Task Every_human_phrasing_is_handed_over_at_once(string text, string language)
    {
        var judged = await Judge.JudgeAsync(text, language, TurnHistory.Empty, CustomerFacts.Unknown, Routing.DefaultSkill, DateTimeOffset.UtcNow);
        Assert.True(judged.Decision.HandOver, $"{text}: kept by the bot");
    }

    [Fact]
    public async Task A_routine_question_then_a_human_phrasing_is_answered_then_handed_over()
    {
        foreach (var plan in Enumerable.Range(0, 300).Select(i => HybridScript.For(i, 0.2)).Where(p => p.NeedsHuman && p.Turns.Count == 2))
        {
            var first = await Judge.JudgeAsync(plan.Turns[0], plan.Language, TurnHistory.Empty, CustomerFacts.Unknown, Routing.DefaultSkill, DateTimeOffset.UtcNow);
            Assert.False(first.Decision.HandOver, plan.Turns[0]);
            var second = await Judge.JudgeAsync(plan.Turns[1], plan.Language, first.History, CustomerFacts.Unknown, first.Facts.Bot.Skill ?? Routing.DefaultSkill, DateTimeOffset.UtcNow);
            Assert.True(second.Decision.HandOver, $"{plan.Turns[0]} / {plan.Turns[1]}");
        }
    }

    [Fact]
    public void Simulated_agents_cover_every_skill_a_handoff_can_be_queued_for()
    {
        var skills = HybridLoad.Skills(KnowledgeBase.LoadDefault());
        Assert.Equal(["account", "billing", "delivery", "general", "orders", "payments", "security"], skills);
        Assert.All(new OwnershipOptions().TopicSkills.Values, s => Assert.Contains(s, skills));
    }

    [Theory]
    [InlineData(1000, 0.0, 0.0, 1000)]
    [InlineData(1000, 0.5, 0.0, 500)]
    [InlineData(1000, 0.5, 0.999999, 1499.999)]
    [InlineData(200, 0.25, 0.5, 200)]
    public void Think_time_is_drawn_within_its_jitter(int thinkMs, double jitter, double unit, double expectedMs)
    {
        var behaviour = new DeskBehaviour(DeskBehaviour.ProfileOf(3, ["billing"], ["en"]), TimeSpan.FromMilliseconds(thinkMs), jitter, _ => "", "done");
        Assert.Equal(expectedMs, behaviour.DrawThink(unit).TotalMilliseconds, precision: 2);
    }
}
