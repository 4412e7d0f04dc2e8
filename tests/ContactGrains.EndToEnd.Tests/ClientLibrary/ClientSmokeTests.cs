using ContactGrains.Client;
using ContactGrains.Protos.V1;

namespace ContactGrains.EndToEnd.Tests.ClientLibrary;

/// <summary>The client library's happy path against the real silo: a customer reaches the bot, then an agent.</summary>
[Collection(ClientLibraryCollection.Name)]
public sealed class ClientSmokeTests(ClientLibraryFixture silo)
{
    [Fact]
    public async Task A_customer_asks_the_bot_then_a_human_and_an_agent_answers()
    {
        await using var adapter = ChannelConnection.Open(new ChannelConnectionOptions { Channel = "webchat", GrpcChannels = [silo.Channel] });
        var agentId = Addresses.Unique("agent");
        var profile = TestDesk.Profile("Smoke", skills: "general:3,billing:3,payments:3,orders:3,account:3");
        await using var agent = await AgentConnection.ConnectAsync(new AgentConnectionOptions { AgentId = agentId, Profile = profile, GrpcChannels = [silo.Channel] });
        await agent.SetPresenceAsync(Presence.Available);

        var thread = ConversationAddress.ForThread(Addresses.Unique("thread"));
        var first = await adapter.SendAsync(Addresses.Unique("m"), thread, "Where is my refund?", Addresses.Customer(Addresses.Unique("c")));
        Assert.Equal(AckStatus.Accepted, first.Status);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var entries = adapter.ReadConversationAsync(first.ConversationId, 0, timeout.Token).GetAsyncEnumerator(timeout.Token);
        var seen = new List<TimelineEntry>();
        async Task<TimelineEntry> NextAsync()
        {
            Assert.True(await entries.MoveNextAsync());
            seen.Add(entries.Current);
            return entries.Current;
        }

        while ((await NextAsync()).Message?.Sender != SenderKind.Bot)
        {
        }

        var second = await adapter.SendAsync(Addresses.Unique("m"), ConversationAddress.ForId(first.ConversationId), "I want to speak to a human");
        Assert.True(second.IsStored);

        var events = agent.ReadEventsAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
        Offer? offer = null;
        while (offer is null)
        {
            Assert.True(await events.MoveNextAsync());
            offer = events.Current switch
            {
                AgentDeskEvent.OfferReceived received when received.Offer.Context.ConversationId == first.ConversationId => received.Offer,
                AgentDeskEvent.Synced synced => synced.Sync.Offers.FirstOrDefault(o => o.Context.ConversationId == first.ConversationId),
                _ => null,
            };
        }

        await agent.AcceptAsync(offer.OfferId);
        await agent.SendAsync(first.ConversationId, "Hello, I'm here to help.");
        while ((await NextAsync()).Message is not { Sender: SenderKind.Agent })
        {
        }

        Assert.Equal(seen.Select(e => e.Sequence), Enumerable.Range(1, seen.Count).Select(i => (ulong)i));
        await agent.ResolveAsync(first.ConversationId, "info-given");
        Assert.Null(agent.State(s => s.FindAssignment(first.ConversationId)));
    }
}
