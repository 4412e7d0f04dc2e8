using ContactGrains.Contracts;
using ContactGrains.Grains.Conversations;
using static ContactGrains.Persistence.Tests.TestIds;

namespace ContactGrains.Persistence.Tests;

/// <summary>Grain state on PostgreSQL outlives the whole cluster.</summary>
[Collection(PostgresCollection.Name)]
public sealed class StateRoundTripTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_new_cluster_on_the_same_database_finds_the_conversation_and_the_customer_as_they_were()
    {
        var connectionString = await fixture.DatabaseAsync(nameof(StateRoundTripTests));
        var serviceId = Unique("service");
        var clusterId = Unique("cluster");
        var threadKey = GrainKeys.Thread(Channel, Unique("thread"));
        var customer = Customer(Unique("cust"));
        var customerKey = GrainKeys.Customer(Channel, customer.ExternalCustomerId);

        string conversationId;
        InboundResult first;
        ConversationSnapshot snapshotBefore;
        TimelinePage timelineBefore;
        CustomerProfile profileBefore;
        await using (var cluster = await PostgresCluster.StartAsync(connectionString, serviceId, clusterId, silos: 2))
        {
            var started = await cluster.Client.GetGrain<IConversationThreadGrain>(threadKey).GetOrStart(customer, knownClosedId: null);
            conversationId = started!.ConversationId;
            var conversation = cluster.Client.GetGrain<IConversationGrain>(conversationId);
            first = await conversation.ReceiveCustomerMessage(Message("m1", "Where is my refund?"), deliverTo: null);
            var second = await conversation.ReceiveCustomerMessage(Message("m2", "How do I reset my password?"), deliverTo: null);
            Assert.Equal(InboundOutcome.Accepted, first.Outcome);
            Assert.Equal(InboundOutcome.Accepted, second.Outcome);

            snapshotBefore = await conversation.GetSnapshot();
            timelineBefore = await conversation.GetTimeline(Channel, 0, 100);
            profileBefore = await cluster.Client.GetGrain<ICustomerGrain>(customerKey).GetProfile();
        }

        // Everything below comes from the database: no silo of the first cluster is left.
        await using (var cluster = await PostgresCluster.StartAsync(connectionString, serviceId, clusterId, silos: 1))
        {
            var thread = cluster.Client.GetGrain<IConversationThreadGrain>(threadKey);
            var conversation = cluster.Client.GetGrain<IConversationGrain>(conversationId);

            Assert.Equal(conversationId, await thread.Find());

            var snapshot = await conversation.GetSnapshot();
            Assert.Equal(snapshotBefore with { Ledger = [] }, snapshot with { Ledger = [] });
            // ImmutableArray equality is reference equality: compare the elements.
            Assert.Equal(snapshotBefore.Ledger.ToArray(), snapshot.Ledger.ToArray());
            Assert.Equal(ConversationStatus.Open, snapshot.Status);
            Assert.Equal(5, snapshot.LastSequence);
            var opening = Assert.Single(snapshot.Ledger);
            Assert.Equal(OwnershipReasons.NewConversation, opening.ReasonCode);

            var timeline = await conversation.GetTimeline(Channel, 0, 100);
            Assert.Equal(timelineBefore.Entries.ToArray(), timeline.Entries.ToArray());
            Assert.Equal([1L, 2L, 3L, 4L, 5L], timeline.Entries.Select(e => e.Sequence));
            Assert.Equal(StatusKind.Started, timeline.Entries[0].Status!.Kind);
            Assert.Equal(["m1", null, "m2", null], timeline.Entries.Skip(1).Select(e => e.Message!.AdapterMessageId));
            Assert.Equal("refund_status", timeline.Entries[2].Message!.Bot!.IntentId);

            // The deduplication index came back too: a resend is recognised, with its original sequence.
            var resend = await conversation.ReceiveCustomerMessage(Message("m1", "Where is my refund?"), deliverTo: null);
            Assert.Equal(InboundOutcome.Duplicate, resend.Outcome);
            Assert.Equal(first.Sequence, resend.Sequence);
            Assert.Equal(5, resend.LastSequence);

            var profile = await cluster.Client.GetGrain<ICustomerGrain>(customerKey).GetProfile();
            Assert.Equal(profileBefore.DisplayName, profile.DisplayName);
            Assert.Equal(profileBefore.Language, profile.Language);
            Assert.Equal(profileBefore.Contacts.ToArray(), profile.Contacts.ToArray());
            var contact = Assert.Single(profile.Contacts);
            Assert.Equal(conversationId, contact.ConversationId);
            Assert.Null(contact.ClosedAt);
        }

        // One row per grain state, keyed by state name: conversation, thread, customer. (The cluster's
        // automation policy, which every silo reads, and the intents' outcome figures are not this test's.)
        var stateNames = await Sql.ReadAsync(connectionString,
            "SELECT state_name FROM contactgrains_grain_state WHERE service_id = @service AND state_name NOT IN ('automation-policy', 'intent-outcomes') ORDER BY 1",
            row => row.GetString(0), ("service", serviceId));
        Assert.Equal(["conversation", "customer", "thread"], stateNames);

        // The conversation's inactivity reminder is durable too.
        var reminders = await Sql.ReadAsync(connectionString,
            "SELECT remindername FROM orleans_reminders WHERE serviceid = @service",
            row => row.GetString(0), ("service", serviceId));
        Assert.Equal([ConversationGrain.InactivityReminder], reminders);
    }
}
