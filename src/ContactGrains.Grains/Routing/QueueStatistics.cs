namespace ContactGrains.Grains.Routing;

/// <summary>
/// A queue's recent outcomes (answered or abandoned, with their waits), for its service level and
/// wait estimate. Kept in memory for the last hour: after a restart the figures start over, which
/// live statistics may do.
/// </summary>
public sealed class QueueStatistics
{
    private const int MaxOutcomes = 1000;
    private static readonly TimeSpan Window = TimeSpan.FromHours(1);

    /// <summary>Answers this recent set the pace used to estimate waits.</summary>
    private static readonly TimeSpan PaceWindow = TimeSpan.FromMinutes(15);

    private readonly Queue<(DateTimeOffset At, TimeSpan Wait, bool Answered)> _outcomes = new();

    public void Answered(DateTimeOffset at, TimeSpan wait) => Add(at, wait, answered: true);

    public void Abandoned(DateTimeOffset at, TimeSpan wait) => Add(at, wait, answered: false);

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
        _outcomes.Enqueue((at, wait, answered));
        while (_outcomes.Count > MaxOutcomes || (_outcomes.Count > 0 && at - _outcomes.Peek().At > Window))
        {
            _outcomes.Dequeue();
        }
    }

    private IEnumerable<(DateTimeOffset At, TimeSpan Wait, bool Answered)> Recent(DateTimeOffset now) =>
        _outcomes.Where(o => now - o.At <= Window);
}
