using System.Globalization;
using ContactGrains.Bot;
using ContactGrains.Bot.Signals;
using ContactGrains.Grains.Ownership;
using ContactGrains.Grains.Routing;
using ContactGrains.Testing;

namespace ContactGrains.LoadTest;

/// <summary>
/// Replays the labelled judgement table (tests/ContactGrains.Testing/Judgement/dialogues.json) through
/// the real bot, signal detector and ownership policy, and prints the figures of docs/benchmarks.md:
/// must-human recall, routine containment, false handoffs, per language and per expected reason.
/// </summary>
internal static class JudgementReport
{
    public static async Task<int> RunAsync(LoadOptions options)
    {
        var routing = new RoutingOptions();
        var judge = new TurnJudge(new KnowledgeBaseBot(KnowledgeBase.Load(KnowledgeBase.DefaultPath)), new LexiconSignalDetector(),
            new OwnershipPolicy(new OwnershipOptions()), routing.HumanRequestIntent);
        foreach (var (name, path) in new[] { ("judgement table", JudgementTable.FilePath), ("held-out set", JudgementTable.HoldoutPath) })
        {
            var results = await JudgementRun.RunAllAsync(judge, routing.DefaultSkill, path);
            Console.WriteLine($"{name}: {results.Count} dialogues, {results.Sum(r => r.Case.Turns.Count)} customer turns ({path})");
            Console.WriteLine($"all: {JudgementRun.Summarize(results)}");
            foreach (var language in results.GroupBy(r => r.Case.Language).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                Console.WriteLine($"{language.Key}: {JudgementRun.Summarize([.. language])}");
            }

            foreach (var reason in results.Where(r => r.Case.MustReachHuman).GroupBy(r => r.Case.Expect.Reason!).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {reason.Key}: {reason.Count(r => r.Correct)}/{reason.Count()} reached a human in time, {reason.Count(r => r.MainReason == reason.Key)} with this main reason"));
            }

            foreach (var wrong in results.Where(r => !r.Correct))
            {
                Console.WriteLine($"wrong: {wrong}");
            }

            Console.WriteLine();
        }

        return 0;
    }
}
