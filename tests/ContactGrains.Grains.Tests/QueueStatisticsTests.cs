using ContactGrains.Grains.Routing;

namespace ContactGrains.Grains.Tests;

/// <summary>A queue's service level and wait estimate, from its recent outcomes (times are explicit: no clock).</summary>
public sealed class QueueStatisticsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Threshold = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Service level rows: outcomes as "answered|abandoned after wait-seconds", all within the hour,
    /// and the expected share (null: no outcome counts).
    /// </summary>
    private static readonly (string Rule, string[] Outcomes, double? Expected)[] ServiceLevelTable =
    [
        ("No outcomes: no service level", [], null),
        ("Answered within the threshold: 100 %", ["answered 10"], 1.0),
        ("Answered exactly at the threshold counts as within", ["answered 60"], 1.0),
        ("Answered after the threshold: 0 %", ["answered 61"], 0.0),
        ("Abandoned after the threshold counts as a miss", ["answered 10", "abandoned 61"], 0.5),
        ("Abandoned before the threshold does not count at all", ["answered 10", "answered 90", "abandoned 59"], 0.5),
        ("Abandoned exactly at the threshold does not count", ["answered 90", "abandoned 60"], 0.0),
        ("Only abandons before the threshold: no service level", ["abandoned 5", "abandoned 59"], null),
        ("Within ÷ (answered + abandoned after): 3 of 4", ["answered 1", "answered 30", "answered 60", "answered 61", "abandoned 10"], 0.75),
        ("Within ÷ (answered + abandoned after): 1 of 3", ["answered 59", "abandoned 120", "abandoned 600"], 1.0 / 3),
    ];

    public static TheoryData<string> ServiceLevelRules => [.. ServiceLevelTable.Select(c => c.Rule)];

    [Theory]
    [MemberData(nameof(ServiceLevelRules))]
    public void ServiceLevel_is_answered_within_the_threshold_over_answered_plus_abandoned_after_it(string rule)
    {
        var row = ServiceLevelTable.Single(r => r.Rule == rule);
        var statistics = new QueueStatistics();
        var at = Now - TimeSpan.FromMinutes(30);
        foreach (var outcome in row.Outcomes)
        {
            var parts = outcome.Split(' ');
            var wait = TimeSpan.FromSeconds(int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
            if (parts[0] == "answered")
            {
                statistics.Answered(at, wait);
            }
            else
            {
                statistics.Abandoned(at, wait);
            }

            at += TimeSpan.FromSeconds(1);
        }

        Assert.Equal(row.Expected, statistics.ServiceLevel(Now, Threshold));
        Assert.Equal(row.Outcomes.Count(o => o.StartsWith("answered", StringComparison.Ordinal)), statistics.AnsweredCount(Now));
        Assert.Equal(row.Outcomes.Count(o => o.StartsWith("abandoned", StringComparison.Ordinal)), statistics.AbandonedCount(Now));
    }

    [Fact]
    public void ServiceLevel_counts_the_last_hour_only_an_outcome_exactly_an_hour_old_included()
    {
        var statistics = new QueueStatistics();
        statistics.Answered(Now - TimeSpan.FromHours(1) - TimeSpan.FromTicks(1), TimeSpan.FromSeconds(600)); // missed, too old
        statistics.Abandoned(Now - TimeSpan.FromHours(1) - TimeSpan.FromTicks(1), TimeSpan.FromSeconds(600)); // missed, too old
        statistics.Answered(Now - TimeSpan.FromHours(1), TimeSpan.FromSeconds(5));
        statistics.Answered(Now - TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(90));

        Assert.Equal(0.5, statistics.ServiceLevel(Now, Threshold));
        Assert.Equal(2, statistics.AnsweredCount(Now));
        Assert.Equal(0, statistics.AbandonedCount(Now));
    }

    [Fact]
    public void ServiceLevel_returns_to_null_once_every_outcome_is_older_than_an_hour()
    {
        var statistics = new QueueStatistics();
        statistics.Answered(Now, TimeSpan.FromSeconds(5));

        Assert.Equal(1.0, statistics.ServiceLevel(Now + TimeSpan.FromHours(1), Threshold));
        Assert.Null(statistics.ServiceLevel(Now + TimeSpan.FromHours(1) + TimeSpan.FromTicks(1), Threshold));
        Assert.Equal(0, statistics.AnsweredCount(Now + TimeSpan.FromHours(1) + TimeSpan.FromTicks(1)));
    }

    [Fact]
    public void ServiceLevel_keeps_the_latest_thousand_outcomes()
    {
        var statistics = new QueueStatistics();
        for (var i = 0; i < 1000; i++)
        {
            statistics.Answered(Now - TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(600)); // misses, pushed out below
        }

        for (var i = 0; i < 1000; i++)
        {
            statistics.Answered(Now, TimeSpan.FromSeconds(5));
        }

        Assert.Equal(1.0, statistics.ServiceLevel(Now, Threshold));
        Assert.Equal(1000, statistics.AnsweredCount(Now));
    }

    /// <summary>
    /// Wait estimate rows: answers as "seconds ago" (abandons as "abandoned N"), the conversation's
    /// position (1 = next), the free slots of available agents, and the expected wait in seconds
    /// (null: no estimate).
    /// </summary>
    private static readonly (string Rule, string[] Outcomes, int Position, int FreeSlots, double? ExpectedSeconds)[] EstimateTable =
    [
        ("Free slots for everyone up to it: zero, even without any pace", [], 3, 3, 0),
        ("More free slots than its position: zero", [], 1, 5, 0),
        ("No answers: no estimate", [], 1, 0, null),
        ("One answer in 15 minutes: no estimate", ["60"], 1, 0, null),
        ("Two answers, one older than 15 minutes: no estimate", ["60", "901"], 1, 0, null),
        ("Abandons give no pace: no estimate", ["60", "abandoned 30", "abandoned 20"], 1, 0, null),
        ("Two answers 4 min apart, position 1: one interval", ["600", "360"], 1, 0, 240),
        ("Answers at 10, 6 and 2 min ago (4 min interval), position 3: position × interval", ["600", "360", "120"], 3, 0, 720),
        ("An answer exactly 15 minutes old still sets the pace", ["900", "300"], 2, 0, 1200),
        ("Abandons are ignored in the pace", ["600", "abandoned 500", "360", "abandoned 100"], 2, 0, 480),
        ("Free slots serve the first conversations: (position − free slots) × interval", ["600", "360", "120"], 3, 1, 480),
    ];

    public static TheoryData<string> EstimateRules => [.. EstimateTable.Select(c => c.Rule)];

    [Theory]
    [MemberData(nameof(EstimateRules))]
    public void EstimatedWait_is_one_recent_answer_interval_per_conversation_beyond_the_free_slots(string rule)
    {
        var row = EstimateTable.Single(r => r.Rule == rule);
        var statistics = new QueueStatistics();
        foreach (var outcome in row.Outcomes.Select(o => o.Split(' ')).OrderByDescending(p => int.Parse(p[^1], System.Globalization.CultureInfo.InvariantCulture)))
        {
            var at = Now - TimeSpan.FromSeconds(int.Parse(outcome[^1], System.Globalization.CultureInfo.InvariantCulture));
            if (outcome[0] == "abandoned")
            {
                statistics.Abandoned(at, TimeSpan.FromSeconds(90));
            }
            else
            {
                statistics.Answered(at, TimeSpan.FromSeconds(10));
            }
        }

        var expected = row.ExpectedSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
        Assert.Equal(expected, statistics.EstimatedWait(row.Position, row.FreeSlots, Now));
    }

    [Fact]
    public void Rule_names_are_unique()
    {
        Assert.Equal(ServiceLevelTable.Length, ServiceLevelTable.Select(r => r.Rule).Distinct().Count());
        Assert.Equal(EstimateTable.Length, EstimateTable.Select(r => r.Rule).Distinct().Count());
    }
}
