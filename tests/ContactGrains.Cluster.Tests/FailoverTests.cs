using System.Globalization;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Xunit.Abstractions;

namespace ContactGrains.Cluster.Tests;

/// <summary>Three silo processes on PostgreSQL; the one hosting the most conversations is killed with SIGKILL.</summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    private const int Conversations = 200;
    private const int BeforeKill = 0;
    private const int AfterKill = 1;
    private const int AcknowledgedBeforeKill = 2;
    private const int AcknowledgedAfterKill = 3;

    /// <summary>Everything from the first message to the last assertion stops by then (generous: the machine is shared).</summary>
    private static readonly TimeSpan SafetyLimit = TimeSpan.FromSeconds(180);

    /// <summary>Pause between a conversation's ack and its next message: keeps two cores from saturating.</summary>
    private static readonly TimeSpan Think = TimeSpan.FromMilliseconds(200);

    [Fact]
    public async Task Killing_the_busiest_silo_loses_no_acknowledged_message_and_every_conversation_continues()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await using var cluster = await SiloCluster.StartAsync(postgres, "failover", silos: 3);
        var adapterSilo = cluster.Silos[0];

        // The management client (which silo hosts what) is up before the traffic starts: its start is not the traffic's time.
        var management = (await cluster.ClientAsync()).GetGrain<IManagementGrain>(0);
        await using var adapter = new TestAdapter([.. cluster.Silos.Select(s => s.Address)], firstAddress: 0);
        var drivers = Enumerable.Range(1, Conversations)
            .Select(i => new ConversationDriver($"failover-thread-{i:D3}", $"failover-customer-{i:D3}"))
            .ToList();
        await using var traffic = new Traffic(
            adapter, drivers, d => adapter.Epoch == AfterKill && d.AcknowledgedSince(AfterKill) >= AcknowledgedAfterKill, Think, SafetyLimit);

        await ClusterTestFailure.WithDiagnosticsAsync(cluster, adapter, async () =>
        {
            await traffic.WaitUntilAsync(() => drivers.All(d => d.Acknowledged >= AcknowledgedBeforeKill), TimeSpan.FromSeconds(90),
                $"every conversation to have {AcknowledgedBeforeKill} acknowledged messages");
            output.WriteLine($"{adapter.Now.TotalSeconds:0.000}s every conversation has {AcknowledgedBeforeKill} acknowledged messages");

            // The victim: the silo hosting the most conversation activations, as the cluster reports them.
            var statistics = await management.GetDetailedGrainStatistics();
            var perSilo = statistics
                .Where(s => s.GrainType.Contains("ConversationGrain", StringComparison.Ordinal))
                .GroupBy(s => s.SiloAddress.Endpoint.Port)
                .ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(Conversations, perSilo.Values.Sum());
            var victim = cluster.BySiloPort(perSilo.MaxBy(p => p.Value).Key);
            var survivors = cluster.Silos.Where(s => s != victim).ToList();
            output.WriteLine("Conversation activations before the kill: " + string.Join(", ",
                cluster.Silos.Select(s => $"{s.Name}{(s == adapterSilo ? " (adapter's)" : "")}: {perSilo.GetValueOrDefault(s.Settings.SiloPort)}")));

            Assert.All(cluster.Silos, s => Assert.True(s.SiloIsRunning, $"{s.Name} died before the kill"));
            var siloPid = victim.SiloProcessId;
            var killing = adapter.Now;
            await victim.KillAsync();

            // From here on, only the survivors can acknowledge what is sent.
            var killedAt = adapter.Now;
            adapter.Epoch = AfterKill;
            output.WriteLine($"{killing.TotalSeconds:0.000}s-{killedAt.TotalSeconds:0.000}s killed {victim.Name} (silo pid {siloPid}){(victim == adapterSilo ? ", the adapter's silo" : "")}");

            await traffic.CompletionAsync(SafetyLimit - adapter.Now,
                $"every conversation to have {AcknowledgedAfterKill} acknowledged messages sent after the kill");

            Assert.All(survivors, s => Assert.True(s.SiloIsRunning, $"{s.Name} died after the kill"));
            Assert.Null(adapter.ReaderFailure);
            Assert.NotEqual(ConnectionState.Failed, adapter.Connection.State.State);
            if (victim == adapterSilo)
            {
                // The stream broke: the adapter moved to a survivor, and every conversation went on
                // there: each has a message sent and acknowledged over a stream opened after the
                // break (the entries' check below: read with no gap across the reconnection).
                var connections = adapter.Connections;
                Assert.True(connections.Count >= 2, "the adapter never reconnected");
                Assert.All(connections.Skip(1), c => Assert.Contains(survivors, s => TestAdapter.IsAddressOf(c.Change.Address, s)));
                Assert.All(drivers, d => Assert.True(
                    d.Acks.Any(a => a.Ack.IsStored && a.ConnectionAtSend >= 2 && a.ConnectionAtAck == a.ConnectionAtSend),
                    $"{d.ThreadId} has no message acknowledged over a stream opened after the reconnection"));
            }
            else
            {
                // The stream's silo lived: the same stream carried on, nothing was written twice.
                Assert.Single(adapter.Connections);
                Assert.DoesNotContain(adapter.StateChanges, s => s.Change.State is ConnectionState.Reconnecting or ConnectionState.Failed);
                Assert.All(drivers, d => Assert.All(d.Acks, a => Assert.Equal(1, a.Ack.Attempts)));
            }

            Assert.All(drivers, d => Assert.True(d.AcknowledgedSince(AfterKill) >= AcknowledgedAfterKill,
                $"{d.ThreadId}: {d.AcknowledgedSince(AfterKill)} acknowledged after the kill"));

            var reader = ChannelClient.Create(survivors[0].Channel, TestAdapter.ChannelName);
            foreach (var driver in drivers)
            {
                var conversationId = driver.ConversationId!;
                var messages = driver.Messages;
                var (entries, last) = await Transcripts.ReadAsync(reader, conversationId);

                // Closed loop: every message sent was resent until acknowledged, so the transcript's
                // customer messages are exactly the messages sent, once each, in order.
                Assert.All(messages, m => Assert.NotNull(m.Ack));
                Assert.Equal(messages.Select(m => m.Id), Transcripts.CustomerMessageIds(entries));
                var sequenceOf = entries.Where(e => e.Message is { Sender: SenderKind.Customer })
                    .ToDictionary(e => e.Message.AdapterMessageId, e => (long)e.Sequence, StringComparer.Ordinal);
                Assert.All(messages, m => Assert.Equal(sequenceOf[m.Id], (long)m.Ack!.Sequence));

                // The opening, then each message and the bot's answer.
                Assert.Equal(1 + (2 * messages.Count), last);
                Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i), entries.Select(e => (long)e.Sequence));
            }

            // The adapter's reader got every entry exactly once, in order, across the reconnect.
            var lastSequences = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var driver in drivers)
            {
                lastSequences[driver.ConversationId!] = 1 + (2 * driver.Messages.Count);
            }

            await traffic.WaitUntilAsync(() => lastSequences.All(c => adapter.LastReceived(c.Key) >= c.Value), TimeSpan.FromSeconds(30),
                () => "the adapter's reader to get every conversation's last entry; behind: " + string.Join(", ", lastSequences
                    .Where(c => adapter.LastReceived(c.Key) < c.Value)
                    .Select(c => $"{c.Key} received [{string.Join(' ', adapter.Received(c.Key))}] of {c.Value}, acks:\n  "
                        + string.Join("\n  ", drivers.Single(d => d.ConversationId == c.Key).Acks))));
            Assert.All(lastSequences, c => Assert.Equal(Enumerable.Range(1, (int)c.Value).Select(i => (long)i), adapter.Received(c.Key)));

            Report(adapter, drivers, killedAt, victim == adapterSilo);
        });
    }

    private void Report(TestAdapter adapter, IReadOnlyList<ConversationDriver> drivers, TimeSpan killedAt, bool adapterSiloKilled)
    {
        foreach (var line in adapter.Events)
        {
            output.WriteLine(line);
        }

        // How long the adapter was without a stream: from the break it noticed to the next accepted stream.
        var states = adapter.StateChanges;
        var broke = states.FirstOrDefault(s => s.At >= killedAt && s.Change.State == ConnectionState.Reconnecting);
        if (broke.Change is not null)
        {
            var back = states.FirstOrDefault(s => s.At >= broke.At && s.Change.State == ConnectionState.Connected);
            output.WriteLine(back.Change is null
                ? string.Create(CultureInfo.InvariantCulture, $"The stream broke {(broke.At - killedAt).TotalSeconds:0.00}s after the kill and never came back")
                : string.Create(CultureInfo.InvariantCulture,
                    $"The stream broke {(broke.At - killedAt).TotalSeconds:0.00}s after the kill; reconnected to {back.Change.Address} {(back.At - broke.At).TotalSeconds:0.00}s later "
                    + $"({states.Count(s => s.At >= broke.At && s.At <= back.At && s.Change.State == ConnectionState.Reconnecting)} attempt(s), {adapter.Connection.Streams} streams opened in all)"));
        }

        var acks = drivers.SelectMany(d => d.Acks).ToList();
        var unavailable = acks.Where(a => a.IsUnavailable).ToList();
        output.WriteLine($"Messages: {drivers.Sum(d => d.Messages.Count)} sent, {acks.Count} acks, {acks.Sum(a => a.Ack.Attempts)} frames written; "
            + $"{acks.Count(a => a.WasResent)} written again by the library on a new stream ({acks.Count(a => a.WasResent && a.Ack.Status == AckStatus.Duplicate)} of them DUPLICATE); "
            + $"adapter's silo killed: {adapterSiloKilled}");
        output.WriteLine("Ack statuses after the kill: " + string.Join(", ", acks.Where(a => a.ReceivedAt >= killedAt)
            .GroupBy(a => a.IsUnavailable ? "REJECTED/UNAVAILABLE" : a.Ack.Status.ToString())
            .Select(g => $"{g.Key} {g.Count()}")));
        if (unavailable.Count > 0)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"UNAVAILABLE acks: {unavailable.Count}, received {(unavailable.Min(a => a.ReceivedAt) - killedAt).TotalSeconds:0.00}s to {(unavailable.Max(a => a.ReceivedAt) - killedAt).TotalSeconds:0.00}s after the kill"));
        }

        // How long each conversation waited, from the kill, for its first acknowledged message sent after it.
        var recovery = drivers
            .Select(d => d.Acks.Where(a => a.Ack.IsStored && a.SentAt >= killedAt)
                .Min(a => a.ReceivedAt) - killedAt)
            .Order()
            .ToList();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"First acknowledged message after the kill: median {recovery[recovery.Count / 2].TotalSeconds:0.00}s, max {recovery[^1].TotalSeconds:0.00}s"));
    }
}
