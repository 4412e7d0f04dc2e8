using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// The agent desktop's stream over real gRPC: dropping and coming back within the grace period,
/// staying away past it, a second desktop for the same agent, and the first sign-in.
/// </summary>
[Collection(AgentSiloCollection.Name)]
public sealed class AgentStreamTests(AgentSiloFixture silo)
{
    [Fact]
    public async Task Agent_reconnecting_within_the_grace_period_starts_with_a_sync_of_its_conversation_and_offer_and_messages_keep_flowing()
    {
        var agentId = Addresses.Unique("ann");
        await using var dropped = await TestDesk.ConnectAsync(silo, agentId, TestDesk.Profile("Ann", "account:4", "fr"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var assigned = await adapter.AskForHumanAsync("Je veux fermer mon compte", "fr");
        Assert.Equal("account:fr", (await dropped.AcceptOfferForAsync(assigned)).Context.Queue);
        var offered = await adapter.AskForHumanAsync("Supprimer mon compte", "fr");
        var offer = await dropped.WaitForOfferAsync(o => o.Context.ConversationId == offered);

        await dropped.DropAsync();
        var whileAway = await adapter.SayAsync(assigned, "Allô ?");
        await using var desk = await TestDesk.ConnectAsync(silo, agentId, profile: null);

        var first = Assert.IsType<AgentDeskEvent.Synced>(desk.Events.First()).Sync;
        Assert.Equal([assigned], first.Assignments.Select(a => a.ConversationId));
        // What the customer said while the stream was down is in the sync.
        Assert.Equal("Allô ?", first.Assignments[0].Context.LastEntries.Single(e => e.Sequence == whileAway.Sequence).Message.Text);
        Assert.Equal([offer.OfferId], first.Offers.Select(o => o.OfferId));
        Assert.Equal(Presence.Available, first.Status.Presence);
        Assert.True(first.Status.Connected);
        // The server's own timings (this silo's are shortened), not the defaults.
        Assert.Equal(
            new AgentSettings { OfferTimeoutSeconds = 6, MissedOffersBeforeAway = 2, DisconnectGracePeriodSeconds = 5 },
            first.Settings);

        // The offer held through the drop can still be accepted.
        var accepted = await desk.Connection.AcceptAsync(offer.OfferId);
        Assert.Equal(offered, accepted.ConversationId);

        // Customer to agent, over the new stream.
        Assert.Equal(AckStatus.Accepted, (await adapter.SayAsync(assigned, "Vous êtes toujours là ?")).Status);
        await desk.WaitUntilAsync(() => desk.EntriesOf(assigned).Any(e => e.Message?.Text == "Vous êtes toujours là ?"));

        // Agent to customer.
        var reply = await desk.Connection.SendAsync(assigned, "Oui, je suis là.", "back-1");
        await adapter.WaitUntilAsync(() => adapter.EntriesOf(assigned).Any(e => e.Sequence == reply.Sequence));
        Assert.Equal("Oui, je suis là.", adapter.EntriesOf(assigned).Single(e => e.Sequence == reply.Sequence).Message.Text);
    }

    [Fact]
    public async Task Conversation_of_an_agent_gone_past_the_grace_period_is_offered_to_another_agent_with_its_transcript()
    {
        await using var gone = await TestDesk.ConnectAsync(silo, Addresses.Unique("ann"), TestDesk.Profile("Ann", "delivery:4", "en"));
        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var conversationId = await adapter.AskForHumanAsync("Where is my parcel?");
        Assert.Equal("delivery:en", (await gone.AcceptOfferForAsync(conversationId)).Context.Queue);
        Assert.Equal(AckStatus.Accepted, (await adapter.SayAsync(conversationId, "It was due on Monday.")).Status);
        await gone.Connection.SendAsync(conversationId, "Let me check the carrier.", "gone-1");
        var before = await silo.Client().GetTranscriptAsync(new GetTranscriptRequest { Conversation = Addresses.Conversation(conversationId) });

        await using var next = await TestDesk.ConnectAsync(silo, Addresses.Unique("ben"), TestDesk.Profile("Ben", "delivery:4", "en"));
        await gone.DropAsync();

        // After the grace period: back to the front of its queue, and to the other agent.
        var offer = await next.WaitForOfferAsync(o => o.Context.ConversationId == conversationId);
        Assert.Equal("delivery:en", offer.Queue);
        Assert.Equal(100, offer.Priority);
        Assert.Equal("agent-disconnected", offer.Context.HandoffReasonCode);
        Assert.Equal(
            before.Entries.Select(e => (e.Sequence, e.Message?.Text)),
            offer.Context.LastEntries.Take(before.Entries.Count).Select(e => (e.Sequence, e.Message?.Text)));

        // The customer was told.
        await adapter.WaitUntilAsync(() => adapter.EntriesOf(conversationId).Count(e => e.Status?.Kind == StatusKind.Queued) == 2);
        var queued = adapter.EntriesOf(conversationId).Where(e => e.Status?.Kind == StatusKind.Queued).ToList();
        Assert.Equal(2, queued.Count);
        Assert.True(queued[1].Sequence > before.LastSequence);
        Assert.Equal(1u, queued[1].Status.QueuePosition);
        Assert.StartsWith("Your adviser was disconnected", queued[1].Status.Detail);

        await next.Connection.AcceptAsync(offer.OfferId);
        var transcript = await next.Connection.GetTranscriptAsync(conversationId);
        Assert.Equal(before.Entries, transcript.Entries.Take(before.Entries.Count));
        Assert.Equal(transcript.LastSequence, transcript.Entries[^1].Sequence);

        var view = await silo.Client().GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(conversationId) });
        Assert.Equal(
            ["new-conversation", "customer-asked-for-human", "offer-accepted", "agent-disconnected", "offer-accepted"],
            view.Ledger.Select(c => c.ReasonCode));
        Assert.Equal(new Owner { Kind = OwnerKind.Agent, Id = gone.AgentId }, view.Ledger[3].From);
        Assert.Equal(new Owner { Kind = OwnerKind.Queue, Id = "delivery:en" }, view.Ledger[3].To);
        Assert.Equal(new Owner { Kind = OwnerKind.Agent, Id = next.AgentId }, view.Owner);
    }

    [Fact]
    public async Task Second_connect_for_the_same_agent_ends_the_first_stream_with_aborted()
    {
        var agentId = Addresses.Unique("ann");
        await using var first = await TestDesk.ConnectAsync(silo, agentId, TestDesk.Profile("Ann", "general:3", "fr"));
        await using var second = await TestDesk.ConnectAsync(silo, agentId, profile: null);

        await first.WaitUntilAsync(() => first.EndStatus is not null);
        Assert.Equal(StatusCode.Aborted, first.EndStatus!.Value.StatusCode);
        Assert.Contains("replaced", first.EndStatus.Value.Detail);

        // The replaced stream's end does not disconnect the agent: the new stream is its stream.
        var status = await second.Connection.SetPresenceAsync(Presence.Available);
        Assert.True(status.Connected);
        Assert.Null(second.EndStatus);
    }

    [Fact]
    public async Task First_connect_without_a_profile_fails_with_failed_precondition()
    {
        var error = await Assert.ThrowsAsync<ConnectionFailedException>(() => TestDesk.ConnectAsync(silo, Addresses.Unique("new"), profile: null));

        Assert.Equal(StatusCode.FailedPrecondition, error.Status.StatusCode);
        Assert.Contains("needs a profile", error.Status.Detail);
    }
}
