namespace ContactGrains.LoadTest;

/// <summary>
/// One soak interval: acks and their latency (from the intended send time) in the interval, and
/// the silo's memory at its end and CPU time during it when its process id is known. Full is false
/// for the last, shorter interval cut by the end of the run (see <see cref="IsFull"/>).
/// </summary>
internal sealed record SoakSample(
    int Index, double EndSeconds, double Seconds, bool Full, long Acked, double MessagesPerSecond,
    double P50Ms, double P99Ms, double? SiloRssMiB, double? SiloCpuSeconds)
{
    public double StartSeconds => EndSeconds - Seconds;

    /// <summary>
    /// Whether an interval of <paramref name="seconds"/> counts as a whole period: within a tenth of
    /// it, because a run whose duration is a whole number of periods ends a hair before the last boundary.
    /// </summary>
    public static bool IsFull(double seconds, double periodSeconds) => seconds >= periodSeconds * 0.9;
}

/// <summary>How the last full interval compares with the first: a ratio above 1 means worse.</summary>
internal sealed record SoakDrift(int FirstSample, int LastSample, double? P99Ratio, double? RssRatio)
{
    /// <summary>
    /// Compares the last full interval with the first full one (a cut-short last interval has too few
    /// samples to compare); null with fewer than two full intervals. A ratio is null when a value is
    /// missing or the first is zero.
    /// </summary>
    public static SoakDrift? Compute(IReadOnlyList<SoakSample> samples)
    {
        var full = samples.Where(s => s.Full).ToList();
        if (full.Count < 2)
        {
            return null;
        }

        var (first, last) = (full[0], full[^1]);
        return new SoakDrift(first.Index, last.Index, Ratio(last.P99Ms, first.P99Ms), Ratio(last.SiloRssMiB, first.SiloRssMiB));
    }

    private static double? Ratio(double? last, double? first) =>
        last is { } l && first is { } f && f > 0 ? l / f : null;
}
