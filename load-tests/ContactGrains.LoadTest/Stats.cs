using System.Diagnostics;
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

    /// <summary>CPU time (user and system) this process has used so far, in seconds.</summary>
    public static double OwnCpuSeconds()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }

    /// <summary>CPU time (user and system) of a process in seconds, from /proc (Linux, 100 ticks a second), or null when unknown.</summary>
    public static double? CpuSeconds(int pid)
    {
        var path = $"/proc/{pid}/stat";
        if (!File.Exists(path))
        {
            return null;
        }

        // The fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
        var stat = File.ReadAllText(path);
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / 100;
    }

    /// <summary>"what: 1.23 s (123 µs per message)".</summary>
    public static string CpuLine(string what, double seconds, int messages) => string.Create(CultureInfo.InvariantCulture,
        $"{what}: {seconds:F2} s ({(messages > 0 ? $"{seconds * 1_000_000 / messages:F0} µs per message" : "no messages")})");

    /// <summary>Resident memory of a process in MiB, from /proc (Linux), or null when unknown.</summary>
    public static double? ResidentMiB(int pid)
    {
        var path = $"/proc/{pid}/status";
        if (!File.Exists(path))
        {
            return null;
        }

        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? null : StatusKiB(line) / 1024;
    }

    /// <summary>
    /// The kB figure of a /proc status line such as <c>VmRSS:\t 1814504 kB</c>. The kernel pads the
    /// number after the tab to eight characters, so from 10 GB up there is no space before it:
    /// <c>VmRSS:\t16147184 kB</c>. Split on any whitespace.
    /// </summary>
    public static double StatusKiB(string line)
    {
        var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 2 && double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var kb)
            ? kb
            : throw new FormatException($"Not a /proc status line with a kB figure: '{line}'.");
    }
}
