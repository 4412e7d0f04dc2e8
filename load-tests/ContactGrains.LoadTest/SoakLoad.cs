using System.Diagnostics;
using System.Globalization;
using ContactGrains.Client;

namespace ContactGrains.LoadTest;

/// <summary>
/// A rate held for a while, open loop, with new conversations arriving all the time: sampled at
/// intervals to show whether latency or the silo's memory drift as the run goes on.
/// </summary>
internal static class SoakLoad
{
    /// <summary>Seconds the acks still due after the schedule's end may take before the run stops.</summary>
    public const int DrainSeconds = 30;

    public static async Task<int> RunAsync(LoadOptions options, CancellationToken cancellationToken = default)
    {
        var rate = options.Rate ?? throw new ArgumentException("soak needs a rate.", nameof(options));
        var limit = TimeSpan.FromSeconds(options.DurationSeconds + DrainSeconds);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        using var grpc = ChannelClient.OpenChannel(options.Address);
        var report = new LoadReport("soak");
        report.Set("address", options.Address);
        report.Set("streams", options.Streams);
        report.Set("open conversations", options.Conversations);
        report.Set("turns", options.Turns);
        report.Set("rate (messages/s)", rate);
        report.Set("duration (s)", options.DurationSeconds);
        report.Set("sample (s)", options.SampleSeconds);
        report.Set("silo pid", options.SiloPid);

        var schedule = new ArrivalSchedule(rate, options.Conversations, options.Turns);
        var expected = (long)rate * options.DurationSeconds;
        Console.WriteLine($"soak: {rate} messages/s for {options.DurationSeconds} s over {options.Streams} streams to {options.Address}, {options.Conversations} conversations open at once × {options.Turns} turns, sampled every {options.SampleSeconds} s");

        var costs = RunCosts.Start(options.SiloPid);
        var conversationsPerStream = (options.Conversations + options.Streams - 1) / options.Streams;

        // Buffer for a few rounds of every open conversation's entries; the reader drains it as the run goes.
        var readBuffer = conversationsPerStream * ((2 * options.Turns) + 1) * 4;
        await using var run = ChannelRun.Open(grpc, options.Streams, options.Turns, readBuffer, limit, deadline.Token);
        var fromIntended = new LatencyHistogram(trackIntervals: true);
        var fromSent = new LatencyHistogram();
        var soaking = SoakAsync(run, schedule, expected, fromIntended, fromSent);
        var sampling = SampleAsync(soaking, run, fromIntended, TimeSpan.FromSeconds(options.SampleSeconds), options.SiloPid);
        var samples = await ProgressView.ShowWhileAsync(
            sampling,
            () => new ProgressSnapshot(run.Acked, expected, fromIntended.PercentileMs(99)));
        costs.Stop();

        report.Samples.AddRange(samples);
        report.Latencies["ack from intended send (corrected)"] = fromIntended.Summarize();
        report.Latencies["ack from actual send (uncorrected)"] = fromSent.Summarize();
        var achieved = run.AchievedSendRate();
        report.Add("requested rate", rate, "messages/s");
        report.Add("achieved send rate", achieved, "messages/s");
        var lines = new List<string>
        {
            $"ack latency: {fromIntended.Summarize()}",
            $"uncorrected latency (from actual send): {fromSent.Summarize()}",
            string.Create(CultureInfo.InvariantCulture, $"send rate: requested {rate} messages/s, achieved {achieved:F0} messages/s"),
        };
        lines.AddRange(samples.Select(Describe));
        if (SoakDrift.Compute(samples) is { } drift)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"drift from interval {drift.FirstSample} to {drift.LastSample}: p99 ×{Ratio(drift.P99Ratio)}, silo RSS ×{Ratio(drift.RssRatio)}"));
            if (drift.P99Ratio is { } p99)
            {
                report.Add("p99 drift (last / first full interval)", p99, "×");
            }

            if (drift.RssRatio is { } rss)
            {
                report.Add("silo RSS drift (last / first full interval)", rss, "×");
            }
        }
        else
        {
            lines.Add("drift: fewer than two full intervals");
        }

        var conversations = (expected + options.Turns - 1) / options.Turns;
        return Summary.Write(report, run, costs, expected, conversations, lines, options.ReportDirectory);
    }

    private static async Task SoakAsync(ChannelRun run, ArrivalSchedule schedule, long messages, LatencyHistogram fromIntended, LatencyHistogram fromSent)
    {
        await run.OpenLoopAsync(schedule, messages, fromIntended, fromSent);

        // Conversations cut by the end of the schedule have fewer turns: only gaps and totals are checked.
        await run.FinishAsync(messages, everyConversationComplete: false);
    }

    /// <summary>Takes a sample at every interval's end until <paramref name="soaking"/> ends, then one for the part-interval left.</summary>
    private static async Task<List<SoakSample>> SampleAsync(Task soaking, ChannelRun run, LatencyHistogram fromIntended, TimeSpan every, int? siloPid)
    {
        var samples = new List<SoakSample>();
        var start = Stopwatch.GetTimestamp();
        var previous = (At: TimeSpan.Zero, Acked: 0L, SiloCpu: siloPid is { } pid ? Stats.CpuSeconds(pid) : null);
        while (true)
        {
            // Interval ends are fixed from the start, so sampling late once does not shift the rest.
            var end = every * (samples.Count + 1);
            var wait = end - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.Zero)
            {
                await Task.WhenAny(soaking, Task.Delay(wait));
            }

            var now = Stopwatch.GetElapsedTime(start);
            var acked = (long)run.Acked;
            var latency = fromIntended.TakeInterval();
            var siloCpu = siloPid is { } id ? Stats.CpuSeconds(id) : null;
            var seconds = (now - previous.At).TotalSeconds;
            var full = SoakSample.IsFull(seconds, every.TotalSeconds);
            if (full || acked > previous.Acked)
            {
                samples.Add(new SoakSample(
                    samples.Count + 1, now.TotalSeconds, seconds, full, acked - previous.Acked,
                    seconds > 0 ? (acked - previous.Acked) / seconds : 0, latency.P50Ms, latency.P99Ms,
                    siloPid is { } rssPid ? Stats.ResidentMiB(rssPid) : null, siloCpu - previous.SiloCpu));
            }

            previous = (now, acked, siloCpu);
            if (soaking.IsCompleted)
            {
                await soaking;
                return samples;
            }
        }
    }

    private static string Describe(SoakSample s) => string.Create(CultureInfo.InvariantCulture,
        $"interval {s.Index}{(s.Full ? "" : " (cut short)")}: {s.StartSeconds:F1} s to {s.EndSeconds:F1} s, {s.MessagesPerSecond:F0} messages/s, p50 {s.P50Ms:F2} ms, p99 {s.P99Ms:F2} ms{(s.SiloRssMiB is { } rss ? $", silo RSS {rss:F0} MiB" : "")}{(s.SiloCpuSeconds is { } cpu ? $", silo CPU {cpu:F2} s" : "")}");

    private static string Ratio(double? ratio) => ratio is { } value ? value.ToString("F2", CultureInfo.InvariantCulture) : "n/a";
}
