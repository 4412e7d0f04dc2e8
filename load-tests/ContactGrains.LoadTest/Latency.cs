using System.Diagnostics;
using System.Globalization;
using HdrHistogram;

namespace ContactGrains.LoadTest;

/// <summary>
/// Latencies recorded from many tasks at once into an HdrHistogram (microseconds, 1 µs to 1 hour,
/// 3 significant digits): constant memory and cost per sample, whatever the run's length.
/// </summary>
internal sealed class LatencyHistogram
{
    private const long HighestMicroseconds = 3_600_000_000;
    private const int SignificantDigits = 3;

    private readonly LongConcurrentHistogram _histogram = new(1, HighestMicroseconds, SignificantDigits);

    // Only soak reads intervals, so the other modes do not pay for a second recording.
    private readonly Recorder? _interval;
    private HistogramBase? _spareInterval;

    /// <param name="trackIntervals">Also keeps the samples since the last <see cref="TakeInterval"/>.</param>
    public LatencyHistogram(bool trackIntervals = false)
    {
        if (trackIntervals)
        {
            _interval = new Recorder(1, HighestMicroseconds, SignificantDigits, (id, lowest, highest, digits) => new LongHistogram(id, lowest, highest, digits));
        }
    }

    public long Count => _histogram.TotalCount;

    /// <summary>Records the time from <paramref name="startTimestamp"/> (a <see cref="Stopwatch"/> timestamp) to now.</summary>
    public void RecordSince(long startTimestamp) => Record(Stopwatch.GetElapsedTime(startTimestamp));

    /// <summary>Records the time between two <see cref="Stopwatch"/> timestamps.</summary>
    public void Record(long startTimestamp, long endTimestamp) => Record(Stopwatch.GetElapsedTime(startTimestamp, endTimestamp));

    public void Record(TimeSpan latency)
    {
        var microseconds = Math.Clamp((long)latency.TotalMicroseconds, 1, HighestMicroseconds);
        _histogram.RecordValue(microseconds);
        _interval?.RecordValue(microseconds);
    }

    /// <summary>Adds every sample of <paramref name="other"/> (e.g. one stream's histogram into the run's).</summary>
    public void Add(LatencyHistogram other) => _histogram.Add(other._histogram);

    public LatencySummary Summarize() => Summarize(_histogram);

    /// <summary>One percentile so far, in milliseconds (0 without samples): cheaper than a whole summary, for the live view.</summary>
    public double PercentileMs(double percentile) =>
        _histogram.TotalCount == 0 ? 0 : Milliseconds(_histogram.GetValueAtPercentile(percentile));

    /// <summary>
    /// The samples recorded since the previous call (or the start), without stopping the writers:
    /// HdrHistogram's <see cref="Recorder"/> swaps in a fresh histogram.
    /// </summary>
    public LatencySummary TakeInterval()
    {
        if (_interval is null)
        {
            throw new InvalidOperationException("This histogram was created without intervals.");
        }

        // Recycles the previous interval's histogram: one allocation for the whole run instead of one per sample.
        var interval = _interval.GetIntervalHistogram(_spareInterval);
        _spareInterval = interval;
        return Summarize(interval);
    }

    private static LatencySummary Summarize(HistogramBase histogram) => histogram.TotalCount == 0
        ? LatencySummary.Empty
        : new LatencySummary(
            histogram.TotalCount,
            Milliseconds(histogram.GetValueAtPercentile(50)),
            Milliseconds(histogram.GetValueAtPercentile(90)),
            Milliseconds(histogram.GetValueAtPercentile(95)),
            Milliseconds(histogram.GetValueAtPercentile(99)),
            Milliseconds(histogram.GetValueAtPercentile(99.9)),
            Milliseconds(histogram.GetMaxValue()),
            histogram.GetMean() / 1000);

    private static double Milliseconds(long microseconds) => microseconds / 1000.0;
}

/// <summary>A latency distribution's count and percentiles, in milliseconds.</summary>
internal sealed record LatencySummary(long Count, double P50Ms, double P90Ms, double P95Ms, double P99Ms, double P999Ms, double MaxMs, double MeanMs)
{
    public static readonly LatencySummary Empty = new(0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>"p50 1.20 ms, p95 3.40 ms, p99 5.60 ms, max 7.80 ms": the line scripts read.</summary>
    public override string ToString() => Count == 0
        ? "no samples"
        : string.Create(CultureInfo.InvariantCulture, $"p50 {P50Ms:F2} ms, p95 {P95Ms:F2} ms, p99 {P99Ms:F2} ms, max {MaxMs:F2} ms");
}
