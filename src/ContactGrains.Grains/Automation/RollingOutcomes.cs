using System.Collections.Immutable;
using ContactGrains.Contracts;

namespace ContactGrains.Grains.Automation;

/// <summary>
/// One intent's outcomes over the last <see cref="WindowDays"/> days, kept as one bucket per day so
/// that old days fall out without remembering single conversations, and buckets from several
/// silos or partitions add up. Immutable: each change returns a new value to store.
/// </summary>
[GenerateSerializer, Immutable, Alias("cg.RollingOutcomes")]
public sealed record RollingOutcomes(
    [property: Id(0)] int WindowDays,
    [property: Id(1)] ImmutableSortedDictionary<DateOnly, IntentComparison> Days)
{
    public const int DefaultWindowDays = 28;

    public static RollingOutcomes Empty(int windowDays = DefaultWindowDays) =>
        new(windowDays, ImmutableSortedDictionary<DateOnly, IntentComparison>.Empty);

    /// <summary>The first day still inside the window that ends on <paramref name="today"/>.</summary>
    public DateOnly FirstDay(DateOnly today) => today.AddDays(1 - WindowDays);

    /// <summary>Adds an outcome on its day; days that left the window are dropped.</summary>
    public RollingOutcomes Record(DateOnly day, ConversationOutcome outcome, DateOnly today) =>
        Record(new DatedOutcome(day, outcome), today);

    /// <summary>Adds an outcome, or a rating given afterwards, on its day.</summary>
    public RollingOutcomes Record(DatedOutcome dated, DateOnly today)
    {
        if (dated.Day < FirstDay(today) || dated.Day > today)
        {
            // Outside the window (a late report of an old conversation, or a clock ahead): not counted.
            return Pruned(today);
        }

        var current = Days.TryGetValue(dated.Day, out var figures) ? figures : IntentComparison.None;
        var updated = dated.Draft is { } fate ? current.WithDraft(fate)
            : dated.Review is { } verdict ? current.WithReview(verdict)
            : dated.RepeatOnly ? current.WithRepeatContact(dated.Outcome.ResolvedBy)
            : dated.RatingOnly && dated.Outcome.Rating is { } rating ? current.WithRating(dated.Outcome.ResolvedBy, rating)
            : current.With(dated.Outcome);
        return (this with { Days = Days.SetItem(dated.Day, updated) }).Pruned(today);
    }

    /// <summary>Adds another set of buckets (another silo's, another partition's) day by day.</summary>
    public RollingOutcomes Merge(RollingOutcomes other, DateOnly today)
    {
        var days = Days.ToBuilder();
        foreach (var (day, figures) in other.Days)
        {
            days[day] = days.TryGetValue(day, out var mine) ? mine + figures : figures;
        }

        return (this with { Days = days.ToImmutable() }).Pruned(today);
    }

    /// <summary>The window's totals, as of <paramref name="today"/>.</summary>
    public IntentComparison Totals(DateOnly today)
    {
        var first = FirstDay(today);
        var total = IntentComparison.None;
        foreach (var (day, figures) in Days)
        {
            if (day >= first && day <= today)
            {
                total += figures;
            }
        }

        return total;
    }

    private RollingOutcomes Pruned(DateOnly today)
    {
        var first = FirstDay(today);
        return Days.Keys.Any(d => d < first) ? this with { Days = Days.RemoveRange(Days.Keys.Where(d => d < first).ToList()) } : this;
    }
}
