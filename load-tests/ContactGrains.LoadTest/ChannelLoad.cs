using System.Globalization;
using ContactGrains.Client;

namespace ContactGrains.LoadTest;

/// <summary>
/// Adapters under load through <see cref="ChannelRun"/>: closed loop (every conversation in flight
/// at once, each turn once the previous is acknowledged), or with <c>--rate</c> open loop (messages
/// on a fixed schedule, latency corrected for coordinated omission).
/// </summary>
internal static class ChannelLoad
{
    public static async Task<int> RunAsync(LoadOptions options, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(options.MaxSeconds));
        using var grpc = ChannelClient.OpenChannel(options.Address);
        var report = new LoadReport("channel");
        report.Set("mode", options.Rate is null ? "closed loop" : "open loop");
        report.Set("address", options.Address);
        report.Set("streams", options.Streams);
        report.Set("conversations", options.Conversations);
        report.Set("turns", options.Turns);
        report.Set("rate (messages/s)", options.Rate);
        report.Set("max seconds", options.MaxSeconds);
        report.Set("silo pid", options.SiloPid);

        var expected = options.Conversations * options.Turns;
        var entriesPerConversation = 1 + (2 * options.Turns);
        var stream = (options.Conversations + options.Streams - 1) / options.Streams;
        Console.WriteLine(options.Rate is { } rate
            ? $"channel load (open loop): {options.Conversations} conversations × {options.Turns} turns over {options.Streams} streams to {options.Address} at {rate} messages/s (stops after {options.MaxSeconds} s)"
            : $"channel load: {options.Conversations} conversations × {options.Turns} turns over {options.Streams} streams to {options.Address} (stops after {options.MaxSeconds} s)");

        var costs = RunCosts.Start(options.SiloPid);
        await using var run = ChannelRun.Open(grpc, options.Streams, options.Turns, stream * entriesPerConversation, TimeSpan.FromSeconds(options.MaxSeconds), deadline.Token);
        var ackLatency = new LatencyHistogram();
        var fromSent = new LatencyHistogram();
        Task work = options.Rate is { } messagesPerSecond
            ? run.OpenLoopAsync(new ArrivalSchedule(messagesPerSecond, options.Conversations, options.Turns), expected, ackLatency, fromSent)
            : run.ClosedLoopAsync(options.Conversations, options.Turns, ackLatency);
        await ProgressView.ShowWhileAsync(
            FinishAsync(work, run, expected),
            () => new ProgressSnapshot(run.Acked, expected, ackLatency.PercentileMs(99)));
        costs.Stop();

        var lines = new List<string>();
        if (options.Rate is { } requested)
        {
            // From the intended send time above; from the actual send here, for comparison.
            report.Latencies["ack from intended send (corrected)"] = ackLatency.Summarize();
            report.Latencies["ack from actual send (uncorrected)"] = fromSent.Summarize();
            lines.Add($"ack latency: {ackLatency.Summarize()}");
            lines.Add($"uncorrected latency (from actual send): {fromSent.Summarize()}");
            var achieved = run.AchievedSendRate();
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"send rate: requested {requested} messages/s, achieved {achieved:F0} messages/s"));
            report.Add("requested rate", requested, "messages/s");
            report.Add("achieved send rate", achieved, "messages/s");
        }
        else
        {
            report.Latencies["ack"] = ackLatency.Summarize();
            lines.Add($"ack latency: {ackLatency.Summarize()}");
        }

        return Summary.Write(report, run, costs, expected, options.Conversations, lines, options.ReportDirectory);
    }

    /// <summary>
    /// One closed-loop run, silent: what it measured, for other commands (ceiling, failover) to
    /// compare and print their own way.
    /// </summary>
    internal static async Task<ChannelRunResult> MeasureAsync(LoadOptions options, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(options.MaxSeconds));
        using var grpc = ChannelClient.OpenChannel(options.Address);
        var expected = options.Conversations * options.Turns;
        var stream = (options.Conversations + options.Streams - 1) / options.Streams;
        var costs = RunCosts.Start(siloPid: null);
        await using var run = ChannelRun.Open(grpc, options.Streams, options.Turns, stream * (1 + (2 * options.Turns)), TimeSpan.FromSeconds(options.MaxSeconds), deadline.Token);
        var ackLatency = new LatencyHistogram();
        await FinishAsync(run.ClosedLoopAsync(options.Conversations, options.Turns, ackLatency), run, expected);
        costs.Stop();
        return new ChannelRunResult(
            run.Acked, expected, costs.Elapsed, ackLatency.Summarize(), costs.GeneratorCpuSeconds, costs.AllocatedBytes,
            run.Resent, run.Reconnections, run.Duplicates, [.. run.Problems]);
    }

    private static async Task<bool> FinishAsync(Task work, ChannelRun run, int expected)
    {
        await work;
        await run.FinishAsync(expected, everyConversationComplete: true);
        return true;
    }
}

/// <summary>What one closed-loop channel run measured (<see cref="ChannelLoad.MeasureAsync"/>).</summary>
internal sealed record ChannelRunResult(
    int Messages,
    int Expected,
    TimeSpan Elapsed,
    LatencySummary AckLatency,
    double GeneratorCpuSeconds,
    long AllocatedBytes,
    int Resent,
    int Reconnections,
    int Duplicates,
    IReadOnlyList<string> Problems)
{
    public double MessagesPerSecond => Elapsed > TimeSpan.Zero ? Messages / Elapsed.TotalSeconds : 0;

    /// <summary>Every message acknowledged, every conversation complete, in order, gap-free.</summary>
    public bool Passed => Problems.Count == 0 && Messages == Expected;
}
