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

    private readonly LongConcurrentHistogram _histogram = new(1, HighestMicroseconds, 3);

    public long Count => _histogram.TotalCount;

    /// <summary>Records the time from <paramref name="startTimestamp"/> (a <see cref="Stopwatch"/> timestamp) to now.</summary>
    public void RecordSince(long startTimestamp) => Record(Stopwatch.GetElapsedTime(startTimestamp));

    public void Record(TimeSpan latency) =>
        _histogram.RecordValue(Math.Clamp((long)latency.TotalMicroseconds, 1, HighestMicroseconds));

    /// <summary>Adds every sample of <paramref name="other"/> (e.g. one stream's histogram into the run's).</summary>
    public void Add(LatencyHistogram other) => _histogram.Add(other._histogram);

    public LatencySummary Summarize() => _histogram.TotalCount == 0
        ? LatencySummary.Empty
        : new LatencySummary(
            _histogram.TotalCount,
            Milliseconds(_histogram.GetValueAtPercentile(50)),
            Milliseconds(_histogram.GetValueAtPercentile(90)),
            Milliseconds(_histogram.GetValueAtPercentile(95)),
            Milliseconds(_histogram.GetValueAtPercentile(99)),
            Milliseconds(_histogram.GetValueAtPercentile(99.9)),
            Milliseconds(_histogram.GetMaxValue()),
            _histogram.GetMean() / 1000);

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
