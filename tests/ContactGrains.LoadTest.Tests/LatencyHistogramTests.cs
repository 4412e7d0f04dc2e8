namespace ContactGrains.LoadTest.Tests;

public class LatencyHistogramTests
{
    [Fact]
    public void Percentiles_of_one_to_a_thousand_microseconds_are_exact()
    {
        // Below 2,048 µs a 3-digit HdrHistogram keeps every microsecond apart.
        var histogram = new LatencyHistogram();
        for (var us = 1; us <= 1000; us++)
        {
            histogram.Record(TimeSpan.FromMicroseconds(us));
        }

        Assert.Equal(new LatencySummary(1000, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0, 0.5005), histogram.Summarize());
    }

    [Theory]
    [InlineData(1_500, 1.5)] // exact below 2,048 µs
    [InlineData(3_000, 3.001)] // 2,048 to 4,095 µs: buckets of 2 µs, the bucket's highest value reported
    [InlineData(100_000, 100.031)] // 65,536 to 131,071 µs: buckets of 64 µs (99,968 to 100,031)
    [InlineData(0, 0.001)] // recorded as the lowest value, 1 µs
    public void A_latency_is_reported_within_the_histograms_precision(long microseconds, double expectedMs)
    {
        var histogram = new LatencyHistogram();
        histogram.Record(TimeSpan.FromMicroseconds(microseconds));

        var summary = histogram.Summarize();

        Assert.Equal(1, summary.Count);
        Assert.Equal(expectedMs, summary.P50Ms);
        Assert.Equal(expectedMs, summary.P99Ms);
        Assert.Equal(expectedMs, summary.MaxMs);
    }

    [Fact]
    public void Timestamps_are_recorded_as_the_time_between_them()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(0, System.Diagnostics.Stopwatch.Frequency / 1000); // 1 ms of timestamps

        Assert.Equal(1.0, histogram.Summarize().MaxMs);
    }

    [Fact]
    public void Two_merged_histograms_summarize_as_one_that_recorded_everything()
    {
        var lower = new LatencyHistogram();
        var upper = new LatencyHistogram();
        for (var us = 1; us <= 1000; us++)
        {
            (us <= 500 ? lower : upper).Record(TimeSpan.FromMicroseconds(us));
        }

        lower.Add(upper);

        Assert.Equal(new LatencySummary(1000, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0, 0.5005), lower.Summarize());
        Assert.Equal(500, upper.Count);
    }

    [Fact]
    public void An_interval_holds_only_what_was_recorded_since_the_previous_one()
    {
        var histogram = new LatencyHistogram(trackIntervals: true);
        for (var us = 1; us <= 100; us++)
        {
            histogram.Record(TimeSpan.FromMicroseconds(us));
        }

        var first = histogram.TakeInterval();
        for (var i = 0; i < 10; i++)
        {
            histogram.Record(TimeSpan.FromMicroseconds(1000));
        }

        var second = histogram.TakeInterval();
        var third = histogram.TakeInterval();

        Assert.Equal((100L, 0.05, 0.1), (first.Count, first.P50Ms, first.MaxMs));
        Assert.Equal((10L, 1.0, 1.0), (second.Count, second.P50Ms, second.MaxMs));
        Assert.Equal(LatencySummary.Empty, third);
        Assert.Equal(110, histogram.Count);
    }

    [Fact]
    public void Intervals_need_a_histogram_created_for_them()
    {
        Assert.Throws<InvalidOperationException>(() => new LatencyHistogram().TakeInterval());
    }

    [Theory]
    [InlineData(0, "no samples")]
    [InlineData(1, "p50 1.50 ms, p95 1.50 ms, p99 1.50 ms, max 1.50 ms")]
    public void The_summary_line_keeps_the_shape_scripts_read(int samples, string expected)
    {
        var histogram = new LatencyHistogram();
        for (var i = 0; i < samples; i++)
        {
            histogram.Record(TimeSpan.FromMicroseconds(1500));
        }

        Assert.Equal(expected, histogram.Summarize().ToString());
    }
}
