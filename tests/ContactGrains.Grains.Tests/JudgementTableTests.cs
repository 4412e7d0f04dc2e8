using ContactGrains.Bot;
using ContactGrains.Bot.Signals;
using ContactGrains.Grains.Ownership;
using ContactGrains.Grains.Routing;
using ContactGrains.Testing;
using Xunit.Abstractions;

namespace ContactGrains.Grains.Tests;

/// <summary>
/// The ownership policy on the labelled judgement table (tests/ContactGrains.Testing/Judgement),
/// with the real bot and signal detector, no cluster: every conversation that needs a human
/// reaches one, and the routine ones stay with the bot.
/// </summary>
public sealed class JudgementTableTests(ITestOutputHelper output)
{
    private static readonly RoutingOptions Routing = new();

    [Fact]
    public async Task The_policy_hands_over_every_conversation_that_needs_a_human_and_keeps_the_routine_ones()
    {
        var judge = new TurnJudge(new KnowledgeBaseBot(KnowledgeBase.Load(KnowledgeBase.DefaultPath)), new LexiconSignalDetector(),
            new OwnershipPolicy(new OwnershipOptions()), Routing.HumanRequestIntent);
        var results = await JudgementRun.RunAllAsync(judge, Routing.DefaultSkill);
        var figures = JudgementRun.Summarize(results);
        output.WriteLine(figures.ToString());
        foreach (var wrong in figures.Wrong)
        {
            output.WriteLine(wrong.ToString());
        }

        Assert.True(figures.Recall >= 0.99, $"{figures}\nMissed:\n{string.Join("\n", figures.Wrong.Where(w => w.Case.MustReachHuman))}");
        Assert.True(figures.Containment >= 0.90, $"{figures}\nFalse handoffs:\n{string.Join("\n", figures.Wrong.Where(w => !w.Case.MustReachHuman))}");
    }
}
