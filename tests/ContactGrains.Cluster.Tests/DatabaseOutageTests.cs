using System.Globalization;
using ContactGrains.Protos.V1;
using Grpc.Core;
using Xunit.Abstractions;

namespace ContactGrains.Cluster.Tests;

/// <summary>Two silo processes on PostgreSQL; the database stops abruptly mid-traffic and comes back.</summary>
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

    private static readonly TimeSpan SafetyLimit = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan Think = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task A_database_restart_mid_traffic_is_retryable_loses_nothing_acknowledged_and_the_silos_carry_on()
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

            var stopping = adapter.Now;
            await postgres.StopAsync();
            var stopped = adapter.Now;
            adapter.Epoch = DuringOutage;
            await Task.Delay(Outage);

            // What unary callers see meanwhile, for conversations on either silo: a retryable status,
            // also when the failing grain lives on the other silo (its database exception must cross
            // the silo boundary and still be recognised as an outage).
            var unaryOutcomes = await ProbeUnaryAsync(adapter.UnaryClient(cluster.Silos[1].Address), drivers.Take(UnaryProbes));
            var unary = string.Join("; ", unaryOutcomes.GroupBy(o => o).Select(g => $"{g.Count()} x {g.Key}"));

            var starting = adapter.Now;
            await postgres.StartAgainAsync();
            var started = adapter.Now;
            adapter.Epoch = AfterOutage;

            await traffic.CompletionAsync(SafetyLimit - adapter.Now,
                $"every conversation to have {AcknowledgedAfter} acknowledged messages sent after the database came back");

            Report(drivers, stopping, stopped, starting, started, unary);

            // While the database was down, a frame was answered REJECTED UNAVAILABLE (retry), or
            // DUPLICATE for a message stored before; never ACCEPTED, which would claim a write that
            // could not have happened.
            Assert.All(unaryOutcomes, outcome => Assert.StartsWith(nameof(StatusCode.Unavailable) + " ", outcome, StringComparison.Ordinal));

            var acks = drivers.SelectMany(d => d.Acks).ToList();
            var duringOutage = acks.Where(a => a.SentAt >= stopped && a.ReceivedAt <= starting).ToList();
            Assert.NotEmpty(duringOutage);
            Assert.All(duringOutage, a => Assert.True(a.IsUnavailable || a.Ack.Status == AckStatus.Duplicate,
                $"{a.CorrelationId} sent at {a.SentAt.TotalSeconds:0.000}s during the outage ({stopped.TotalSeconds:0.000}s-{starting.TotalSeconds:0.000}s) was acknowledged {a.Ack}"));

            // Every message was resent with its id until acknowledged; those the outage rejected included.
            var rejected = acks.Where(a => a.IsUnavailable).Select(a => a.CorrelationId).ToHashSet(StringComparer.Ordinal);
            Assert.NotEmpty(rejected);
            var messages = drivers.SelectMany(d => d.Messages).ToList();
            Assert.All(messages, m => Assert.NotNull(m.Ack));
            Assert.All(messages.Where(m => rejected.Contains(m.Id)),
                m => Assert.Contains(m.Ack!.Status, (AckStatus[])[AckStatus.Accepted, AckStatus.Duplicate]));

            // The same silo processes carried on, and the adapter's stream with them.
            Assert.Equal(siloPids, cluster.Silos.Select(s => s.SiloProcessId));
            Assert.All(cluster.Silos, s => Assert.True(s.SiloIsRunning, $"{s.Name} is not running"));
            Assert.Single(adapter.Connections);
            Assert.Empty(adapter.UnexpectedAcks);

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
            var everyone = drivers.Concat(newcomers).ToList();

            // The stream delivered every entry once, in order, outage or not.
            var lastSequences = everyone.ToDictionary(d => d.ConversationId!, d => 1L + (2 * d.Messages.Count), StringComparer.Ordinal);
            await traffic.WaitUntilAsync(() => lastSequences.All(c => adapter.LastReceived(c.Key) >= c.Value), TimeSpan.FromSeconds(30),
                () => "the adapter's stream to deliver every conversation's last entry; behind: " + string.Join(", ", lastSequences
                    .Where(c => adapter.LastReceived(c.Key) < c.Value)
                    .Select(c => $"{c.Key} received [{string.Join(' ', adapter.Received(c.Key))}] of {c.Value}, acks:\n  "
                        + string.Join("\n  ", everyone.Single(d => d.ConversationId == c.Key).Acks))));
            Assert.All(lastSequences, c => Assert.Equal(Enumerable.Range(1, (int)c.Value).Select(i => (long)i), adapter.Received(c.Key)));

            // What is stored: kill the silos and read everything back through a fresh cluster on the
            // same database and ServiceId, so nothing can come from a surviving activation's memory.
            foreach (var silo in cluster.Silos.ToList())
            {
                await silo.KillAsync();
            }

            var fresh = (await cluster.StartSilosAsync(1, clusterId: cluster.ClusterId + "-fresh")).Single();
            var reader = ChannelClientFor(fresh);
            foreach (var driver in everyone)
            {
                var sent = driver.Messages;
                var (entries, last) = await Transcripts.ReadAsync(reader, driver.ConversationId!);
                Assert.Equal(sent.Select(m => m.Id), Transcripts.CustomerMessageIds(entries));
                var sequenceOf = entries.Where(e => e.Message is { Sender: SenderKind.Customer })
                    .ToDictionary(e => e.Message.AdapterMessageId, e => (long)e.Sequence, StringComparer.Ordinal);
                Assert.All(sent, m => Assert.Equal(sequenceOf[m.Id], (long)m.Ack!.Sequence));
                Assert.Equal(1 + (2 * sent.Count), last);
                Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i), entries.Select(e => (long)e.Sequence));
            }
        });
    }

    private static ChannelService.ChannelServiceClient ChannelClientFor(SiloProcess silo) =>
        ContactGrains.Client.ChannelClient.Create(silo.Channel, TestAdapter.ChannelName);

    /// <summary>One unary SendMessage per conversation while the database is down: the statuses seen, counted.</summary>
    private static async Task<IReadOnlyList<string>> ProbeUnaryAsync(ChannelService.ChannelServiceClient client, IEnumerable<ConversationDriver> drivers)
    {
        var outcomes = new List<string>();
        foreach (var driver in drivers)
        {
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
                outcomes.Add($"OK {response.Ack.Status}");
            }
            catch (RpcException ex)
            {
                outcomes.Add($"{ex.StatusCode} ({ex.Status.Detail})");
            }
        }

        return outcomes;
    }

    private void Report(IReadOnlyList<ConversationDriver> drivers, TimeSpan stopping, TimeSpan stopped, TimeSpan starting, TimeSpan started, string unary)
    {
        var acks = drivers.SelectMany(d => d.Acks).ToList();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Database stopped {stopping.TotalSeconds:0.000}s-{stopped.TotalSeconds:0.000}s, started again {starting.TotalSeconds:0.000}s-{started.TotalSeconds:0.000}s"));
        output.WriteLine($"Messages: {drivers.Sum(d => d.Messages.Count)} sent, {acks.Count} acks");
        foreach (var (name, from, to) in new[] { ("before", TimeSpan.Zero, stopped), ("outage", stopped, starting), ("restart", starting, started), ("after", started, TimeSpan.MaxValue) })
        {
            var window = acks.Where(a => a.ReceivedAt >= from && a.ReceivedAt < to).ToList();
            output.WriteLine($"Acks received {name}: " + string.Join(", ", window
                .GroupBy(a => a.IsUnavailable ? "REJECTED/UNAVAILABLE" : a.Ack.Status == AckStatus.Rejected ? $"REJECTED/{a.Ack.Code}" : a.Ack.Status.ToString())
                .Select(g => $"{g.Key} {g.Count()}")));
        }

        var lastUnavailable = acks.Where(a => a.IsUnavailable).Select(a => a.ReceivedAt).DefaultIfEmpty().Max();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Last UNAVAILABLE ack {(lastUnavailable - started).TotalSeconds:0.00}s after the database was back"));
        output.WriteLine($"Unary SendMessage during the outage: {unary}");
        output.WriteLine("Sample outage rejection: " + acks.FirstOrDefault(a => a.IsUnavailable)?.Ack.Detail);
    }
}
