using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests;

[Collection(SiloCollection.Name)]
public sealed class ChannelUnaryTests(SiloFixture silo)
{
    private ChannelService.ChannelServiceClient Client => silo.Client("sms");

    private async Task<string> StartAsync(string? threadId = null)
    {
        var response = await Client.StartConversationAsync(new StartConversationRequest
        {
            ExternalThreadId = threadId ?? Addresses.Unique("sms-thread"),
            Customer = Addresses.Customer(Addresses.Unique("+33")),
        });
        return response.ConversationId;
    }

    private static InboundMessage Message(string conversationId, string text, string? id = null) => new()
    {
        MessageId = id ?? Addresses.Unique("msg"),
        Conversation = Addresses.Conversation(conversationId),
        Text = text,
    };

    [Fact]
    public async Task Simple_adapter_starts_sends_reads_and_closes()
    {
        var threadId = Addresses.Unique("sms-thread");
        var start = await Client.StartConversationAsync(new StartConversationRequest { ExternalThreadId = threadId, Customer = Addresses.Customer("+33600000001", "fr") });
        var again = await Client.StartConversationAsync(new StartConversationRequest { ExternalThreadId = threadId, Customer = Addresses.Customer("+33600000001", "fr") });

        Assert.True(start.Created);
        Assert.False(again.Created);
        Assert.Equal(start.ConversationId, again.ConversationId);
        Assert.Equal(OwnerKind.Bot, start.Conversation.Owner.Kind);
        Assert.Equal("new-conversation", Assert.Single(start.Conversation.Ledger).ReasonCode);

        var sent = await Client.SendMessageAsync(new SendMessageRequest { Message = Message(start.ConversationId, "Je voudrais changer mon adresse de livraison", "sms-1") });
        Assert.Equal(AckStatus.Accepted, sent.Ack.Status);
        Assert.Equal([1UL, 2UL, 3UL], sent.Entries.Select(e => e.Sequence));
        Assert.Equal("address_change", sent.Entries[2].Message.Bot.Intent);
        Assert.Equal("fr", sent.Entries[2].Message.Bot.Language);

        var page = await Client.GetTranscriptAsync(new GetTranscriptRequest { Conversation = Addresses.Thread(threadId), AfterSequence = 1, MaxEntries = 1 });
        Assert.Equal([2UL], page.Entries.Select(e => e.Sequence));
        Assert.Equal(3UL, page.LastSequence);

        var closed = await Client.CloseConversationAsync(new CloseConversationRequest { Conversation = Addresses.Conversation(start.ConversationId), Reason = "resolved by SMS" });
        Assert.Equal(ConversationStatus.Closed, closed.Conversation.Status);
        var ledger = closed.Conversation.Ledger;
        Assert.Equal(2, ledger.Count);
        Assert.Equal(OwnerKind.Bot, ledger[1].From.Kind);
        Assert.Equal(OwnerKind.Nobody, ledger[1].To.Kind);
        Assert.Equal("closed-by-adapter", ledger[1].ReasonCode);
        Assert.Equal("resolved by SMS", ledger[1].Reason);

        // The opening (1), the message (2), the bot's answer (3), then the close: a rating request (4),
        // since the bot answered something, and CLOSED (5).
        var view = await Client.GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(start.ConversationId) });
        Assert.Equal(5UL, view.LastSequence);
        Assert.Equal("sms:+33600000001", view.CustomerId);
    }

    [Fact]
    public async Task Message_to_a_closed_conversation_is_a_failed_precondition_but_its_thread_starts_anew_for_the_same_customer()
    {
        var threadId = Addresses.Unique("sms-thread");
        var conversationId = await StartAsync(threadId);
        await Client.CloseConversationAsync(new CloseConversationRequest { Conversation = Addresses.Conversation(conversationId) });

        var byId = await Assert.ThrowsAsync<RpcException>(() => Client.SendMessageAsync(new SendMessageRequest { Message = Message(conversationId, "hello again") }).ResponseAsync);
        var byThread = await Client.SendMessageAsync(new SendMessageRequest
        {
            Message = new InboundMessage { MessageId = Addresses.Unique("m"), Conversation = Addresses.Thread(threadId), Text = "Where is my refund?" },
        });

        Assert.Equal(StatusCode.FailedPrecondition, byId.StatusCode);
        Assert.Contains("is closed", byId.Status.Detail, StringComparison.Ordinal);
        Assert.NotEqual(conversationId, byThread.Ack.ConversationId);
        Assert.Equal(AckStatus.Accepted, byThread.Ack.Status);
        var before = await Client.GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(conversationId) });
        var after = await Client.GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(byThread.Ack.ConversationId) });
        Assert.Equal(before.CustomerId, after.CustomerId);
    }

    [Fact]
    public async Task A_thread_the_silo_has_already_routed_moves_to_a_new_conversation_once_its_conversation_is_closed()
    {
        var threadId = Addresses.Unique("sms-thread");
        var customer = Addresses.Customer(Addresses.Unique("+33"));
        Task<SendMessageResponse> SendAsync(string text) => Client.SendMessageAsync(new SendMessageRequest
        {
            Message = new InboundMessage { MessageId = Addresses.Unique("m"), Conversation = Addresses.Thread(threadId), Customer = customer, Text = text },
        }).ResponseAsync;

        var first = await SendAsync("Where is my refund?");
        var again = await SendAsync("How do I reset my password?");
        await Client.CloseConversationAsync(new CloseConversationRequest { Conversation = Addresses.Conversation(first.Ack.ConversationId) });
        var afterClose = await SendAsync("I want to cancel my order");
        var next = await SendAsync("Can I get a copy of my invoice?");

        Assert.Equal(first.Ack.ConversationId, again.Ack.ConversationId);
        Assert.Equal(AckStatus.Accepted, afterClose.Ack.Status);
        Assert.NotEqual(first.Ack.ConversationId, afterClose.Ack.ConversationId);
        Assert.Equal(afterClose.Ack.ConversationId, next.Ack.ConversationId);
        Assert.Equal(AckStatus.Accepted, next.Ack.Status);
    }

    [Fact]
    public async Task Starting_a_thread_whose_conversation_is_closed_starts_a_new_one()
    {
        var threadId = Addresses.Unique("sms-thread");
        var first = await StartAsync(threadId);
        await Client.CloseConversationAsync(new CloseConversationRequest { Conversation = Addresses.Conversation(first) });

        var next = await Client.StartConversationAsync(new StartConversationRequest { ExternalThreadId = threadId, Customer = Addresses.Customer(Addresses.Unique("+33")) });

        Assert.True(next.Created);
        Assert.NotEqual(first, next.ConversationId);
        Assert.Equal(ConversationStatus.Open, next.Conversation.Status);
    }

    [Fact]
    public async Task Resent_unary_message_is_acknowledged_as_duplicate()
    {
        var conversationId = await StartAsync();
        var message = Message(conversationId, "Where is my refund?", "unary-resend");

        var first = await Client.SendMessageAsync(new SendMessageRequest { Message = message });
        var second = await Client.SendMessageAsync(new SendMessageRequest { Message = message });

        Assert.Equal(AckStatus.Accepted, first.Ack.Status);
        Assert.Equal(AckStatus.Duplicate, second.Ack.Status);
        Assert.Equal(first.Ack.Sequence, second.Ack.Sequence);
        Assert.Empty(second.Entries);
    }

    public static TheoryData<string, StatusCode, string> BadRequests => new()
    {
        { "empty-text", StatusCode.InvalidArgument, "text is empty" },
        { "oversize-text", StatusCode.InvalidArgument, "the limit is 4096" },
        { "unknown-conversation", StatusCode.NotFound, "was not found on channel 'sms'" },
        { "other-channel", StatusCode.NotFound, "was not found on channel 'whatsapp'" },
        { "missing-message", StatusCode.InvalidArgument, "message is required" },
        { "unknown-thread-transcript", StatusCode.NotFound, "has no conversation on channel 'sms'" },
        { "missing-address-transcript", StatusCode.InvalidArgument, "conversation is required" },
        { "start-without-customer", StatusCode.InvalidArgument, "customer.external_customer_id is required" },
        { "bad-channel-header", StatusCode.InvalidArgument, "A development key names its channel after 'dev-key-': 1 to 32 characters" },
        { "bad-language", StatusCode.InvalidArgument, "customer.language 'not a language!' is not a language tag" },
        { "long-name", StatusCode.InvalidArgument, "customer.display_name is 201 characters long; the limit is 200" },
        { "long-reason", StatusCode.InvalidArgument, "reason is 1001 characters long; the limit is 1000" },
        { "transcript-out-of-range", StatusCode.OutOfRange, "ends at 1" },
    };

    private static readonly HashSet<string> ScenariosOnTheConversation = ["empty-text", "oversize-text", "other-channel", "bad-channel-header", "long-reason", "transcript-out-of-range"];

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_requests_get_a_precise_status(string scenario, StatusCode expected, string detail)
    {
        var conversationId = await StartAsync();
        Task call = scenario switch
        {
            "empty-text" => Client.SendMessageAsync(new SendMessageRequest { Message = Message(conversationId, "") }).ResponseAsync,
            "oversize-text" => Client.SendMessageAsync(new SendMessageRequest { Message = Message(conversationId, new string('y', 4097)) }).ResponseAsync,
            "unknown-conversation" => Client.SendMessageAsync(new SendMessageRequest { Message = Message("nope", "hi") }).ResponseAsync,
            "other-channel" => silo.Client("whatsapp").GetTranscriptAsync(new GetTranscriptRequest { Conversation = Addresses.Conversation(conversationId) }).ResponseAsync,
            "missing-message" => Client.SendMessageAsync(new SendMessageRequest()).ResponseAsync,
            "unknown-thread-transcript" => Client.GetTranscriptAsync(new GetTranscriptRequest { Conversation = Addresses.Thread("never-seen") }).ResponseAsync,
            "missing-address-transcript" => Client.GetTranscriptAsync(new GetTranscriptRequest()).ResponseAsync,
            "start-without-customer" => Client.StartConversationAsync(new StartConversationRequest { ExternalThreadId = "t" }).ResponseAsync,
            "bad-channel-header" => silo.Client("Not A Channel!").GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(conversationId) }).ResponseAsync,
            "bad-language" => Client.StartConversationAsync(new StartConversationRequest { ExternalThreadId = "t", Customer = new CustomerIdentity { ExternalCustomerId = "c", Language = "not a language!" } }).ResponseAsync,
            "long-name" => Client.StartConversationAsync(new StartConversationRequest { ExternalThreadId = "t", Customer = new CustomerIdentity { ExternalCustomerId = "c", DisplayName = new string('n', 201) } }).ResponseAsync,
            "long-reason" => Client.CloseConversationAsync(new CloseConversationRequest { Conversation = Addresses.Conversation(conversationId), Reason = new string('r', 1001) }).ResponseAsync,
            "transcript-out-of-range" => Client.GetTranscriptAsync(new GetTranscriptRequest { Conversation = Addresses.Conversation(conversationId), AfterSequence = 2 }).ResponseAsync,
            _ => throw new ArgumentOutOfRangeException(nameof(scenario)),
        };

        var error = await Assert.ThrowsAsync<RpcException>(() => call);

        Assert.Equal(expected, error.StatusCode);
        Assert.Contains(detail, error.Status.Detail, StringComparison.Ordinal);
        if (ScenariosOnTheConversation.Contains(scenario))
        {
            // The refused call aimed at this conversation and left it exactly as it was.
            var unchanged = await Client.GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(conversationId) });
            Assert.Equal(1UL, unchanged.LastSequence);
            Assert.Equal(ConversationStatus.Open, unchanged.Status);
        }
    }
}
