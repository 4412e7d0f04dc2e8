using System.Collections.Concurrent;
using System.Collections.Immutable;
using ContactGrains.Contracts;
using ContactGrains.Grains.Agents;
using ContactGrains.Grains.Conversations;
using ContactGrains.Grains.Routing;
using static ContactGrains.Persistence.Tests.TestIds;

namespace ContactGrains.Persistence.Tests;

/// <summary>Customers waiting for a human, and agents' conversations, outlive the whole cluster.</summary>
[Collection(PostgresCollection.Name)]
public sealed class QueueDurabilityTests(PostgresFixture fixture)
{
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Waiting_conversations_survive_a_cluster_restart_and_are_offered_to_the_next_agent_who_signs_in()
    {
        var connectionString = await fixture.DatabaseAsync(nameof(QueueDurabilityTests));
        var serviceId = Unique("service");
        var clusterId = Unique("cluster");
        var conversationIds = new List<string>();

        await using (var cluster = await PostgresCluster.StartAsync(connectionString, serviceId, clusterId, silos: 2))
        {
            for (var i = 0; i < 3; i++)
            {
                var started = await cluster.Client.GetGrain<IConversationThreadGrain>(GrainKeys.Thread(Channel, Unique("thread")))
                    .GetOrStart(Customer(Unique("cust")), knownClosedId: null);
                var conversation = cluster.Client.GetGrain<IConversationGrain>(started!.ConversationId);
                await conversation.ReceiveCustomerMessage(Message("m1", "Where is my refund?"), deliverTo: null);
                var handoff = await conversation.ReceiveCustomerMessage(Message("m2", "I want to speak to a human"), deliverTo: null);
                Assert.Equal(StatusKind.Queued, handoff.Entries[^1].Status?.Kind);
                Assert.Equal(i + 1, handoff.Entries[^1].Status!.QueuePosition);
                conversationIds.Add(started.ConversationId);
            }

            Assert.Equal(3, (await cluster.Client.GetGrain<IQueueGrain>("billing:en").GetStats()).Waiting);
        }

        // No silo of the first cluster is left: the queue below is read back from the database.
        await using (var cluster = await PostgresCluster.StartAsync(connectionString, serviceId, clusterId, silos: 1))
        {
            var queue = cluster.Client.GetGrain<IQueueGrain>("billing:en");
            Assert.Equal(3, (await queue.GetStats()).Waiting);

            var desk = new RecordingDesk();
            var observer = cluster.Client.CreateObjectReference<IAgentObserver>(desk);
            var agent = cluster.Client.GetGrain<IAgentGrain>(Unique("agent"));
            var profile = new AgentProfile("Dana", [new SkillLevel("billing", 3)], ["en"], 3, ImmutableDictionary<string, int>.Empty);
            await agent.Connect(profile, observer);

            // All three are offered, in the order they asked (equal priority: longest waiting first).
            await desk.WaitForOffersAsync(3).WaitAsync(SafetyTimeout);
            Assert.Equal(conversationIds, desk.Offers.Select(o => o.Context.ConversationId));
            foreach (var offer in desk.Offers)
            {
                var assignment = await agent.Accept(offer.OfferId);
                Assert.Equal(OwnerKind.Agent, assignment.Context.Owner.Kind);
            }

            Assert.Equal(3, (await agent.GetStatus()).Assignments);
            Assert.Equal(0, (await queue.GetStats()).Waiting);
        }

        // The agent's assignments and the conversations' owners are stored too.
        await using (var cluster = await PostgresCluster.StartAsync(connectionString, serviceId, clusterId, silos: 1))
        {
            foreach (var conversationId in conversationIds)
            {
                var snapshot = await cluster.Client.GetGrain<IConversationGrain>(conversationId).GetSnapshot();
                Assert.Equal(OwnerKind.Agent, snapshot.Owner.Kind);
                Assert.Equal(
                    [OwnershipReasons.NewConversation, OwnershipReasons.CustomerAskedForHuman, OwnershipReasons.OfferAccepted],
                    snapshot.Ledger.Select(c => c.ReasonCode));
            }

            // So are the queue's statistics: the three answers of the previous cluster, live and in its history.
            var queue = cluster.Client.GetGrain<IQueueGrain>("billing:en");
            Assert.Equal(3, (await queue.GetStats()).Answered);
            Assert.Equal(3, (await queue.GetHistory(TimeSpan.FromHours(1))).Intervals.Sum(i => i.Answered));
        }

        // A queue's waiting conversations are spread over its partitions ("queue", "queue-1", …, "queue-15"); its
        // statistics have a state of their own ("queue-statistics").
        var stateNames = await Sql.ReadAsync(connectionString,
            "SELECT DISTINCT regexp_replace(state_name, '-[0-9]+$', '') FROM contactgrains_grain_state WHERE service_id = @service AND state_name NOT IN ('automation-policy', 'intent-outcomes') ORDER BY 1",
            row => row.GetString(0), ("service", serviceId));
        Assert.Equal(["agent", "conversation", "customer", "queue", "queue-statistics", "thread"], stateNames);
        var queuePartitions = await Sql.ScalarAsync<long>(connectionString,
            "SELECT count(*) FROM contactgrains_grain_state WHERE service_id = @service AND state_name ~ '^queue(-[0-9]+)?$'",
            ("service", serviceId));
        Assert.InRange(queuePartitions, 1, 3); // one row per partition its three conversations hash to
        var reminders = await Sql.ReadAsync(connectionString,
            "SELECT DISTINCT remindername FROM orleans_reminders WHERE serviceid = @service ORDER BY 1",
            row => row.GetString(0), ("service", serviceId));
        Assert.Equal([AgentGrain.WatchReminder, ConversationGrain.InactivityReminder, QueueGrain.WatchReminder], reminders);
    }

    [Fact]
    public async Task A_long_queue_is_stored_in_partitions_and_a_restart_finds_every_conversation_in_its_place()
    {
        const int Customers = 40;
        var connectionString = await fixture.DatabaseAsync(nameof(QueueDurabilityTests));
        var serviceId = Unique("service");
        var clusterId = Unique("cluster");
        var queueKey = "orders:en";
        var conversationIds = new List<string>();

        await using (var cluster = await PostgresCluster.StartAsync(connectionString, serviceId, clusterId))
        {
            for (var i = 0; i < Customers; i++)
            {
                var started = await cluster.Client.GetGrain<IConversationThreadGrain>(GrainKeys.Thread(Channel, Unique("thread")))
                    .GetOrStart(Customer(Unique("cust")), knownClosedId: null);
                var conversation = cluster.Client.GetGrain<IConversationGrain>(started!.ConversationId);
                await conversation.ReceiveCustomerMessage(Message("m1", "I want to cancel my order"), deliverTo: null);
                var handoff = await conversation.ReceiveCustomerMessage(Message("m2", "I want to speak to a human"), deliverTo: null);
                Assert.Equal(new Owner(OwnerKind.Queue, queueKey), (await conversation.GetSnapshot()).Owner);
                // Each is told its place, counted over every partition.
                Assert.Equal(i + 1, handoff.Entries[^1].Status!.QueuePosition);
                conversationIds.Add(started.ConversationId);
            }
        }

        // Rows of a few KB, not one row holding all forty.
        var rows = await Sql.ReadAsync(connectionString,
            "SELECT state_name, length(payload) FROM contactgrains_grain_state WHERE service_id = @service AND state_name ~ '^queue(-[0-9]+)?$'",
            row => (Name: row.GetString(0), Bytes: row.GetInt32(1)), ("service", serviceId));
        Assert.InRange(rows.Count, 2, WaitingPartitions.Count);

        await using (var cluster = await PostgresCluster.StartAsync(connectionString, serviceId, clusterId))
        {
            var queue = cluster.Client.GetGrain<IQueueGrain>(queueKey);
            Assert.Equal(Customers, (await queue.GetStats()).Waiting);

            // The queue order survives: one agent with room for all takes them longest-waiting first.
            var desk = new RecordingDesk();
            var agent = cluster.Client.GetGrain<IAgentGrain>(Unique("agent"));
            var profile = new AgentProfile("Dana", [new SkillLevel("orders", 3)], ["en"], Customers, ImmutableDictionary<string, int>.Empty);
            await agent.Connect(profile, cluster.Client.CreateObjectReference<IAgentObserver>(desk));
            await desk.WaitForOffersAsync(Customers).WaitAsync(SafetyTimeout);
            Assert.Equal(conversationIds, desk.Offers.Select(o => o.Context.ConversationId));
        }
    }

    /// <summary>An agent desktop stand-in: collects the offers pushed to it.</summary>
    /// <remarks>
    /// Pushes to a client's observer are not guaranteed to arrive in the order they were sent; like
    /// the real desktop session, this orders them by the agent grain's event sequence.
    /// </remarks>
    private sealed class RecordingDesk : IAgentObserver
    {
        private readonly ConcurrentQueue<(long Sequence, OfferView Offer)> _offers = new();
        private readonly SemaphoreSlim _arrived = new(0);

        public IReadOnlyList<OfferView> Offers => [.. _offers.OrderBy(o => o.Sequence).Select(o => o.Offer)];

        public Task OnEvent(string agentId, AgentEvent agentEvent)
        {
            if (agentEvent.Offer is { } offer)
            {
                _offers.Enqueue((agentEvent.Sequence, offer));
                _arrived.Release();
            }

            return Task.CompletedTask;
        }

        public async Task WaitForOffersAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                await _arrived.WaitAsync();
            }
        }
    }
}
