using ContactGrains.Grains.Conversations;

namespace ContactGrains.Grains.Tests;

/// <summary>The token bucket behind the per-conversation and per-channel rate limits, on timelines.</summary>
public sealed class MessageRateLimitTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_burst_passes_then_the_next_message_waits_for_one_token()
    {
        var limit = new MessageRateLimit(burst: 20, perMinute: 60);

        for (var i = 0; i < 20; i++)
        {
            Assert.Null(limit.TryTake(T0));
        }

        Assert.Equal(TimeSpan.FromSeconds(1), limit.TryTake(T0));
    }

    [Fact]
    public void Retrying_after_the_hint_succeeds()
    {
        var limit = new MessageRateLimit(burst: 2, perMinute: 60);
        Assert.Null(limit.TryTake(T0));
        Assert.Null(limit.TryTake(T0));

        var wait = limit.TryTake(T0.AddMilliseconds(250));

        Assert.Equal(TimeSpan.FromMilliseconds(750), wait);
        Assert.Null(limit.TryTake(T0.AddMilliseconds(250) + wait!.Value));
    }

    // A person typing: one message every 3 s for 10 minutes never meets the limit.
    [Fact]
    public void A_person_typing_never_meets_the_limit()
    {
        var limit = new MessageRateLimit(burst: 20, perMinute: 60);

        for (var i = 0; i < 200; i++)
        {
            Assert.Null(limit.TryTake(T0.AddSeconds(3 * i)));
        }
    }

    // An adapter delivering a backlog of 20 queued SMS at once, then live traffic.
    [Fact]
    public void A_backlog_up_to_the_burst_is_accepted_at_once()
    {
        var limit = new MessageRateLimit(burst: 20, perMinute: 60);

        var refused = Enumerable.Range(0, 20).Count(_ => limit.TryTake(T0) is not null);

        Assert.Equal(0, refused);
    }

    [Fact]
    public void A_flood_gets_the_sustained_rate_and_no_more()
    {
        var limit = new MessageRateLimit(burst: 20, perMinute: 60);

        // 5,000 messages over 10 seconds, evenly: the burst plus one a second get through.
        var accepted = Enumerable.Range(0, 5000).Count(i => limit.TryTake(T0.AddMilliseconds(i * 2)) is null);

        Assert.Equal(20 + 9, accepted);
    }

    [Fact]
    public void An_idle_minute_refills_the_bucket_but_never_beyond_the_burst()
    {
        var limit = new MessageRateLimit(burst: 5, perMinute: 60);
        for (var i = 0; i < 5; i++)
        {
            limit.TryTake(T0);
        }

        var later = T0.AddHours(1);
        var accepted = Enumerable.Range(0, 10).Count(_ => limit.TryTake(later) is null);

        Assert.Equal(5, accepted);
    }

    [Fact]
    public void A_clock_that_steps_back_neither_refills_nor_breaks_the_bucket()
    {
        var limit = new MessageRateLimit(burst: 1, perMinute: 60);
        Assert.Null(limit.TryTake(T0));

        Assert.NotNull(limit.TryTake(T0.AddSeconds(-30)));
    }
}
