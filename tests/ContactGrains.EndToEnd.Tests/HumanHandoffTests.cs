using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>A customer reaches a human over real gRPC: request, offer with context, accept, chat, resolve.</summary>
[Collection(AgentSiloCollection.Name)]
public sealed class HumanHandoffTests(AgentSiloFixture silo)
{
    [Fact]
    public async Task Customer_asking_for_a_human_reaches_an_agent_who_chats_and_resolves()
    {
        // A skill and language of its own, so agents of other tests in this silo are never candidates.
        var agentId = Addresses.Unique("alice");
        await using var desk = await TestDesk.ConnectAsync(silo, agentId, TestDesk.Profile("Alice", "billing:4", "fr"));
        await using var adapter = new AdapterStream(silo.Client());
        var thread = Addresses.Unique("thread");
        var customer = Addresses.Customer(Addresses.Unique("cust"), language: "fr");
        customer.DisplayName = "Camille";

        await adapter.SendMessageAsync("m1", Addresses.Thread(thread), "Où en est mon remboursement ?", customer);
        var first = await adapter.AckAsync("m1");
        await adapter.SendMessageAsync("m2", Addresses.Thread(thread), "Je veux parler à un conseiller", customer);
        var second = await adapter.AckAsync("m2");
        Assert.Equal(AckStatus.Accepted, second.Status);
        var conversationId = first.ConversationId;

        // The customer hears the bot's answer and then where they stand in the queue.
        await adapter.WaitUntilAsync(() => adapter.EntriesOf(conversationId).Any(e => e.Status?.Kind == StatusKind.Queued));
        var queued = adapter.EntriesOf(conversationId).Single(e => e.Status?.Kind == StatusKind.Queued);
        Assert.Equal(1u, queued.Status.QueuePosition);

        // The agent is offered the conversation with its context.
        var offer = await desk.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        Assert.Equal("billing:fr", offer.Queue);
        Assert.Equal("Camille", offer.Context.CustomerName);
        Assert.Equal("customer-asked-for-human", offer.Context.HandoffReasonCode);
        Assert.Contains("refund_status", offer.Context.BotSummary);
        Assert.Contains(offer.Context.LastEntries, e => e.Message?.Text == "Où en est mon remboursement ?");

        var assignment = await desk.Connection.AcceptAsync(offer.OfferId);
        Assert.Equal(conversationId, assignment.ConversationId);
        await adapter.WaitUntilAsync(() => adapter.EntriesOf(conversationId).Any(e => e.Status?.Kind == StatusKind.AgentJoined));
        Assert.Equal("Alice", adapter.EntriesOf(conversationId).Single(e => e.Status?.Kind == StatusKind.AgentJoined).Status.AgentName);

        // Both ways, in order: the agent's messages reach the customer's stream; the customer's the agent's.
        var fromAgent = new List<string>();
        var fromCustomer = new List<string>();
        for (var i = 1; i <= 5; i++)
        {
            var reply = $"Bonjour, réponse {i}";
            await desk.Connection.SendAsync(conversationId, reply, $"a{i}");
            fromAgent.Add(reply);
            var text = $"Merci, message {i}";
            await adapter.SendMessageAsync($"c{i}", Addresses.Conversation(conversationId), text);
            Assert.Equal(AckStatus.Accepted, (await adapter.AckAsync($"c{i}")).Status);
            fromCustomer.Add(text);
        }

        await desk.WaitUntilAsync(() => desk.EntriesOf(conversationId).Count(e => e.Message?.Sender == SenderKind.Customer) >= 7);
        Assert.Equal(fromCustomer, desk.EntriesOf(conversationId)
            .Where(e => e.Message?.Sender == SenderKind.Customer).Select(e => e.Message.Text).Skip(2));
        await adapter.WaitUntilAsync(() => adapter.EntriesOf(conversationId).Count(e => e.Message?.Sender == SenderKind.Agent) >= 5);
        var customerView = adapter.EntriesOf(conversationId);
        Assert.Equal(fromAgent, customerView.Where(e => e.Message?.Sender == SenderKind.Agent).Select(e => e.Message.Text));
        Assert.Equal(customerView.Select(e => e.Sequence).Order(), customerView.Select(e => e.Sequence));

        // The bot stayed silent while the agent owned the conversation.
        Assert.Equal(2, customerView.Count(e => e.Message?.Sender == SenderKind.Bot));

        await desk.Connection.ResolveAsync(conversationId, "refund-explained");
        await adapter.WaitUntilAsync(() => adapter.EntriesOf(conversationId).Any(e => e.Status?.Kind == StatusKind.Closed));
        var view = await silo.Client().GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(conversationId) });
        Assert.Equal(ConversationStatus.Closed, view.Status);
        Assert.Equal(
            ["new-conversation", "customer-asked-for-human", "offer-accepted", "resolved"],
            view.Ledger.Select(c => c.ReasonCode));
        Assert.Equal(OwnerKind.Queue, view.Ledger[1].To.Kind);
        Assert.Equal("billing:fr", view.Ledger[1].To.Id);
        Assert.Equal(agentId, view.Ledger[2].To.Id);

        var status = await desk.Connection.GetStatusAsync();
        Assert.Equal(0u, status.Assignments);
        Assert.Equal(Presence.Available, status.Presence);
        Assert.True(status.Connected);
    }

    [Fact]
    public async Task Agent_calls_without_the_agent_header_are_unauthenticated()
    {
        var client = new AgentService.AgentServiceClient(silo.Channel);
        var error = await Assert.ThrowsAsync<RpcException>(() => client.SetPresenceAsync(new SetPresenceRequest { Presence = Presence.Away }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }
}
