using ContactGrains.Contracts;
using ContactGrains.Grains.Conversations;

namespace ContactGrains.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class ConversationGrainTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    private async Task<IConversationGrain> StartAsync(string channel = TestData.Channel)
    {
        var thread = Grains.GetGrain<IConversationThreadGrain>(GrainKeys.Thread(channel, TestData.UniqueId("thread")));
        var started = await thread.GetOrStart(TestData.Customer(TestData.UniqueId("cust")), knownClosedId: null);
        Assert.NotNull(started);
        Assert.True(started.Created);
        return Grains.GetGrain<IConversationGrain>(started.ConversationId);
    }

    [Fact]
    public async Task New_conversation_is_owned_by_the_bot_and_the_ledger_says_why()
    {
        var conversation = await StartAsync();

        var snapshot = await conversation.GetSnapshot();

        Assert.Equal(ConversationStatus.Open, snapshot.Status);
        Assert.Equal(Owner.Bot, snapshot.Owner);
        var change = Assert.Single(snapshot.Ledger);
        Assert.Equal(Owner.Nobody, change.From);
        Assert.Equal(Owner.Bot, change.To);
        Assert.Equal(OwnershipReasons.NewConversation, change.ReasonCode);
        Assert.Equal(1, snapshot.LastSequence);
    }

    [Fact]
    public async Task Customer_message_gets_the_bots_answer_with_its_intent_and_consecutive_sequences()
    {
        var conversation = await StartAsync();

        var result = await conversation.ReceiveCustomerMessage(TestData.Message("m1", "Where is my refund?"), deliverTo: null);

        Assert.Equal(InboundOutcome.Accepted, result.Outcome);
        Assert.Equal(2, result.Sequence);
        Assert.Equal([1L, 2L, 3L], result.Entries.Select(e => e.Sequence));
        Assert.Equal(StatusKind.Started, result.Entries[0].Status!.Kind);
        Assert.Equal(SenderKind.Customer, result.Entries[1].Message!.Sender);
        var bot = result.Entries[2].Message!;
        Assert.Equal(SenderKind.Bot, bot.Sender);
        Assert.Equal("refund_status", bot.Bot!.IntentId);
        Assert.True(bot.Bot.Understood);
        Assert.Equal(3, result.LastSequence);
    }

    [Fact]
    public async Task Resent_message_id_is_processed_once()
    {
        var conversation = await StartAsync();
        var first = await conversation.ReceiveCustomerMessage(TestData.Message("same-id", "How do I reset my password?"), null);

        var again = await conversation.ReceiveCustomerMessage(TestData.Message("same-id", "How do I reset my password?"), null);

        Assert.Equal(InboundOutcome.Duplicate, again.Outcome);
        Assert.Equal(first.Sequence, again.Sequence);
        Assert.Empty(again.Entries);
        var timeline = await conversation.GetTimeline(TestData.Channel, 0, 100);
        Assert.Single(timeline.Entries, e => e.Message?.AdapterMessageId == "same-id");
        Assert.Equal(3, timeline.LastSequence);
    }

    [Fact]
    public async Task Empty_and_oversize_texts_are_rejected_and_store_nothing()
    {
        var conversation = await StartAsync();

        var empty = await conversation.ReceiveCustomerMessage(TestData.Message("e1", "   "), null);
        var oversize = await conversation.ReceiveCustomerMessage(TestData.Message("o1", new string('a', ConversationLimits.MaxTextLength + 1)), null);

        Assert.Equal(RejectionCode.InvalidArgument, empty.Rejection?.Code);
        Assert.Equal(RejectionCode.InvalidArgument, oversize.Rejection?.Code);
        Assert.Contains("4097", oversize.Rejection!.Message, StringComparison.Ordinal);
        Assert.Equal(1, (await conversation.GetSnapshot()).LastSequence);
    }

    [Fact]
    public async Task Conversation_is_invisible_to_another_channel()
    {
        var conversation = await StartAsync();

        var result = await conversation.ReceiveCustomerMessage(new CustomerMessage("sms", "x1", "Where is my refund?"), null);
        var page = await conversation.GetTimeline("sms", 0, 10);

        Assert.Equal(RejectionCode.NotFound, result.Rejection?.Code);
        Assert.Equal(RejectionCode.NotFound, page.Rejection?.Code);
        Assert.Empty(page.Entries);
    }

    [Fact]
    public async Task Unknown_conversation_id_is_not_found()
    {
        var conversation = Grains.GetGrain<IConversationGrain>(TestData.UniqueId("never-started"));

        var result = await conversation.ReceiveCustomerMessage(TestData.Message("m1", "hello"), null);

        Assert.Equal(RejectionCode.NotFound, result.Rejection?.Code);
        Assert.Equal(ConversationStatus.None, (await conversation.GetSnapshot()).Status);
    }

    [Fact]
    public async Task Closing_records_the_reason_and_a_new_message_on_the_thread_starts_a_new_conversation()
    {
        var threadKey = GrainKeys.Thread(TestData.Channel, TestData.UniqueId("thread"));
        var thread = Grains.GetGrain<IConversationThreadGrain>(threadKey);
        var customer = TestData.Customer(TestData.UniqueId("cust"));
        var first = (await thread.GetOrStart(customer, null))!;
        var conversation = Grains.GetGrain<IConversationGrain>(first.ConversationId);

        var closed = await conversation.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "customer left");
        var rejected = await conversation.ReceiveCustomerMessage(TestData.Message("after-close", "hello"), null);
        var stillCurrent = await thread.GetOrStart(customer, knownClosedId: null);
        var next = await thread.GetOrStart(customer, knownClosedId: first.ConversationId);

        Assert.Equal(ConversationStatus.Closed, closed.Status);
        Assert.Equal(Owner.Nobody, closed.Owner);
        Assert.Equal(OwnershipReasons.ClosedByAdapter, closed.Ledger[^1].ReasonCode);
        Assert.Equal(RejectionCode.Closed, rejected.Rejection?.Code);
        Assert.Equal(first.ConversationId, stillCurrent!.ConversationId);
        Assert.True(next!.Created);
        Assert.NotEqual(first.ConversationId, next.ConversationId);

        var profile = await Grains.GetGrain<ICustomerGrain>(GrainKeys.Customer(TestData.Channel, customer.ExternalCustomerId)).GetProfile();
        Assert.Equal([first.ConversationId, next.ConversationId], profile.Contacts.Select(c => c.ConversationId));
        Assert.Equal(OwnershipReasons.ClosedByAdapter, profile.Contacts[0].Outcome);
        Assert.Null(profile.Contacts[1].ClosedAt);
    }

    [Fact]
    public async Task Thread_without_a_conversation_needs_a_customer_to_start_one()
    {
        var thread = Grains.GetGrain<IConversationThreadGrain>(GrainKeys.Thread(TestData.Channel, TestData.UniqueId("thread")));

        Assert.Null(await thread.GetOrStart(customer: null, knownClosedId: null));
        Assert.Null(await thread.Find());
    }

    [Fact]
    public async Task A_thread_lets_its_activation_go_once_its_conversation_has_started_and_still_knows_it()
    {
        var thread = Grains.GetGrain<IConversationThreadGrain>(GrainKeys.Thread(TestData.Channel, TestData.UniqueId("thread")));
        var customer = TestData.Customer(TestData.UniqueId("cust"));
        var started = (await thread.GetOrStart(customer, knownClosedId: null))!;

        // Routers remember the thread from here on; the activation goes without waiting for its collection age.
        await Eventually.ActivationGoneAsync(Grains, thread.GetGrainId());
        Assert.Equal(started.ConversationId, await thread.Find());
        Assert.Equal(new ThreadConversation(started.ConversationId, Created: false), await thread.GetOrStart(customer, knownClosedId: null));
    }

    [Fact]
    public async Task Customer_language_from_the_adapter_steers_the_fallback_answer()
    {
        var thread = Grains.GetGrain<IConversationThreadGrain>(GrainKeys.Thread(TestData.Channel, TestData.UniqueId("thread")));
        var started = (await thread.GetOrStart(TestData.Customer(TestData.UniqueId("cust"), language: "fr"), null))!;
        var conversation = Grains.GetGrain<IConversationGrain>(started.ConversationId);

        var result = await conversation.ReceiveCustomerMessage(TestData.Message("g1", "qsdkjh zzzq wxv"), null);

        var answer = result.Entries[^1].Message!.Bot!;
        Assert.False(answer.Understood);
        Assert.Equal("fr", answer.Language);
    }
}
