using System.Diagnostics;
using System.Globalization;
using ContactGrains.Client;
using ContactGrains.Protos.V1;

namespace ContactGrains.LoadTest;

/// <summary>The silo's memory at one checkpoint of an <c>idle</c> run.</summary>
/// <param name="Conversations">Conversations open (each one message, answered by the bot).</param>
/// <param name="ResidentMiB">The silo's resident memory (VmRSS) after the settle pause.</param>
/// <param name="GrowthMiB">Resident memory above the reading taken before the first conversation.</param>
/// <param name="KiBPerConversation">Growth divided by the conversations open.</param>
/// <param name="KiBPerConversationSincePrevious">Growth since the previous checkpoint divided by the conversations opened since (the marginal cost, without the fixed costs the first ones pay).</param>
internal sealed record MemoryCheckpoint(int Conversations, double ResidentMiB, double GrowthMiB, double KiBPerConversation, double KiBPerConversationSincePrevious);

/// <summary>The arithmetic of an <c>idle</c> run: where it stops to measure, and what each reading means per conversation. Pure.</summary>
internal static class IdleMemory
{
    /// <summary>The checkpoints up to <paramref name="max"/>, ascending, once each, ending at <paramref name="max"/> (added when not among them).</summary>
    public static IReadOnlyList<int> Plan(IEnumerable<int> checkpoints, int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var plan = checkpoints.Where(c => c > 0 && c <= max).Distinct().Order().ToList();
        if (plan.Count == 0 || plan[^1] < max)
        {
            plan.Add(max);
        }

        return plan;
    }

    /// <summary>Each reading against the baseline (before any conversation) and against the previous reading.</summary>
    public static IReadOnlyList<MemoryCheckpoint> Compute(double baselineMiB, IReadOnlyList<(int Conversations, double ResidentMiB)> readings)
    {
        var rows = new List<MemoryCheckpoint>(readings.Count);
        var (previousCount, previousMiB) = (0, baselineMiB);
        foreach (var (count, residentMiB) in readings)
        {
            var growth = residentMiB - baselineMiB;
            var marginal = count > previousCount ? (residentMiB - previousMiB) * 1024 / (count - previousCount) : 0;
            rows.Add(new MemoryCheckpoint(count, residentMiB, growth, growth * 1024 / count, marginal));
            (previousCount, previousMiB) = (count, residentMiB);
        }

        return rows;
    }
}

/// <summary>
/// Conversations left open: each says one routine question (the bot answers it) over a few adapter
/// streams, and is then left alone, as customers who never write again. At each checkpoint the run
/// pauses, lets the silo settle and, with <c>--silo-pid</c>, reads its resident memory: what an open,
/// idle conversation costs.
/// </summary>
internal static class IdleLoad
{
    /// <summary>Messages waiting for their ack on each stream at once: enough that the silo, not the generator, sets the pace.</summary>
    public const int WindowPerStream = 256;

    public const string ResidentMemoryNote =
        "Resident memory (VmRSS from /proc) is what the process holds from the OS, not what its live objects need: it includes the "
        + "garbage collector's headroom (heap segments kept for the next allocations, collected garbage not yet returned), so it moves in "
        + "steps and a per-conversation figure from a small count is mostly fixed costs. Read it after a settle pause, at large counts, "
        + "and prefer the since-previous column. The conversations stay activated (Orleans collects idle grains only after its "
        + "collection age) and stay carried by the adapter streams.";

    public static async Task<int> RunAsync(LoadOptions options, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(options.MaxSeconds));
        using var grpc = ChannelClient.OpenChannel(options.Address);
        var run = Guid.NewGuid().ToString("N")[..8];
        var plan = IdleMemory.Plan(options.Checkpoints, options.Conversations);
        var report = new LoadReport("idle");
        report.Settings["address"] = options.Address;
        report.Settings["streams"] = options.Streams.ToString(CultureInfo.InvariantCulture);
        report.Settings["conversations"] = options.Conversations.ToString(CultureInfo.InvariantCulture);
        report.Settings["checkpoints"] = string.Join(",", plan);
        report.Settings["settle seconds"] = options.SettleSeconds.ToString(CultureInfo.InvariantCulture);
        report.Settings["silo pid"] = options.SiloPid?.ToString(CultureInfo.InvariantCulture) ?? "not given";
        report.Settings["max seconds"] = options.MaxSeconds.ToString(CultureInfo.InvariantCulture);
        Console.WriteLine($"idle load: up to {options.Conversations} open conversations (checkpoints {string.Join(", ", plan)}) over {options.Streams} streams to {options.Address} (stops after {options.MaxSeconds} s)");

        var streams = Enumerable.Range(0, options.Streams).Select(_ => ChannelConnection.Open(new ChannelConnectionOptions
        {
            Channel = "loadtest",
            GrpcChannels = [grpc],
            AckTimeout = TimeSpan.FromSeconds(options.MaxSeconds),
        })).ToArray();

        var ack = new LatencyHistogram();
        var problems = new List<string>();
        var rejected = 0;
        var opened = 0;
        var next = -1;
        var baselineMiB = options.SiloPid is { } pid ? Stats.ResidentMiB(pid) : null;
        if (options.SiloPid is not null && baselineMiB is null)
        {
            problems.Add($"no resident memory for process {options.SiloPid} (/proc/{options.SiloPid}/status unreadable)");
        }

        var readings = new List<(int Conversations, double ResidentMiB)>();
        var segments = new List<(int Conversations, double Seconds)>();
        var total = Stopwatch.StartNew();
        try
        {
            foreach (var checkpoint in plan)
            {
                var segment = Stopwatch.StartNew();
                var openedBefore = Volatile.Read(ref opened);

                // Each worker keeps one message in flight on its stream; together, WindowPerStream per stream.
                async Task WorkAsync(ChannelConnection stream)
                {
                    for (var index = Interlocked.Increment(ref next); index < checkpoint; index = Interlocked.Increment(ref next))
                    {
                        var thread = $"{run}-{index}";
                        var question = HybridScript.Routine[index % HybridScript.Routine.Length];
                        var sentAt = Stopwatch.GetTimestamp();
                        var result = await stream.SendAsync(
                            new InboundMessage
                            {
                                MessageId = $"{thread}/0",
                                Conversation = ConversationAddress.ForThread(thread),
                                Customer = new CustomerIdentity { ExternalCustomerId = thread, Language = question.Language },
                                Text = question.Text,
                            },
                            deadline.Token);
                        ack.RecordSince(sentAt);
                        if (result.Status == AckStatus.Accepted)
                        {
                            Interlocked.Increment(ref opened);
                        }
                        else if (Interlocked.Increment(ref rejected) <= 10)
                        {
                            lock (problems)
                            {
                                problems.Add($"{thread}: {result.Status} {result.Code} {result.Detail}");
                            }
                        }
                    }
                }

                await Task.WhenAll(streams.SelectMany(s => Enumerable.Range(0, WindowPerStream).Select(_ => WorkAsync(s))));
                next = checkpoint - 1; // each worker's last draw went past the checkpoint: the next step starts right at it
                segment.Stop();
                segments.Add((checkpoint, segment.Elapsed.TotalSeconds));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{checkpoint} conversations open ({(Volatile.Read(ref opened) - openedBefore) / segment.Elapsed.TotalSeconds:F0} opened/s in this step); settling {options.SettleSeconds} s"));
                await Task.Delay(TimeSpan.FromSeconds(options.SettleSeconds), deadline.Token);
                if (options.SiloPid is { } siloPid && Stats.ResidentMiB(siloPid) is { } residentMiB)
                {
                    readings.Add((checkpoint, residentMiB));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  silo resident memory: {residentMiB:F0} MiB"));
                }
            }
        }
        catch (Exception ex) when (deadline.IsCancellationRequested && ex is OperationCanceledException or TimeoutException)
        {
            problems.Add($"stopped at the time limit ({options.MaxSeconds} s) with {Volatile.Read(ref opened)} conversations open");
        }
        catch (Exception ex) when (ex is TimeoutException or ConnectionFailedException)
        {
            problems.Add($"stopped with {Volatile.Read(ref opened)} conversations open: {ex.Message}");
        }

        total.Stop();
        if (Volatile.Read(ref opened) > 0 && !deadline.IsCancellationRequested)
        {
            await SampleAsync(streams[0], run, Volatile.Read(ref opened), problems, deadline.Token);
        }

        foreach (var stream in streams)
        {
            await stream.DisposeAsync();
        }

        if (rejected > 10)
        {
            problems.Add($"… {rejected} messages rejected in all");
        }

        var memory = baselineMiB is { } baseline ? IdleMemory.Compute(baseline, readings) : [];
        var table = new LoadReport.Table(
            "Checkpoints",
            ["conversations", "step time", "silo RSS", "growth", "per conversation", "per conversation since previous"],
            []);
        foreach (var (conversations, seconds) in segments)
        {
            var row = memory.FirstOrDefault(m => m.Conversations == conversations);
            table.Rows.Add(row is null
                ? [conversations.ToString("#,0", CultureInfo.InvariantCulture), Format(seconds, "s"), "n/a", "n/a", "n/a", "n/a"]
                : [conversations.ToString("#,0", CultureInfo.InvariantCulture), Format(seconds, "s"), Format(row.ResidentMiB, "MiB"), Format(row.GrowthMiB, "MiB"),
                    Format(row.KiBPerConversation, "KiB"), Format(row.KiBPerConversationSincePrevious, "KiB")]);
            if (row is not null)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{conversations} conversations: silo RSS {row.ResidentMiB:F0} MiB, +{row.GrowthMiB:F0} MiB since the start, {row.KiBPerConversation:F2} KiB per conversation ({row.KiBPerConversationSincePrevious:F2} KiB each since the previous checkpoint)"));
            }
        }

        report.Tables.Add(table);
        if (baselineMiB is { } start)
        {
            report.Add("silo RSS before the first conversation", start, "MiB");
            report.Notes.Add(ResidentMemoryNote);
        }
        else
        {
            report.Notes.Add("No --silo-pid: conversations opened and timed, memory not read.");
        }

        report.Add("conversations open", Volatile.Read(ref opened), "");
        report.Add("run time", total.Elapsed.TotalSeconds, "s");
        report.Latencies["ack"] = ack.Summarize();
        Console.WriteLine($"ack: {report.Latencies["ack"]}");
        if (problems.Count == 0 && Volatile.Read(ref opened) < plan[^1])
        {
            problems.Add($"only {Volatile.Read(ref opened)}/{plan[^1]} conversations opened");
        }

        report.Problems.AddRange(problems);
        report.Passed = problems.Count == 0;
        return report.Conclude(options.ReportDirectory, $"{plan[^1]} conversations open, every message acknowledged");
    }

    /// <summary>
    /// Checks a few of the conversations (the first, the middle, the last) the way the run left them:
    /// open, still the bot's, and holding the bot's answer after the customer's question.
    /// </summary>
    private static async Task SampleAsync(ChannelConnection stream, string run, int opened, List<string> problems, CancellationToken cancellationToken)
    {
        foreach (var index in new[] { 0, opened / 2, opened - 1 }.Distinct())
        {
            var thread = $"{run}-{index}";
            try
            {
                var view = await stream.GetConversationAsync(ConversationAddress.ForThread(thread), cancellationToken);
                var transcript = await stream.GetTranscriptAsync(ConversationAddress.ForId(view.ConversationId), cancellationToken: cancellationToken);
                var botAnswered = transcript.Entries.Any(e => e.Message is { Sender: SenderKind.Bot, Bot.Understood: true });
                if (view.Status != ConversationStatus.Open || view.Owner.Kind != OwnerKind.Bot || !botAnswered)
                {
                    problems.Add($"{thread}: {view.Status}, owned by {view.Owner.Kind}, {(botAnswered ? "answered" : "not answered")} by the bot (expected open, the bot's, answered)");
                }
            }
            catch (Grpc.Core.RpcException ex)
            {
                problems.Add($"{thread}: could not be read back: {ex.StatusCode} {ex.Status.Detail}");
            }
        }
    }

    private static string Format(double value, string unit) => string.Create(CultureInfo.InvariantCulture, $"{value:#,0.##} {unit}");
}
