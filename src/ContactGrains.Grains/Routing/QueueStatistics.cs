using System.Collections.Immutable;
using ContactGrains.Contracts;

namespace ContactGrains.Grains.Routing;

/// <summary>
/// A queue's outcomes (answered or abandoned, with their waits): the last hour one by one, for its
/// live service level and wait estimate, and the last week in fixed intervals, for charts. Both live
/// in <see cref="QueueStatisticsState"/>, which the queue stores, so they survive a restart.
/// </summary>
public sealed class QueueStatistics(QueueStatisticsState? state = null, TimeSpan? serviceLevelThreshold = null)
{
    /// <summary>The history's step: a chart of a day has 96 points, of a week 672.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(15);

    /// <summary>How far back the history goes.</summary>
    public static readonly TimeSpan HistoryKept = TimeSpan.FromDays(7);

    private const int MaxOutcomes = 1000;
    private static readonly TimeSpan Window = TimeSpan.FromHours(1);

    /// <summary>Answers this recent set the pace used to estimate waits.</summary>
    private static readonly TimeSpan PaceWindow = TimeSpan.FromMinutes(15);

    private readonly QueueStatisticsState _state = state ?? new QueueStatisticsState();
    private readonly TimeSpan _threshold = serviceLevelThreshold ?? TimeSpan.FromSeconds(60);

    /// <summary>Changed since <see cref="MarkStored"/>: the queue stores its state again.</summary>
    public bool Changed { get; private set; }

    public void MarkStored() => Changed = false;

    public void MarkChanged() => Changed = true;

    public void Answered(DateTimeOffset at, TimeSpan wait) => Add(at, wait, answered: true);

    public void Abandoned(DateTimeOffset at, TimeSpan wait) => Add(at, wait, answered: false);

    /// <summary>
    /// The intervals of the last <paramref name="span"/> up to the one holding <paramref name="now"/>,
    /// oldest first, with empty intervals included so a chart has no holes.
    /// </summary>
    public ImmutableArray<QueueInterval> History(DateTimeOffset now, TimeSpan span)
    {
        var last = IntervalStart(now);
        var count = (int)Math.Clamp(Math.Ceiling(span / Interval), 1, HistoryKept / Interval);
        var first = last - (Interval * (count - 1));
        var known = _state.History.Where(i => i.Start >= first && i.Start <= last).ToDictionary(i => i.Start);
        var intervals = ImmutableArray.CreateBuilder<QueueInterval>(count);
        for (var start = first; start <= last; start += Interval)
        {
            intervals.Add(known.GetValueOrDefault(start) ?? new QueueInterval(start, 0, 0, 0, 0, 0, 0));
        }

        return intervals.MoveToImmutable();
    }

    public static DateTimeOffset IntervalStart(DateTimeOffset at) =>
        new(at.UtcTicks - (at.UtcTicks % Interval.Ticks), TimeSpan.Zero);

    public int AnsweredCount(DateTimeOffset now) => Recent(now).Count(o => o.Answered);

    public int AbandonedCount(DateTimeOffset now) => Recent(now).Count(o => !o.Answered);

    /// <summary>
    /// Answered within <paramref name="threshold"/> ÷ (answered + abandoned after it), over the last
    /// hour; customers who gave up before the threshold do not count against it. Null without outcomes.
    /// </summary>
    public double? ServiceLevel(DateTimeOffset now, TimeSpan threshold)
    {
        int within = 0, counted = 0;
        foreach (var outcome in Recent(now))
        {
            if (outcome.Answered)
            {
                counted++;
                within += outcome.Wait <= threshold ? 1 : 0;
            }
            else if (outcome.Wait > threshold)
            {
                counted++;
            }
        }

        return counted == 0 ? null : (double)within / counted;
    }

    /// <summary>
    /// The wait of a conversation at <paramref name="position"/> (1 = next): none if an agent has a
    /// free slot for it now, otherwise one recent answer interval per conversation ahead of the free
    /// slots. Null when fewer than two answers in the last 15 minutes give a pace.
    /// </summary>
    public TimeSpan? EstimatedWait(int position, int freeSlots, DateTimeOffset now)
    {
        if (position <= freeSlots)
        {
            return TimeSpan.Zero;
        }

        var answers = Recent(now).Where(o => o.Answered && now - o.At <= PaceWindow).Select(o => o.At).ToList();
        if (answers.Count < 2)
        {
            return null;
        }

        var interval = (answers.Max() - answers.Min()) / (answers.Count - 1);
        return interval * (position - freeSlots);
    }

    private void Add(DateTimeOffset at, TimeSpan wait, bool answered)
    {
        var outcomes = _state.Recent;
        outcomes.Add(new QueueOutcome(at, wait, answered));
        var drop = 0;
        while (drop < outcomes.Count && (outcomes.Count - drop > MaxOutcomes || at - outcomes[drop].At > Window))
        {
            drop++;
        }

        outcomes.RemoveRange(0, drop);
        AddToHistory(at, wait, answered);
        Changed = true;
    }

    private void AddToHistory(DateTimeOffset at, TimeSpan wait, bool answered)
    {
        var history = _state.History;
        var start = IntervalStart(at);
        var index = history.FindLastIndex(i => i.Start == start);
        var interval = index >= 0 ? history[index] : new QueueInterval(start, 0, 0, 0, 0, 0, 0);
        var within = wait <= _threshold;
        var seconds = (int)Math.Round(wait.TotalSeconds);
        interval = interval with
        {
            Answered = interval.Answered + (answered ? 1 : 0),
            AnsweredWithinThreshold = interval.AnsweredWithinThreshold + (answered && within ? 1 : 0),
            Abandoned = interval.Abandoned + (answered ? 0 : 1),
            AbandonedAfterThreshold = interval.AbandonedAfterThreshold + (!answered && !within ? 1 : 0),
            TotalWaitSeconds = interval.TotalWaitSeconds + seconds,
            LongestWaitSeconds = Math.Max(interval.LongestWaitSeconds, seconds),
        };
        if (index >= 0)
        {
            history[index] = interval;
        }
        else
        {
            history.Add(interval);
            history.Sort((a, b) => a.Start.CompareTo(b.Start));
            history.RemoveAll(i => start - i.Start >= HistoryKept);
        }
    }

    private IEnumerable<QueueOutcome> Recent(DateTimeOffset now) => _state.Recent.Where(o => now - o.At <= Window);
}

/// <summary>A queue's stored statistics: recent outcomes one by one, older ones as intervals.</summary>
[GenerateSerializer, Alias("cg.QueueStatisticsState")]
public sealed class QueueStatisticsState
{
    [Id(0)] public List<QueueOutcome> Recent { get; set; } = [];
    [Id(1)] public List<QueueInterval> History { get; set; } = [];
}

[GenerateSerializer, Immutable, Alias("cg.QueueOutcome")]
public sealed record QueueOutcome([property: Id(0)] DateTimeOffset At, [property: Id(1)] TimeSpan Wait, [property: Id(2)] bool Answered);
