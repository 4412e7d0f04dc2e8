using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// Offers over real gRPC: decline, timeout, missed offers, stale offers, one agent at a time, and
/// the customer leaving. Each test routes through a queue (skill:language) that no other test of the
/// agent silo uses while it runs, and closes its conversations when it ends.
/// </summary>
[Collection(AgentSiloCollection.Name)]
public sealed class AgentOfferTests(AgentSiloFixture silo)
{
    [Fact]
    public async Task Declined_offer_goes_to_the_next_agent()
    {
        await using var first = await TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "orders:4", "en"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await adapter.AskForHumanAsync("I want to cancel my order");
        var declined = await first.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        Assert.Equal("orders:en", declined.Queue);

        // Declined first, then the next agent signs in: signing in first could outlast the offer.
        await first.Connection.DeclineAsync(declined.OfferId);
        await using var second = await TestDesk.ConnectAsync(silo, Addresses.Unique("ben"), TestDesk.Profile("Ben", "orders:4", "en"));

        var next = await second.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        Assert.NotEqual(declined.OfferId, next.OfferId);
        Assert.Equal("orders:en", next.Queue);
        var assignment = await second.Connection.AcceptAsync(next.OfferId);
        Assert.Equal(conversationId, assignment.ConversationId);

        // The decline gave the slot back and the conversation never came back to the agent who declined it.
        var firstStatus = await first.Connection.SetPresenceAsync(Presence.Available);
        Assert.Equal(0u, firstStatus.PendingOffers);
        Assert.Equal(0u, firstStatus.Assignments);
        Assert.Single(first.OffersReceived, o => o.Context.ConversationId == conversationId);
        var view = await silo.Client().GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(conversationId) });
        Assert.Equal(new Owner { Kind = OwnerKind.Agent, Id = second.AgentId }, view.Owner);
    }

    [Fact]
    public async Task Offer_not_accepted_in_time_is_withdrawn_as_timed_out_and_goes_to_the_next_agent()
    {
        await using var first = await TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "orders:4", "fr"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await adapter.AskForHumanAsync("Je veux annuler ma commande", "fr");
        var missed = await first.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        Assert.Equal("orders:fr", missed.Queue);
        await using var second = await TestDesk.ConnectAsync(silo, Addresses.Unique("ben"), TestDesk.Profile("Ben", "orders:4", "fr"));

        var withdrawn = await first.WaitForWithdrawalAsync(missed.OfferId);
        Assert.Equal(WithdrawReason.TimedOut, withdrawn.Reason);
        Assert.Empty(first.PendingOffers());

        var next = await second.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        Assert.NotEqual(missed.OfferId, next.OfferId);
        var assignment = await second.Connection.AcceptAsync(next.OfferId);
        Assert.Equal(conversationId, assignment.ConversationId);
        Assert.Single(first.OffersReceived, o => o.Context.ConversationId == conversationId);
    }

    [Fact]
    public async Task Agent_who_lets_two_offers_in_a_row_time_out_is_set_away_and_gets_no_offer_until_available_again()
    {
        await using var desk = await TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "security:4", "en"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);

        var missed = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var conversationId = await adapter.AskForHumanAsync("I forgot my password");
            var offer = await desk.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
            Assert.Equal("security:en", offer.Queue);
            Assert.Equal(WithdrawReason.TimedOut, (await desk.WaitForWithdrawalAsync(offer.OfferId)).Reason);
            missed.Add(conversationId);
        }

        await desk.WaitUntilAsync(() => desk.LastStatus?.Presence == Presence.Away);
        Assert.Equal(0u, desk.LastStatus!.PendingOffers);
        Assert.True(desk.LastStatus.Connected);

        // A new customer waits: the queue knows the agent is not available and offers it nothing.
        var waiting = await adapter.AskForHumanAsync("I forgot my password");
        var stats = await desk.WaitForQueueStatsAsync("security", "en", s => s.Waiting == 3 && s.AgentsAvailable == 0);
        Assert.Equal(0u, stats.AgentsAvailable);

        var available = await desk.Connection.SetPresenceAsync(Presence.Available);
        Assert.Equal(Presence.Available, available.Presence);
        var offered = await desk.WaitForOfferAsync(o => o.Context.ConversationId == waiting);

        // On the stream, in order: away, then nothing offered until the agent said it was available.
        var events = desk.Events.ToList();
        var awayAt = events.FindIndex(e => e is AgentDeskEvent.StatusChanged { Status.Presence: Presence.Away });
        var availableAt = events.FindIndex(Math.Max(awayAt, 0), e => e is AgentDeskEvent.StatusChanged { Status.Presence: Presence.Available });
        Assert.True(awayAt >= 0 && availableAt > awayAt, "the stream shows away, then available");
        Assert.DoesNotContain(events[awayAt..availableAt], e => e is AgentDeskEvent.OfferReceived or AgentDeskEvent.Synced { Sync.Offers.Count: > 0 });
        Assert.Equal(offered.OfferId, events.Skip(availableAt).OfType<AgentDeskEvent.OfferReceived>().First().Offer.OfferId);

        // The two it missed are not offered to it again (re-offer delay); the new one is.
        Assert.Equal([.. missed, waiting], desk.OffersReceived.Select(o => o.Context.ConversationId));
    }

    [Fact]
    public async Task Accepting_an_offer_that_timed_out_fails_with_failed_precondition()
    {
        await using var desk = await TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "security:4", "fr"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await adapter.AskForHumanAsync("J'ai oublié mon mot de passe", "fr");
        var offer = await desk.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        Assert.Equal("security:fr", offer.Queue);
        Assert.Equal(WithdrawReason.TimedOut, (await desk.WaitForWithdrawalAsync(offer.OfferId)).Reason);

        var error = await Assert.ThrowsAsync<RpcException>(
            () => desk.Connection.AcceptAsync(offer.OfferId));
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains(offer.OfferId, error.Status.Detail);

        // The conversation still waits for an agent.
        var view = await silo.Client().GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(conversationId) });
        Assert.Equal(new Owner { Kind = OwnerKind.Queue, Id = "security:fr" }, view.Owner);
    }

    [Fact]
    public async Task Declining_an_unknown_offer_fails_with_failed_precondition()
    {
        await using var desk = await TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "general:3", "fr"));

        var error = await Assert.ThrowsAsync<RpcException>(
            () => desk.Connection.DeclineAsync("no-such-offer"));
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("'no-such-offer' is not pending", error.Status.Detail);
    }

    [Fact]
    public async Task While_one_agent_holds_the_offer_the_other_available_agent_gets_none_for_that_conversation()
    {
        await using var first = await TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "payments:4", "en"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await adapter.AskForHumanAsync("I was charged twice");
        var held = await first.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        Assert.Equal("payments:en", held.Queue);

        // Available with free capacity in the same queue while the first agent holds the offer.
        await using var second = await TestDesk.ConnectAsync(silo, Addresses.Unique("ben"), TestDesk.Profile("Ben", "payments:4", "en"));
        var next = await second.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        Assert.Equal(WithdrawReason.TimedOut, (await first.WaitForWithdrawalAsync(held.OfferId)).Reason);

        // The second offer was made only once the first had expired: the two never overlapped.
        var nextMadeAt = next.ExpiresAt.ToDateTimeOffset() - AgentSiloFixture.OfferTimeout;
        Assert.True(nextMadeAt >= held.ExpiresAt.ToDateTimeOffset(),
            $"offer to {second.AgentId} made at {nextMadeAt:O}, before the offer to {first.AgentId} expired at {held.ExpiresAt.ToDateTimeOffset():O}");
        await second.Connection.AcceptAsync(next.OfferId);
        Assert.Single(first.OffersReceived, o => o.Context.ConversationId == conversationId);
        Assert.Single(second.OffersReceived, o => o.Context.ConversationId == conversationId);
    }

    [Fact]
    public async Task Customer_leaving_while_the_offer_is_pending_withdraws_it_as_customer_left()
    {
        await using var desk = await TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "payments:4", "fr"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await adapter.AskForHumanAsync("J'ai été débité deux fois", "fr");
        var offer = await desk.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        Assert.Equal("payments:fr", offer.Queue);

        await adapter.CloseConversationAsync(conversationId);

        Assert.Equal(WithdrawReason.CustomerLeft, (await desk.WaitForWithdrawalAsync(offer.OfferId)).Reason);
        var error = await Assert.ThrowsAsync<RpcException>(
            () => desk.Connection.AcceptAsync(offer.OfferId));
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
    }

    [Fact]
    public async Task Customer_leaving_an_assigned_conversation_sends_the_agent_a_customer_left_notice()
    {
        await using var desk = await TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "account:4", "en"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await adapter.AskForHumanAsync("I want to close my account");
        var assignment = await desk.AcceptOfferForAsync(conversationId);
        Assert.Equal("account:en", assignment.Context.Queue);

        await adapter.CloseConversationAsync(conversationId);

        await desk.WaitUntilAsync(() => desk.Notices.Any(n => n.ConversationId == conversationId));
        var notice = desk.Notices.Single(n => n.ConversationId == conversationId);
        Assert.Equal(ConversationEndReason.CustomerLeft, notice.Reason);
        Assert.Equal("The adapter closed the conversation.", notice.Detail);
        Assert.Empty(desk.Assignments());
        var status = await desk.Connection.SetPresenceAsync(Presence.Available);
        Assert.Equal(0u, status.Assignments);
    }
}
