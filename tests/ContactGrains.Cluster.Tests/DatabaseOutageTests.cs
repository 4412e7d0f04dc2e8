using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;
using Xunit.Abstractions;

namespace ContactGrains.Cluster.Tests;

/// <summary>
/// Two silo processes on PostgreSQL; the database stops abruptly mid-traffic, new threads keep
/// starting around the outage, and it comes back. Then every silo is killed and fresh ones read
/// back what was acknowledged, by conversation id and by thread id.
/// </summary>
public sealed class DatabaseOutageTests(ITestOutputHelper output)
{
    private const int Conversations = 50;
    private const int NewConversations = 5;
    private const int BeforeOutage = 0;
    private const int DuringOutage = 1;
    private const int AfterOutage = 2;
    private const int AcknowledgedBefore = 2;
    private const int AcknowledgedAfter = 2;
    private const int UnaryProbes = 10;

    /// <summary>At most this many threads start around the outage (at the pace below, about 150 do).</summary>
    private const int ChurnLimit = 250;

    /// <summary>New threads not done yet, at most: in a long outage the churn waits for the database rather than piling up threads.</summary>
    private const int ChurnUnfinished = 80;

    /// <summary>Each new thread sends until this many of its messages are acknowledged.</summary>
    private const int ChurnAcknowledged = 2;

    private const int FreshSilos = 2;

    /// <summary>
    /// Error-level entries (fail, crit) one silo may log in the incident. Expected faults (the
    /// database is down) are logged once per incident as warnings; stack traces are for the unexpected.
    /// </summary>
    private const int ErrorEntriesPerIncident = 5;

    private const int ShownEntries = 5;

    private static readonly TimeSpan SafetyLimit = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan Think = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(4);

    /// <summary>
    /// A new thread this often, from <see cref="ChurnLead"/> before the stop until <see cref="ChurnTail"/>
    /// after the database is back: for seconds after a restart, pooled connections to the old server
    /// fail their next command while fresh ones read fine, so a thread can activate and then fail to write.
    /// </summary>
    private static readonly TimeSpan ChurnPace = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ChurnLead = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ChurnTail = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task A_database_restart_mid_traffic_is_retryable_loses_nothing_acknowledged_by_id_or_by_thread_and_does_not_flood_the_logs()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await using var cluster = await SiloCluster.StartAsync(postgres, "outage", silos: 2);
        var siloPids = cluster.Silos.Select(s => s.SiloProcessId).ToList();
        await using var adapter = new TestAdapter([.. cluster.Silos.Select(s => s.Address)], firstAddress: 0);
        var drivers = Enumerable.Range(1, Conversations)
            .Select(i => new ConversationDriver($"outage-thread-{i:D2}", $"outage-customer-{i:D2}"))
            .ToList();
        await using var traffic = new Traffic(
            adapter, drivers, d => adapter.Epoch == AfterOutage && d.AcknowledgedSince(AfterOutage) >= AcknowledgedAfter, Think, SafetyLimit);

        await ClusterTestFailure.WithDiagnosticsAsync(cluster, adapter, async () =>
        {
            await traffic.WaitUntilAsync(() => drivers.All(d => d.Acknowledged >= AcknowledgedBefore), TimeSpan.FromSeconds(60),
                $"every conversation to have {AcknowledgedBefore} acknowledged messages");

            // New threads from shortly before the stop until shortly after the database is back: some
            // thread's first writes are in flight when the database dies, and its retries meet the outage.
            await using var churn = new ThreadChurn(
                adapter, "outage-churn", d => d.Acknowledged >= ChurnAcknowledged, ChurnPace, ChurnLimit, ChurnUnfinished, Think, SafetyLimit);
            await Task.Delay(ChurnLead);

            var logMarks = cluster.Silos.ToDictionary(s => s, s => SiloLog.LineCount(s.LogPath));
            var stopping = adapter.Now;
            await postgres.StopAsync();
            var stopped = adapter.Now;
            adapter.Epoch = DuringOutage;
            await Task.Delay(Outage);

            // What unary callers see meanwhile, for conversations on either silo: a retryable status,
            // also when the failing grain lives on the other silo (its database exception must cross
            // the silo boundary and still be recognised as an outage).
            var probes = await ProbeUnaryAsync(ChannelClientFor(cluster.Silos[1]), drivers.Take(UnaryProbes));
            var unaryOutcomes = probes.Select(p => p.Outcome).ToList();
            var unary = string.Join("; ", unaryOutcomes.GroupBy(o => o).Select(g => $"{g.Count()} x {g.Key}"));

            var starting = adapter.Now;
            await postgres.StartAgainAsync();
            var started = adapter.Now;
            adapter.Epoch = AfterOutage;
            await Task.Delay(ChurnTail);
            await churn.StopStartingAsync();

            await traffic.CompletionAsync(SafetyLimit - adapter.Now,
                $"every conversation to have {AcknowledgedAfter} acknowledged messages sent after the database came back");
            await churn.CompletionAsync(SafetyLimit - adapter.Now,
                $"every new thread to have {ChurnAcknowledged} acknowledged messages");
            var churners = churn.Drivers;
            var talkers = drivers.Concat(churners).ToList();

            Report(drivers, churners, stopping, stopped, starting, started, unary);
            ReportTimeToFail(talkers, probes, stopped, starting);

            // While the database was down, a frame was answered REJECTED UNAVAILABLE (retry), or
            // DUPLICATE for a message stored before; never ACCEPTED, which would claim a write that
            // could not have happened.
            Assert.All(unaryOutcomes, outcome => Assert.StartsWith(nameof(StatusCode.Unavailable) + " ", outcome, StringComparison.Ordinal));

            var acks = talkers.SelectMany(d => d.Acks).ToList();
            var duringOutage = acks.Where(a => a.SentAt >= stopped && a.ReceivedAt <= starting).ToList();
            Assert.NotEmpty(duringOutage);
            Assert.All(duringOutage, a => Assert.True(a.IsUnavailable || a.Ack.Status == AckStatus.Duplicate,
                $"{a.CorrelationId} sent at {a.SentAt.TotalSeconds:0.000}s during the outage ({stopped.TotalSeconds:0.000}s-{starting.TotalSeconds:0.000}s) was acknowledged {a.Ack}"));

            // Every message was resent with its id until acknowledged; those the outage rejected included.
            var rejected = acks.Where(a => a.IsUnavailable).Select(a => a.CorrelationId).ToHashSet(StringComparer.Ordinal);
            Assert.NotEmpty(rejected);
            var messages = talkers.SelectMany(d => d.Messages).ToList();
            Assert.All(messages, m => Assert.NotNull(m.Ack));
            Assert.All(messages.Where(m => rejected.Contains(m.Id)),
                m => Assert.Contains(m.Ack!.Status, (AckStatus[])[AckStatus.Accepted, AckStatus.Duplicate]));

            // The churn did reach the outage: some new thread's first message was refused by it.
            Assert.Contains(churners, d => d.Acks.Any(a => a.IsUnavailable && a.CorrelationId == $"{d.ThreadId}-m1"));

            // The same silo processes carried on, and the adapter's stream with them: never broken,
            // so nothing was written twice.
            Assert.Equal(siloPids, cluster.Silos.Select(s => s.SiloProcessId));
            Assert.All(cluster.Silos, s => Assert.True(s.SiloIsRunning, $"{s.Name} is not running"));
            Assert.Single(adapter.Connections);
            Assert.DoesNotContain(adapter.StateChanges, s => s.Change.State is ConnectionState.Reconnecting or ConnectionState.Failed);
            Assert.Null(adapter.ReaderFailure);
            Assert.All(acks, a => Assert.Equal(1, a.Ack.Attempts));

            // New conversations work.
            var newcomers = Enumerable.Range(1, NewConversations)
                .Select(i => new ConversationDriver($"outage-new-thread-{i}", $"outage-new-customer-{i}"))
                .ToList();
            await using (var after = new Traffic(adapter, newcomers, d => d.Acknowledged >= 1, Think, TimeSpan.FromSeconds(30)))
            {
                await after.CompletionAsync(TimeSpan.FromSeconds(30), "the new conversations' first messages to be acknowledged");
            }

            Assert.All(newcomers, d => Assert.Equal(AckStatus.Accepted, Assert.Single(d.Messages).Ack!.Status));
            Assert.All(newcomers, d => Assert.Equal(AckStatus.Accepted, Assert.Single(d.Acks).Ack.Status));
            var everyone = talkers.Concat(newcomers).ToList();

            // The adapter's reader got every entry once, in order, outage or not.
            var lastSequences = everyone.ToDictionary(d => d.ConversationId!, d => 1L + (2 * d.Messages.Count), StringComparer.Ordinal);
            await traffic.WaitUntilAsync(() => lastSequences.All(c => adapter.LastReceived(c.Key) >= c.Value), TimeSpan.FromSeconds(30),
                () => "the adapter's reader to get every conversation's last entry; behind: " + string.Join(", ", lastSequences
                    .Where(c => adapter.LastReceived(c.Key) < c.Value)
                    .Select(c => $"{c.Key} received [{string.Join(' ', adapter.Received(c.Key))}] of {c.Value}, acks:\n  "
                        + string.Join("\n  ", everyone.Single(d => d.ConversationId == c.Key).Acks))));
            Assert.All(lastSequences, c => Assert.Equal(Enumerable.Range(1, (int)c.Value).Select(i => (long)i), adapter.Received(c.Key)));

            // What is stored: kill every silo and read everything back through a fresh cluster on the
            // same database and ServiceId, so nothing can come from a surviving activation's memory
            // (a thread that only its activation remembered as started is found by id, not by thread).
            var incidentSilos = cluster.Silos.ToList();
            foreach (var silo in incidentSilos)
            {
                await silo.KillAsync();
            }

            var fresh = await cluster.StartSilosAsync(FreshSilos, clusterId: cluster.ClusterId + "-fresh");
            var readers = fresh.Select(ChannelClientFor).ToList();
            var storedFailures = new ConcurrentBag<(int Index, IReadOnlyList<string> Failures)>();
            await Parallel.ForEachAsync(everyone.Index(), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (item, _) =>
                storedFailures.Add((item.Index, await CheckStoredAsync(readers[item.Index % readers.Count], item.Item))));
            var stored = storedFailures.OrderBy(f => f.Index).SelectMany(f => f.Failures).ToList();
            output.WriteLine($"Read back through {fresh.Count} fresh silos: {everyone.Count} threads ({drivers.Count} long-lived, {churners.Count} new around the outage, "
                + $"{newcomers.Count} after it), {stored.Count} failures ({stored.Count(f => f.Contains(" by thread", StringComparison.Ordinal))} by thread id)");

            // The incident's log: the first silos' from just before the stop to their kill; the fresh
            // silos' whole life (started on the database the outage left behind, read from by thread).
            var logs = incidentSilos.Select(s => (Silo: s, Window: "from the database stop to its kill", Entries: SiloLog.EntriesFrom(s.LogPath, logMarks[s]), From: logMarks[s]))
                .Concat(fresh.Select(s => (Silo: s, Window: "its whole life, after the full restart", Entries: SiloLog.EntriesFrom(s.LogPath, 0), From: 0)))
                .ToList();
            foreach (var (silo, window, entries, from) in logs)
            {
                output.WriteLine($"Log of {silo.Name} ({window}): {SiloLog.LineCount(silo.LogPath) - from} lines, {entries.Count} entries ("
                    + string.Join(", ", entries.GroupBy(e => e.Level).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}")) + ")");
                foreach (var entry in entries.Where(e => e.Level is "warn" or "fail" or "crit").Take(3))
                {
                    output.WriteLine("  " + entry.Excerpt(2));
                }
            }

            Assert.Multiple(
                () => Assert.True(stored.Count == 0,
                    $"{stored.Count} failures reading back what was acknowledged, through fresh silos after a full restart:\n" + string.Join('\n', stored)),
                () => Assert.True(logs.All(l => l.Entries.Count(e => e.IsError) <= ErrorEntriesPerIncident),
                    $"More than {ErrorEntriesPerIncident} error entries in a silo's log for one incident:\n"
                        + string.Join("\n", logs.Where(l => l.Entries.Count(e => e.IsError) > ErrorEntriesPerIncident).Select(l => ErrorSummary(l.Silo, l.Window, l.Entries)))));
        });
    }

    private static ChannelService.ChannelServiceClient ChannelClientFor(SiloProcess silo) =>
        ChannelClient.Create(silo.Channel, TestAdapter.ChannelName);

    /// <summary>
    /// What a fresh silo returns for one thread, by conversation id (the whole timeline, as its acks
    /// said) and by thread id (the conversation its acks named, every acknowledged message once, in
    /// order). Every difference, as a line a person can read; none when all is stored.
    /// </summary>
    private static async Task<IReadOnlyList<string>> CheckStoredAsync(ChannelService.ChannelServiceClient reader, ConversationDriver driver)
    {
        var acknowledged = driver.Messages.Where(m => m.Ack is not null).ToList();
        if (acknowledged.Count == 0)
        {
            return [];
        }

        var failures = new List<string>();
        var thread = driver.ThreadId;
        var conversationId = driver.ConversationId!;
        var expectedIds = acknowledged.Select(m => m.Id).ToList();
        var expected = $"[{string.Join(' ', expectedIds)}] in {conversationId}";

        await ReadAsync("GetTranscript by conversation id", async () =>
        {
            var transcript = await Transcripts.ReadAsync(reader, new ConversationAddress { ConversationId = conversationId });
            var ids = Transcripts.CustomerMessageIds(transcript.Entries);
            var sequenceOf = transcript.Entries.Where(e => e.Message is { Sender: SenderKind.Customer })
                .GroupBy(e => e.Message.AdapterMessageId, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => (long)g.First().Sequence, StringComparer.Ordinal);
            var sequences = transcript.Entries.Select(e => (long)e.Sequence).ToList();
            var wrongSequences = acknowledged.Where(m => sequenceOf.GetValueOrDefault(m.Id) != (long)m.Ack!.Sequence)
                .Select(m => $"{m.Id} acked at {m.Ack!.Sequence}, stored at {(sequenceOf.TryGetValue(m.Id, out var s) ? s.ToString(CultureInfo.InvariantCulture) : "nowhere")}")
                .ToList();
            if (!ids.SequenceEqual(expectedIds, StringComparer.Ordinal)
                || wrongSequences.Count > 0
                || transcript.LastSequence != 1 + (2 * acknowledged.Count)
                || !sequences.SequenceEqual(Enumerable.Range(1, (int)transcript.LastSequence).Select(i => (long)i)))
            {
                failures.Add($"{thread} by conversation id: expected {expected}, sequences 1-{1 + (2 * acknowledged.Count)}; got customer messages [{string.Join(' ', ids)}], "
                    + $"sequences [{string.Join(' ', sequences)}], last {transcript.LastSequence}"
                    + (wrongSequences.Count > 0 ? $"; {string.Join("; ", wrongSequences)}" : ""));
            }
        });

        await ReadAsync("GetConversation by thread", async () =>
        {
            var view = await Transcripts.RetryUnavailableAsync(() => reader.GetConversationAsync(
                new GetConversationRequest { Conversation = new ConversationAddress { ExternalThreadId = thread } },
                deadline: DateTime.UtcNow.AddSeconds(20)).ResponseAsync);
            if (view.ConversationId != conversationId)
            {
                failures.Add($"{thread} GetConversation by thread: expected {conversationId}, got {view.ConversationId} (status {view.Status}, last sequence {view.LastSequence})");
            }
        });

        await ReadAsync("GetTranscript by thread", async () =>
        {
            var transcript = await Transcripts.ReadAsync(reader, new ConversationAddress { ExternalThreadId = thread });
            var ids = Transcripts.CustomerMessageIds(transcript.Entries);
            if (transcript.ConversationId != conversationId || !ids.SequenceEqual(expectedIds, StringComparer.Ordinal))
            {
                failures.Add($"{thread} GetTranscript by thread: expected {expected}; got [{string.Join(' ', ids)}] in {transcript.ConversationId}");
            }
        });

        return failures;

        async Task ReadAsync(string what, Func<Task> read)
        {
            try
            {
                await read();
            }
            catch (RpcException ex)
            {
                failures.Add($"{thread} {what}: expected {expected}; got {ex.StatusCode} \"{ex.Status.Detail}\"");
            }
        }
    }

    /// <summary>The first error entries of one silo's incident, grouped counts first, a few lines each.</summary>
    private static string ErrorSummary(SiloProcess silo, string window, IReadOnlyList<LogEntry> entries)
    {
        var errors = entries.Where(e => e.IsError).ToList();
        var bySource = errors.GroupBy(e => $"{e.Level}: {e.Source}").OrderByDescending(g => g.Count()).Select(g => $"{g.Count()} x {g.Key}");
        return $"{silo.Name} ({window}, {silo.LogPath}): {errors.Count} error entries of {entries.Count}; {string.Join(", ", bySource)}\n"
            + $"  first {Math.Min(ShownEntries, errors.Count)}:\n"
            + string.Join('\n', errors.Take(ShownEntries).Select(e => "  " + e.Excerpt(3)));
    }

    /// <summary>One unary SendMessage per conversation while the database is down: what each returned, and how long it took.</summary>
    private static async Task<IReadOnlyList<(string Outcome, TimeSpan Elapsed)>> ProbeUnaryAsync(
        ChannelService.ChannelServiceClient client, IEnumerable<ConversationDriver> drivers)
    {
        var outcomes = new List<(string, TimeSpan)>();
        foreach (var driver in drivers)
        {
            var clock = Stopwatch.StartNew();
            try
            {
                var response = await client.SendMessageAsync(new SendMessageRequest
                {
                    Message = new InboundMessage
                    {
                        MessageId = $"{driver.ThreadId}-unary-probe",
                        Conversation = new ConversationAddress { ExternalThreadId = driver.ThreadId },
                        Text = "Where is my refund?",
                    },
                }, deadline: DateTime.UtcNow.AddSeconds(30));
                outcomes.Add(($"OK {response.Ack.Status}", clock.Elapsed));
            }
            catch (RpcException ex)
            {
                outcomes.Add(($"{ex.StatusCode} ({ex.Status.Detail})", clock.Elapsed));
            }
        }

        return outcomes;
    }

    private void Report(
        IReadOnlyList<ConversationDriver> drivers, IReadOnlyList<ConversationDriver> churners,
        TimeSpan stopping, TimeSpan stopped, TimeSpan starting, TimeSpan started, string unary)
    {
        var talkers = drivers.Concat(churners).ToList();
        var acks = talkers.SelectMany(d => d.Acks).ToList();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Database stopped {stopping.TotalSeconds:0.000}s-{stopped.TotalSeconds:0.000}s, started again {starting.TotalSeconds:0.000}s-{started.TotalSeconds:0.000}s"));
        output.WriteLine($"Messages: {talkers.Sum(d => d.Messages.Count)} sent, {acks.Count} acks");
        foreach (var (name, from, to) in new[] { ("before", TimeSpan.Zero, stopped), ("outage", stopped, starting), ("restart", starting, started), ("after", started, TimeSpan.MaxValue) })
        {
            var window = acks.Where(a => a.ReceivedAt >= from && a.ReceivedAt < to).ToList();
            output.WriteLine($"Acks received {name}: " + string.Join(", ", window
                .GroupBy(a => a.IsUnavailable ? "REJECTED/UNAVAILABLE" : a.Ack.Status == AckStatus.Rejected ? $"REJECTED/{a.Ack.Code}" : a.Ack.Status.ToString())
                .Select(g => $"{g.Key} {g.Count()}")));
        }

        // When each new thread first sent: its first frame.
        var firstSent = churners.Select(d => d.Acks.FirstOrDefault()?.SentAt ?? TimeSpan.MaxValue).ToList();
        output.WriteLine($"New threads around the outage: {churners.Count} ({firstSent.Count(t => t < stopped)} first sent before the stop, "
            + $"{firstSent.Count(t => t >= stopped && t < started)} during the outage, {firstSent.Count(t => t >= started)} after it); "
            + $"{churners.Count(d => d.Acks.Any(a => a.IsUnavailable && a.CorrelationId == $"{d.ThreadId}-m1"))} had their first message refused UNAVAILABLE at least once");

        var lastUnavailable = acks.Where(a => a.IsUnavailable).Select(a => a.ReceivedAt).DefaultIfEmpty().Max();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Last UNAVAILABLE ack {(lastUnavailable - started).TotalSeconds:0.00}s after the database was back"));
        output.WriteLine($"Unary SendMessage during the outage: {unary}");
        output.WriteLine("Sample outage rejection: " + acks.FirstOrDefault(a => a.IsUnavailable)?.Ack.Detail);
    }

    /// <summary>
    /// How long a caller waited for its refusal while the database was down: stream frames sent in
    /// the outage until their REJECTED/UNAVAILABLE ack, and the unary probes. Measured, never asserted.
    /// </summary>
    private void ReportTimeToFail(IReadOnlyList<ConversationDriver> talkers, IReadOnlyList<(string Outcome, TimeSpan Elapsed)> probes, TimeSpan stopped, TimeSpan starting)
    {
        var stream = talkers.SelectMany(d => d.Acks)
            .Where(a => a.SentAt >= stopped && a.SentAt < starting && a.IsUnavailable)
            .Select(a => (a.ReceivedAt - a.SentAt).TotalMilliseconds)
            .Order()
            .ToList();
        var unary = probes.Select(p => p.Elapsed.TotalMilliseconds).Order().ToList();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Time to fail during the outage: stream p50 {Percentile(stream, 0.50):0} ms, p95 {Percentile(stream, 0.95):0} ms, max {stream.LastOrDefault():0} ms ({stream.Count} refusals); "
            + $"unary p50 {Percentile(unary, 0.50):0} ms, p95 {Percentile(unary, 0.95):0} ms, max {unary.LastOrDefault():0} ms ({unary.Count} calls)"));
    }

    // Nearest rank: the smallest value with at least p of the values at or below it.
    private static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
