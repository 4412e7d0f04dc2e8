namespace ContactGrains.LoadTest.Tests;

public class CoordinatedOmissionTests
{
    private static TimeSpan Ms(double milliseconds) => TimeSpan.FromMilliseconds(milliseconds);

    [Theory]
    [InlineData(100.0, null, 100.0)] // the first turn: on time
    [InlineData(100.0, 50.0, 100.0)] // the previous ack came in time
    [InlineData(100.0, 150.0, 150.0)] // waits for the previous ack
    public void A_turn_goes_out_at_its_time_or_once_the_previous_turn_is_acknowledged(double intended, double? previousAcked, double expected)
    {
        Assert.Equal(Ms(expected), MessageTiming.SendTime(Ms(intended), previousAcked is { } acked ? Ms(acked) : null));
    }

    /// <summary>
    /// One conversation at 10 messages a second against a server that answers in 1 ms but stalls from
    /// 100 ms to 1,100 ms: a message sent during the stall is acknowledged at 1,100 ms.
    /// </summary>
    [Fact]
    public void A_stall_counts_against_every_message_that_should_have_been_sent_during_it()
    {
        static TimeSpan Server(TimeSpan sent) => sent >= Ms(100) && sent < Ms(1100) ? Ms(1100) : sent + Ms(1);
        var schedule = new ArrivalSchedule(10, 1, 15);

        var timings = MessageTiming.Replay(Enumerable.Range(0, 15).Select(k => schedule.DueAt(k)), Server);

        // Messages 2 to 11 were due during the stall but went out after it, each after the previous ack.
        Assert.Equal(
            [1, 1000, 901, 802, 703, 604, 505, 406, 307, 208, 109, 10, 1, 1, 1],
            timings.Select(t => t.Corrected.TotalMilliseconds));
        Assert.Equal(
            [1, 1000, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
            timings.Select(t => t.Uncorrected.TotalMilliseconds));
        Assert.Equal([0, 100, 1100, 1101, 1102], timings.Take(5).Select(t => t.Sent.TotalMilliseconds));

        var corrected = new LatencyHistogram();
        var uncorrected = new LatencyHistogram();
        foreach (var timing in timings)
        {
            corrected.Record(timing.Corrected);
            uncorrected.Record(timing.Uncorrected);
        }

        // Uncorrected, the stall looks like one slow message; corrected, like the ten it delayed.
        Assert.Equal(10, timings.Count(t => t.Corrected >= Ms(100)));
        Assert.Equal(1, timings.Count(t => t.Uncorrected >= Ms(100)));
        Assert.Equal(307.199, corrected.Summarize().P50Ms); // 307 ms, in a bucket of 256 µs
        Assert.Equal(1.0, uncorrected.Summarize().P50Ms);
    }

    [Fact]
    public void Without_a_stall_both_latencies_are_the_servers_time()
    {
        var schedule = new ArrivalSchedule(10, 1, 5);

        var timings = MessageTiming.Replay(Enumerable.Range(0, 5).Select(k => schedule.DueAt(k)), sent => sent + Ms(3));

        Assert.All(timings, t => Assert.Equal((Ms(3), Ms(3)), (t.Corrected, t.Uncorrected)));
        Assert.Equal([0, 100, 200, 300, 400], timings.Select(t => t.Sent.TotalMilliseconds));
    }
}
