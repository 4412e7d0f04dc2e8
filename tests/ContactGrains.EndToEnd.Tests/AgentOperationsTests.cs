using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// What an agent does with a conversation over real gRPC: transfer, hand back, messages, queue
/// figures, and the refusals. Each test routes through a queue (skill:language) that no other test
/// of the agent silo uses while it runs, and closes its conversations when it ends.
/// </summary>
[Collection(AgentSiloCollection.Name)]
public sealed class AgentOperationsTests(AgentSiloFixture silo)
{
    [Fact]
    public async Task Transfer_to_another_skills_queue_offers_the_conversation_to_that_queues_agent_as_transferred_with_the_note()
    {
        await using var from = await TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "delivery:4", "fr"));
        await using var to = await TestDesk.ConnectAsync(silo, Addresses.Unique("ben"), TestDesk.Profile("Ben", "orders:4", "fr"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await adapter.AskForHumanAsync("Où est ma commande ?", "fr");
        Assert.Equal("delivery:fr", (await from.AcceptOfferForAsync(conversationId)).Context.Queue);

        await from.Connection.TransferToQueueAsync(conversationId, "orders", note: "Wants to cancel the order instead.");

        // Same language as the conversation, since the transfer named none.
        var offer = await to.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        Assert.Equal("orders:fr", offer.Queue);
        Assert.Equal(20, offer.Priority);
        Assert.Equal("transferred", offer.Context.HandoffReasonCode);
        Assert.Equal($"Transferred by agent {from.AgentId} to queue orders:fr: Wants to cancel the order instead.", offer.Context.HandoffReason);
        Assert.Equal(0u, (await from.Connection.SetPresenceAsync(Presence.Available)).Assignments);

        await adapter.WaitUntilAsync(() => adapter.EntriesOf(conversationId).Count(e => e.Status?.Kind == StatusKind.Queued) == 2);
        Assert.StartsWith("Vous êtes transféré vers un autre conseiller.",
            adapter.EntriesOf(conversationId).Last(e => e.Status?.Kind == StatusKind.Queued).Status.Detail);

        await to.Connection.AcceptAsync(offer.OfferId);
        var view = await silo.Client().GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(conversationId) });
        Assert.Equal(["new-conversation", "customer-asked-for-human", "offer-accepted", "transferred", "offer-accepted"], view.Ledger.Select(c => c.ReasonCode));
        Assert.Equal(new Owner { Kind = OwnerKind.Queue, Id = "orders:fr" }, view.Ledger[3].To);
        Assert.Equal(new Owner { Kind = OwnerKind.Agent, Id = to.AgentId }, view.Owner);
    }

    [Fact]
    public async Task Transfer_to_a_named_agent_offers_the_conversation_to_that_agent()
    {
        await using var from = await TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "delivery:4", "fr"));
        // Not an agent of the conversation's queue: a transfer may still name it.
        await using var named = await TestDesk.ConnectAsync(silo, Addresses.Unique("ben"), TestDesk.Profile("Ben", "general:3", "fr"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await adapter.AskForHumanAsync("Où est ma commande ?", "fr");
        Assert.Equal("delivery:fr", (await from.AcceptOfferForAsync(conversationId)).Context.Queue);

        await from.Connection.TransferToAgentAsync(conversationId, named.AgentId, "Ben handles carrier claims.");

        var offer = await named.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        Assert.Equal("delivery:fr", offer.Queue);
        Assert.Equal("transferred", offer.Context.HandoffReasonCode);
        Assert.Equal($"Transferred by agent {from.AgentId} to agent {named.AgentId}: Ben handles carrier claims.", offer.Context.HandoffReason);
        var assignment = await named.Connection.AcceptAsync(offer.OfferId);
        Assert.Equal(conversationId, assignment.ConversationId);
        var view = await silo.Client().GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(conversationId) });
        Assert.Equal(new Owner { Kind = OwnerKind.Agent, Id = named.AgentId }, view.Owner);
        Assert.Equal(["transferred", "offer-accepted"], view.Ledger.Skip(3).Select(c => c.ReasonCode));
    }

    [Fact]
    public async Task Transfer_to_an_agent_who_is_away_fails_with_failed_precondition_and_the_agent_keeps_the_conversation()
    {
        await using var from = await TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "security:4", "fr"));
        await using var away = await TestDesk.ConnectAsync(silo, Addresses.Unique("ben"), TestDesk.Profile("Ben", "general:3", "fr"));
        Assert.Equal(Presence.Away, (await away.Connection.SetPresenceAsync(Presence.Away)).Presence);
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await adapter.AskForHumanAsync("J'ai oublié mon mot de passe", "fr");
        Assert.Equal("security:fr", (await from.AcceptOfferForAsync(conversationId)).Context.Queue);

        var error = await Assert.ThrowsAsync<RpcException>(() => from.Connection.TransferToAgentAsync(conversationId, away.AgentId));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal($"Agent '{away.AgentId}' is away: transfer to a queue instead, or try again later.", error.Status.Detail);
        var view = await silo.Client().GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(conversationId) });
        Assert.Equal(new Owner { Kind = OwnerKind.Agent, Id = from.AgentId }, view.Owner);
        await from.Connection.SendAsync(conversationId, "Je reste avec vous.", "still-mine");
    }

    [Fact]
    public async Task Hand_back_to_the_bot_tells_the_customer_and_the_bot_answers_the_next_message()
    {
        await using var desk = await TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "orders:4", "en"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await adapter.AskForHumanAsync("I want to cancel my order");
        Assert.Equal("orders:en", (await desk.AcceptOfferForAsync(conversationId)).Context.Queue);

        await desk.Connection.HandBackAsync(conversationId, "Cancelled; anything else is for the bot.");

        await adapter.WaitUntilAsync(() => adapter.EntriesOf(conversationId).Any(e => e.Status?.Kind == StatusKind.BotResumed));
        var ack = await adapter.SayAsync(conversationId, "Where is my parcel?");
        Assert.Equal(AckStatus.Accepted, ack.Status);
        await adapter.WaitUntilAsync(() => adapter.EntriesOf(conversationId).Any(e => e.Sequence == ack.Sequence + 1));
        var answer = adapter.EntriesOf(conversationId).Single(e => e.Sequence == ack.Sequence + 1);
        Assert.Equal(SenderKind.Bot, answer.Message.Sender);
        Assert.Equal("delivery_tracking", answer.Message.Bot.Intent);

        var view = await silo.Client().GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(conversationId) });
        Assert.Equal(OwnerKind.Bot, view.Owner.Kind);
        Assert.Equal("handed-back", view.Ledger[^1].ReasonCode);
        Assert.Equal(0u, (await desk.Connection.SetPresenceAsync(Presence.Available)).Assignments);
    }

    [Fact]
    public async Task Another_agents_conversation_cannot_be_written_to_or_resolved()
    {
        await using var owner = await TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "payments:4", "en"));
        await using var other = await TestDesk.ConnectAsync(silo, Addresses.Unique("ben"), TestDesk.Profile("Ben", "general:3", "fr"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await adapter.AskForHumanAsync("I was charged twice");
        Assert.Equal("payments:en", (await owner.AcceptOfferForAsync(conversationId)).Context.Queue);

        var send = await Assert.ThrowsAsync<RpcException>(() => other.Connection.SendAsync(conversationId, "Hello", "m1"));
        var resolve = await Assert.ThrowsAsync<RpcException>(() => other.Connection.ResolveAsync(conversationId, "info-given"));

        Assert.Equal(StatusCode.PermissionDenied, send.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, resolve.StatusCode);
        Assert.Equal($"Conversation '{conversationId}' is not assigned to agent '{other.AgentId}'.", resolve.Status.Detail);
        var view = await silo.Client().GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(conversationId) });
        Assert.Equal(ConversationStatus.Open, view.Status);
        Assert.Equal(new Owner { Kind = OwnerKind.Agent, Id = owner.AgentId }, view.Owner);
        Assert.DoesNotContain(adapter.EntriesOf(conversationId), e => e.Message?.Sender == SenderKind.Agent);
    }

    [Fact]
    public async Task Profile_with_an_unknown_skill_is_rejected_with_the_known_skills()
    {
        var error = await Assert.ThrowsAsync<ConnectionFailedException>(
            () => TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "refunds:3", "en")));

        Assert.Equal(StatusCode.InvalidArgument, error.Status.StatusCode);
        Assert.Equal(
            "profile.skills.skill 'refunds' is not a routing skill; known skills: account, billing, delivery, general, orders, payments, security.",
            error.Status.Detail);
    }

    [Fact]
    public async Task Profile_with_proficiency_6_is_rejected_with_the_valid_range()
    {
        var error = await Assert.ThrowsAsync<ConnectionFailedException>(
            () => TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "billing:6", "en")));

        Assert.Equal(StatusCode.InvalidArgument, error.Status.StatusCode);
        Assert.Equal("profile.skills: proficiency in 'billing' is 6; use 1 (novice) to 5 (expert).", error.Status.Detail);
    }

    // The next four are raw unary calls on purpose: requests the library would never build (or that
    // need no connected desktop), checked against the server's validation before anything else.

    [Fact]
    public async Task Agent_message_with_empty_text_is_rejected()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => silo.Agent(Addresses.Unique("ann")).SendMessageAsync(
            new AgentMessageRequest { ConversationId = "c1", MessageId = "m1", Text = " " }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("text is empty", error.Status.Detail);
    }

    [Fact]
    public async Task Resolve_with_a_malformed_wrap_up_code_is_rejected_with_the_allowed_format()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => silo.Agent(Addresses.Unique("ann")).ResolveAsync(
            new ResolveRequest { ConversationId = "c1", WrapUpCode = "Refund issued!" }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("wrap_up_code 'Refund issued!' is invalid: use 1 to 64 characters from a-z, 0-9, '-' and '_'.", error.Status.Detail);
    }

    [Fact]
    public async Task Transfer_without_a_target_is_rejected()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => silo.Agent(Addresses.Unique("ann")).TransferAsync(
            new TransferRequest { ConversationId = "c1", Note = "somewhere" }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("Set the transfer target: queue (skill, optional language) or agent_id.", error.Status.Detail);
    }

    [Fact]
    public async Task Unknown_presence_is_rejected_with_the_valid_values()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => silo.Agent(Addresses.Unique("ann")).SetPresenceAsync(
            new SetPresenceRequest { Presence = (Presence)42 }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("PRESENCE_AVAILABLE, PRESENCE_AWAY or PRESENCE_OFFLINE", error.Status.Detail);
    }

    [Fact]
    public async Task Agent_message_sent_twice_with_the_same_id_is_stored_once()
    {
        await using var desk = await TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "payments:4", "fr"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await adapter.AskForHumanAsync("J'ai été débité deux fois", "fr");
        Assert.Equal("payments:fr", (await desk.AcceptOfferForAsync(conversationId)).Context.Queue);

        var first = await desk.Connection.SendAsync(conversationId, "Je regarde votre relevé.", messageId: "a-1");
        var resent = await desk.Connection.SendAsync(conversationId, "Je regarde votre relevé.", messageId: "a-1");

        Assert.Equal(first, resent);
        var transcript = await desk.Connection.GetTranscriptAsync(conversationId);
        var stored = Assert.Single(transcript.Entries, e => e.Message?.Sender == SenderKind.Agent);
        Assert.Equal(first.Sequence, stored.Sequence);
        Assert.Equal(first.Sequence, transcript.LastSequence);
    }

    [Fact]
    public async Task Message_ids_are_the_agents_own_so_the_next_agent_after_a_transfer_may_use_the_same_one()
    {
        await using var from = await TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "payments:4", "fr"));
        await using var named = await TestDesk.ConnectAsync(silo, Addresses.Unique("ben"), TestDesk.Profile("Ben", "general:3", "fr"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await adapter.AskForHumanAsync("J'ai été débité deux fois", "fr");
        await from.AcceptOfferForAsync(conversationId);
        var fromAnn = await from.Connection.SendAsync(conversationId, "Je vous passe Ben.", "m-1");
        await from.Connection.TransferToAgentAsync(conversationId, named.AgentId);
        await named.AcceptOfferForAsync(conversationId);

        // Each desktop numbers its own messages: Ben's first message has the id Ann's first had.
        var fromBen = await named.Connection.SendAsync(conversationId, "Bonjour, ici Ben.", "m-1");

        Assert.Equal(named.AgentId, fromBen.Message.SenderId);
        Assert.Equal("Bonjour, ici Ben.", fromBen.Message.Text);
        Assert.True(fromBen.Sequence > fromAnn.Sequence);
        var transcript = await named.Connection.GetTranscriptAsync(conversationId);
        Assert.Equal(
            [(from.AgentId, "Je vous passe Ben."), (named.AgentId, "Bonjour, ici Ben.")],
            transcript.Entries.Where(e => e.Message?.Sender == SenderKind.Agent).Select(e => (e.Message.SenderId, e.Message.Text)));
    }

    [Fact]
    public async Task Queue_stats_count_waiting_conversations_and_an_answered_one_with_its_service_level()
    {
        // billing:en is used by no other test of the agent silo: its figures are this test's alone.
        // The supervisor reads figures with a plain unary call: a library desktop would sign in as an agent.
        var supervisor = silo.Agent(Addresses.Unique("supervisor"));
        var address = new GetQueueStatsRequest { Queue = new QueueAddress { Skill = "billing", Language = "en" } };
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var answered = await adapter.AskForHumanAsync("Where is my refund?");

        var waiting = (await supervisor.GetQueueStatsAsync(address)).Queues.Single();
        Assert.Equal(("billing:en", "billing", "en"), (waiting.Queue, waiting.Skill, waiting.Language));
        Assert.Equal(1u, waiting.Waiting);
        Assert.Equal(0u, waiting.AgentsAvailable);
        Assert.Equal(0u, waiting.Answered);
        Assert.False(waiting.HasServiceLevel);

        await using var desk = await TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "billing:4", "en", capacity: 1));
        await desk.AcceptOfferForAsync(answered);
        var afterAnswer = (await supervisor.GetQueueStatsAsync(address)).Queues.Single();
        Assert.Equal(0u, afterAnswer.Waiting);
        Assert.Equal(1u, afterAnswer.Answered);
        Assert.Equal(0u, afterAnswer.Abandoned);
        Assert.True(afterAnswer.HasServiceLevel);
        Assert.Equal(1.0, afterAnswer.ServiceLevel);
        Assert.Equal(60u, afterAnswer.ServiceLevelThresholdSeconds);

        // The agent is full (capacity 1): the next customer waits.
        var next = await adapter.AskForHumanAsync("Where is my refund?");
        Assert.Equal(1u, adapter.EntriesOf(next).Single(e => e.Status?.Kind == StatusKind.Queued).Status.QueuePosition);
        var busy = await desk.WaitForQueueStatsAsync("billing", "en", s => s.AgentsBusy == 1);
        Assert.Equal(1u, busy.Waiting);
        Assert.Equal(1u, busy.AgentsBusy);
        Assert.Equal(0u, busy.AgentsAvailable);
        Assert.Equal(1u, busy.Answered);
    }

    [Fact]
    public async Task Vip_customer_is_offered_before_a_standard_customer_who_waited_longer()
    {
        // No topic before asking for a human: the general queue (general:en is this test's alone).
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var standard = await adapter.AskForHumanAsync(question: null);
        var vipCustomer = Addresses.Customer(Addresses.Unique("vip"));
        vipCustomer.Tier = CustomerTier.Vip;
        var vip = await adapter.AskForHumanAsync(question: null, customer: vipCustomer);
        Assert.Equal(1u, adapter.EntriesOf(vip).Single(e => e.Status?.Kind == StatusKind.Queued).Status.QueuePosition);

        await using var desk = await TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "general:4", "en", capacity: 1));

        var offer = await desk.WaitForOfferAsync();
        Assert.Equal(vip, offer.Context.ConversationId);
        Assert.Equal("general:en", offer.Queue);
        Assert.Equal(30, offer.Priority);
        Assert.Equal(CustomerTier.Vip, offer.Context.CustomerTier);
        await desk.Connection.AcceptAsync(offer.OfferId);
        Assert.Equal([vip], desk.OffersReceived.Select(o => o.Context.ConversationId));
        var view = await silo.Client().GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(standard) });
        Assert.Equal(new Owner { Kind = OwnerKind.Queue, Id = "general:en" }, view.Owner);
    }
}
