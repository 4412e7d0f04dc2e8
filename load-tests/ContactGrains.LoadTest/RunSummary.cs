using System.Diagnostics;
using System.Globalization;

namespace ContactGrains.LoadTest;

/// <summary>What a run cost: its time, the generator's CPU and allocations, and the silo's CPU and memory when its process id is known.</summary>
internal sealed class RunCosts
{
    private readonly int? _siloPid;
    private readonly double _cpuBefore;
    private readonly long _allocatedBefore;
    private readonly Stopwatch _elapsed;

    private RunCosts(int? siloPid)
    {
        _siloPid = siloPid;
        SiloRssBeforeMiB = siloPid is { } pid ? Stats.ResidentMiB(pid) : null;
        SiloCpuBefore = siloPid is { } pid2 ? Stats.CpuSeconds(pid2) : null;
        _cpuBefore = Stats.OwnCpuSeconds();
        _allocatedBefore = GC.GetTotalAllocatedBytes();
        _elapsed = Stopwatch.StartNew();
    }

    public TimeSpan Elapsed => _elapsed.Elapsed;

    public double GeneratorCpuSeconds { get; private set; }

    public long AllocatedBytes { get; private set; }

    public double? SiloCpuBefore { get; }

    public double? SiloCpuSeconds { get; private set; }

    public double? SiloRssBeforeMiB { get; }

    public double? SiloRssAfterMiB { get; private set; }

    public static RunCosts Start(int? siloPid) => new(siloPid);

    public void Stop()
    {
        _elapsed.Stop();
        GeneratorCpuSeconds = Stats.OwnCpuSeconds() - _cpuBefore;
        AllocatedBytes = GC.GetTotalAllocatedBytes() - _allocatedBefore;
        if (_siloPid is { } pid)
        {
            SiloCpuSeconds = Stats.CpuSeconds(pid) - SiloCpuBefore;
            SiloRssAfterMiB = Stats.ResidentMiB(pid);
        }
    }
}

/// <summary>The lines every channel mode ends with (scripts grep them), and the same figures in the report.</summary>
internal static class Summary
{
    public static int Write(LoadReport report, ChannelRun run, RunCosts costs, long expected, long conversations, IEnumerable<string> latencyLines, string? reportDirectory)
    {
        var messages = run.Acked;
        var seconds = costs.Elapsed.TotalSeconds;
        var problems = run.Problems.ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"acked {messages}/{expected} messages in {seconds:F2} s: {messages / seconds:F0} messages/s ({messages * 2 / seconds:F0} timeline entries/s out)"));
        foreach (var line in latencyLines)
        {
            Console.WriteLine(line);
        }

        var kibPerMessage = messages > 0 ? costs.AllocatedBytes / 1024.0 / messages : 0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Stats.CpuLine("load generator CPU", costs.GeneratorCpuSeconds, messages)}, {kibPerMessage:F1} KiB allocated per message"));
        report.Add("acked", messages, "messages");
        report.Add("expected", expected, "messages");
        report.Add("seconds", seconds, "s");
        report.Add("throughput", messages / seconds, "messages/s");
        report.Add("generator CPU per message", PerMessageMicroseconds(costs.GeneratorCpuSeconds, messages), "µs");
        report.Add("allocated per message", kibPerMessage, "KiB");
        if (run.Resent is > 0 and var resent)
        {
            // The library retries what the cluster refused as retryable (UNAVAILABLE: overloaded) and resends after a broken stream.
            Console.WriteLine($"messages sent more than once: {resent} (stream reconnections: {run.Reconnections}; acknowledged as duplicates: {run.Duplicates})");
            report.Add("sent more than once", resent, "messages");
        }

        if (costs.SiloCpuSeconds is { } siloCpu)
        {
            Console.WriteLine(Stats.CpuLine("silo CPU", siloCpu, messages));
            report.Add("silo CPU per message", PerMessageMicroseconds(siloCpu, messages), "µs");
        }

        if (costs.SiloRssAfterMiB is { } rssAfter)
        {
            var kibPerConversation = (rssAfter - (costs.SiloRssBeforeMiB ?? 0)) * 1024 / Math.Max(conversations, 1);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"silo resident memory: {costs.SiloRssBeforeMiB:F0} MiB before, {rssAfter:F0} MiB after ({kibPerConversation:F1} KiB per conversation)"));
            report.Add("silo resident memory after", rssAfter, "MiB");
            report.Add("silo resident memory per conversation", kibPerConversation, "KiB");
        }

        foreach (var problem in problems.Take(10))
        {
            Console.WriteLine($"problem: {problem}");
        }

        var ok = problems.Count == 0 && messages == expected;
        Console.WriteLine(ok ? "result: every message acknowledged, every conversation complete, in order, gap-free" : $"result: FAILED ({problems.Count} problems)");
        report.Problems.AddRange(problems);
        report.Passed = ok;
        if (reportDirectory is not null)
        {
            var (json, markdown) = report.Write(reportDirectory);
            Console.WriteLine($"report: {json} {markdown}");
        }

        return ok ? 0 : 1;
    }

    private static double PerMessageMicroseconds(double seconds, long messages) => messages > 0 ? seconds * 1_000_000 / messages : 0;
}
