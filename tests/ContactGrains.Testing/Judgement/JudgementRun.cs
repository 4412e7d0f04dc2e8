using System.Collections.Immutable;
using System.Globalization;
using ContactGrains.Contracts;
using ContactGrains.Grains.Ownership;

namespace ContactGrains.Testing;

/// <summary>One case of the table replayed: the turn a human took over (null: the bot kept it), the reasons, and what happened at each turn.</summary>
public sealed record JudgementResult(JudgementCase Case, int? HandedOverAt, ImmutableArray<string> Reasons, IReadOnlyList<string> Trace)
{
    /// <summary>For a must-human case: a human took over by the turn allowed. For a routine case: the bot kept it.</summary>
    public bool Correct => Case.MustReachHuman ? HandedOverAt is { } turn && turn <= Case.Expect.ByTurn : HandedOverAt is null;

    public string? MainReason => Reasons.IsDefaultOrEmpty ? null : Reasons[0];

    public override string ToString() =>
        $"{Case.Id}: expected {(Case.MustReachHuman ? $"human by turn {Case.Expect.ByTurn} ({Case.Expect.Reason})" : "bot")}, got "
        + (HandedOverAt is { } at ? $"human at turn {at} ({string.Join(",", Reasons)})" : "bot") + "\n    " + string.Join("\n    ", Trace);
}

/// <summary>The table's figures: must-human recall, routine containment, false handoffs, and how often the main reason is the one expected.</summary>
public sealed record JudgementFigures(int MustHuman, int ReachedHuman, int Routine, int Contained, int ReasonMatches, IReadOnlyList<JudgementResult> Wrong)
{
    public double Recall => MustHuman == 0 ? 1 : (double)ReachedHuman / MustHuman;

    public double Containment => Routine == 0 ? 1 : (double)Contained / Routine;

    public int FalseHandoffs => Routine - Contained;

    public double ReasonAccuracy => ReachedHuman == 0 ? 1 : (double)ReasonMatches / ReachedHuman;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"must-human recall {Recall:P1} ({ReachedHuman}/{MustHuman}), routine containment {Containment:P1} ({Contained}/{Routine}), "
        + $"false handoffs {FalseHandoffs}, main reason as labelled {ReasonAccuracy:P1} ({ReasonMatches}/{ReachedHuman})");
}

/// <summary>
/// Replays the judgement table through <see cref="TurnJudge"/> (the real bot, signal detector and
/// ownership policy, as the conversation grain runs them), one customer message after another,
/// until a human takes over or the dialogue ends.
/// </summary>
public static class JudgementRun
{
    public static readonly DateTimeOffset Now = new(2026, 11, 30, 10, 0, 0, TimeSpan.Zero);

    public static async Task<JudgementResult> RunAsync(JudgementCase @case, TurnJudge judge, string defaultSkill)
    {
        var customer = new CustomerFacts(
            @case.Customer.Tier == JudgementLabels.Vip ? CustomerTier.Vip : CustomerTier.Standard,
            @case.Customer.PrefersHumans,
            [.. @case.Customer.RecentIntents.Select((r, i) => new IntentContact(r.Intent, Now.AddDays(-r.DaysAgo), $"earlier-{i}"))]);
        var history = TurnHistory.Empty;
        string? language = @case.Language;
        var skill = defaultSkill;
        var trace = new List<string>();
        for (var turn = 1; turn <= @case.Turns.Count; turn++)
        {
            var judged = await judge.JudgeAsync(@case.Turns[turn - 1], language, history, customer, skill, Now);
            var bot = judged.Facts.Bot;
            trace.Add($"{turn}. \"{@case.Turns[turn - 1]}\" -> {bot.IntentId ?? "-"} {bot.Confidence:0.00}{(bot.Understood ? "" : " (miss)")}; "
                + string.Join(" ", judged.Decision.Signals.Select(s => $"{s.Key}={s.Value}")));
            if (judged.Decision.HandOver)
            {
                return new JudgementResult(@case, turn, judged.Decision.ReasonCodes, trace);
            }

            history = judged.History;
            if (judged.Reply.Understood)
            {
                language = judged.Reply.Language;
                skill = bot.Skill is { } s && !bot.AskedForHuman ? s : skill;
            }
        }

        return new JudgementResult(@case, null, [], trace);
    }

    public static async Task<IReadOnlyList<JudgementResult>> RunAllAsync(TurnJudge judge, string defaultSkill, string? path = null)
    {
        var results = new List<JudgementResult>();
        foreach (var @case in JudgementTable.Load(path ?? JudgementTable.FilePath))
        {
            results.Add(await RunAsync(@case, judge, defaultSkill));
        }

        return results;
    }

    public static JudgementFigures Summarize(IReadOnlyList<JudgementResult> results) => new(
        results.Count(r => r.Case.MustReachHuman),
        results.Count(r => r.Case.MustReachHuman && r.Correct),
        results.Count(r => !r.Case.MustReachHuman),
        results.Count(r => !r.Case.MustReachHuman && r.Correct),
        results.Count(r => r.Case.MustReachHuman && r.Correct && r.MainReason == r.Case.Expect.Reason),
        [.. results.Where(r => !r.Correct)]);
}
