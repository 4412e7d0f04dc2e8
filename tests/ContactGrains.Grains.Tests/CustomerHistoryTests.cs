using ContactGrains.Contracts;
using ContactGrains.Grains.Conversations;
using ContactGrains.Grains.Customers;

namespace ContactGrains.Grains.Tests;

/// <summary>
/// What the customer grain learns of a conversation, and when: its start, its end, and the intents
/// the bot answered in it (at its end, not per message), and what a later conversation sees of them.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class CustomerHistoryTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    private async Task<IConversationGrain> StartAsync(CustomerIdentity customer)
    {
        var thread = Grains.GetGrain<IConversationThreadGrain>(GrainKeys.Thread(TestData.Channel, TestData.UniqueId("thread")));
        var started = (await thread.GetOrStart(customer, knownClosedId: null))!;
        return Grains.GetGrain<IConversationGrain>(started.ConversationId);
    }

    private ICustomerGrain CustomerOf(CustomerIdentity customer) =>
        Grains.GetGrain<ICustomerGrain>(GrainKeys.Customer(TestData.Channel, customer.ExternalCustomerId));

    [Fact]
    public async Task The_customer_records_the_intents_a_conversation_answered_when_it_closes()
    {
        var customer = TestData.Customer(TestData.UniqueId("cust"));
        var conversation = await StartAsync(customer);
        var before = DateTimeOffset.UtcNow;
        await conversation.ReceiveCustomerMessage(TestData.Message("m1", "Where is my refund?"), null);
        await conversation.ReceiveCustomerMessage(TestData.Message("m2", "How do I reset my password?"), null);
        await conversation.ReceiveCustomerMessage(TestData.Message("m3", "and my refund, where is it?"), null);
        var after = DateTimeOffset.UtcNow;

        // Nothing per message: the customer hears of them once, with the close.
        Assert.Empty((await CustomerOf(customer).GetProfile()).Intents);
        await conversation.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "customer left");
        await conversation.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "a retried close");

        var profile = await CustomerOf(customer).GetProfile();
        Assert.Equal(["refund_status", "password_reset"], profile.Intents.Select(i => i.IntentId));
        Assert.All(profile.Intents, i => Assert.Equal(conversation.GetPrimaryKeyString(), i.ConversationId));
        Assert.All(profile.Intents, i => Assert.InRange(i.At, before, after));
        Assert.Equal(OwnershipReasons.ClosedByAdapter, Assert.Single(profile.Contacts).Outcome);
    }

    [Fact]
    public async Task A_customer_back_about_what_a_closed_conversation_answered_is_a_repeat_contact()
    {
        var customer = TestData.Customer(TestData.UniqueId("cust"));
        var first = await StartAsync(customer);
        await first.ReceiveCustomerMessage(TestData.Message("m1", "Where is my refund?"), null);
        await first.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "customer left");

        var second = await StartAsync(customer);
        await second.ReceiveCustomerMessage(TestData.Message("m1", "where is my refund"), null);

        var snapshot = await second.GetSnapshot();
        Assert.Equal(OwnerKind.Queue, snapshot.Owner.Kind);
        Assert.Contains(OwnershipReasons.RepeatContact, snapshot.Ledger[^1].AllReasonCodes);
    }

    [Fact]
    public async Task A_conversation_that_starts_while_another_of_the_customers_is_open_sees_what_that_one_answered()
    {
        var customer = TestData.Customer(TestData.UniqueId("cust"));
        var open = await StartAsync(customer);
        await open.ReceiveCustomerMessage(TestData.Message("m1", "Where is my refund?"), null);

        // Another thread of the same customer (a second device, a second ticket): the first is still open.
        var second = await StartAsync(customer);
        await second.ReceiveCustomerMessage(TestData.Message("m1", "where's my refund??"), null);
        var unrelated = await StartAsync(customer);
        await unrelated.ReceiveCustomerMessage(TestData.Message("m1", "How do I reset my password?"), null);

        var repeated = await second.GetSnapshot();
        Assert.Equal(OwnerKind.Queue, repeated.Owner.Kind);
        Assert.Contains(OwnershipReasons.RepeatContact, repeated.Ledger[^1].AllReasonCodes);
        Assert.Equal(Owner.Bot, (await unrelated.GetSnapshot()).Owner);
    }

    [Fact]
    public async Task A_customer_of_many_conversations_keeps_the_newest_and_every_open_one_listed_and_counts_the_rest()
    {
        var customer = TestData.Customer(TestData.UniqueId("cust"));
        var stillOpen = await StartAsync(customer);
        var closed = new List<string>();
        for (var i = 0; i < CustomerGrain.ContactsKept + 2; i++)
        {
            var conversation = await StartAsync(customer);
            await conversation.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "customer left");
            closed.Add(conversation.GetPrimaryKeyString());
        }

        var latest = await StartAsync(customer);
        var profile = await CustomerOf(customer).GetProfile();

        // 104 conversations: the open ones (the first and the latest) and the 98 newest closed ones are listed.
        Assert.Equal(CustomerGrain.ContactsKept, profile.Contacts.Length);
        Assert.Equal(4, profile.ContactsForgotten);
        Assert.Equal(
            [stillOpen.GetPrimaryKeyString(), .. closed.Skip(4), latest.GetPrimaryKeyString()],
            profile.Contacts.Select(c => c.ConversationId));

        // The agent is told of every earlier one, listed or not; the forgotten ones' close is not lost either.
        Assert.Equal(CustomerGrain.ContactsKept + 3, (await latest.GetHandoffContext()).PreviousContacts);
        await stillOpen.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "customer left");
        Assert.Equal(OwnershipReasons.ClosedByAdapter, (await CustomerOf(customer).GetProfile()).Contacts[0].Outcome);
    }

    [Fact]
    public async Task A_customer_lets_its_activation_go_once_a_conversation_has_started()
    {
        var customer = TestData.Customer(TestData.UniqueId("cust"));
        var conversation = await StartAsync(customer);
        var customerId = CustomerOf(customer).GetGrainId();

        // An open conversation does not hold its customer in memory: the customer is called again at its end.
        await Eventually.ActivationGoneAsync(Grains, customerId);
        Assert.Equal(conversation.GetPrimaryKeyString(), Assert.Single((await CustomerOf(customer).GetProfile()).Contacts).ConversationId);
    }
    [Fact]
    public async Task A_burst_of_conversations_from_one_customer_all_start_and_all_close()
    {
        // Many threads of one customer at once (a bulk import, a retried batch, a chatty integration):
        // every start and every close reaches the customer, none is refused while its activation comes and goes.
        var customer = TestData.Customer(TestData.UniqueId("cust"));
        var conversations = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => StartAsync(customer)));
        await Task.WhenAll(conversations.Select(c => c.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "customer left")));

        var profile = await CustomerOf(customer).GetProfile();
        Assert.Equal(
            conversations.Select(c => c.GetPrimaryKeyString()).Order(),
            profile.Contacts.Select(c => c.ConversationId).Order());
        Assert.All(profile.Contacts, c => Assert.Equal(OwnershipReasons.ClosedByAdapter, c.Outcome));
    }
}
