using System.Globalization;

namespace ContactGrains.LoadTest;

internal static class Stats
{
    public static string Percentiles(List<double> samplesMs)
    {
        if (samplesMs.Count == 0)
        {
            return "no samples";
        }

        samplesMs.Sort();
        double At(double p) => samplesMs[Math.Min(samplesMs.Count - 1, (int)Math.Ceiling(p * samplesMs.Count) - 1)];
        return string.Create(CultureInfo.InvariantCulture, $"p50 {At(0.50):F2} ms, p95 {At(0.95):F2} ms, p99 {At(0.99):F2} ms, max {samplesMs[^1]:F2} ms");
    }

    /// <summary>Resident memory of a process in MiB, from /proc (Linux), or null when unknown.</summary>
    public static double? ResidentMiB(int pid)
    {
        var path = $"/proc/{pid}/status";
        if (!File.Exists(path))
        {
            return null;
        }

        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var kb = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return kb is null ? null : double.Parse(kb, CultureInfo.InvariantCulture) / 1024;
    }
}
