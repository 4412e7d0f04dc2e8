using System.Net;
using System.Net.Sockets;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests.ClientLibrary;

/// <summary>AgentConnection on trouble, against the real silo: a cut path, a second desktop, a refusal, a dead address, a slow reader.</summary>
[Collection(ClientLibraryCollection.Name)]
public sealed class AgentConnectionTests(ClientLibraryFixture silo) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    /// <summary>Conversations a test queued: closed after it, so no later test's agent is offered them.</summary>
    private readonly List<string> _queued = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await using var adapter = ChannelConnection.Open(new ChannelConnectionOptions { Channel = "webchat", GrpcChannels = [silo.Channel] });
        foreach (var conversationId in _queued)
        {
            await adapter.CloseConversationAsync(ConversationAddress.ForId(conversationId), "test over");
        }
    }

    [Fact]
    public async Task A_cut_stream_is_reopened_within_the_grace_period_and_the_agent_keeps_its_conversation()
    {
        await using var cutter = new TcpCutter(new Uri(silo.Address));
        var agentId = Addresses.Unique("agent");
        await using var desk = await AgentConnection.ConnectAsync(new AgentConnectionOptions
        {
            AgentId = agentId,
            Profile = TestDesk.Profile("Cut", skills: "general:3"),
            Addresses = [cutter.Address],
            Reconnect = new ReconnectPolicy { MaxAttempts = 20, InitialDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) },
        });
        using var timeout = new CancellationTokenSource(Patience);
        await using var events = desk.ReadEventsAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
        await desk.SetPresenceAsync(Presence.Available, timeout.Token);
        var conversationId = await AskForHumanAsync(timeout.Token);

        var offer = await NextAsync(events, e => e switch
        {
            AgentDeskEvent.OfferReceived o when o.Offer.Context.ConversationId == conversationId => o.Offer,
            AgentDeskEvent.Synced s => s.Sync.Offers.FirstOrDefault(o => o.Context.ConversationId == conversationId),
            _ => null,
        });
        await desk.AcceptAsync(offer.OfferId, timeout.Token);

        cutter.Cut();
        var resynced = await NextAsync(events, e => e is AgentDeskEvent.Synced s && desk.Streams > 1 ? s : null);
        Assert.Contains(resynced.Sync.Assignments, a => a.ConversationId == conversationId);
        Assert.NotNull(desk.State(s => s.FindAssignment(conversationId)));

        var entry = await desk.SendAsync(conversationId, "Thanks for waiting, I can help.", cancellationToken: timeout.Token);
        Assert.Equal(SenderKind.Agent, entry.Message.Sender);
        await desk.ResolveAsync(conversationId, "info-given", cancellationToken: timeout.Token);
        var ended = await NextAsync(events, e => e as AgentDeskEvent.ConversationEnded);
        Assert.Equal(ConversationEndReason.Resolved, ended.Reason);
        await desk.SetPresenceAsync(Presence.Offline, timeout.Token);
    }

    [Fact]
    public async Task A_second_desktop_of_the_same_agent_stops_the_first_for_good()
    {
        var agentId = Addresses.Unique("agent");
        var options = new AgentConnectionOptions { AgentId = agentId, Profile = TestDesk.Profile("Twice"), GrpcChannels = [silo.Channel] };
        await using var first = await AgentConnection.ConnectAsync(options);
        await using var second = await AgentConnection.ConnectAsync(options with { Profile = null });

        var failure = await Assert.ThrowsAsync<ConnectionFailedException>(() => first.Completion.WaitAsync(Patience));
        Assert.Equal(StatusCode.Aborted, failure.Status.StatusCode);
        Assert.Equal(1, first.Streams);
        Assert.False(second.Completion.IsCompleted);
        await second.SetPresenceAsync(Presence.Offline);
    }

    [Fact]
    public async Task A_first_sign_in_without_a_profile_is_refused_at_once()
    {
        var failure = await Assert.ThrowsAsync<ConnectionFailedException>(() =>
            AgentConnection.ConnectAsync(new AgentConnectionOptions { AgentId = Addresses.Unique("agent"), GrpcChannels = [silo.Channel] }));
        Assert.Equal(StatusCode.FailedPrecondition, failure.Status.StatusCode);
        Assert.Contains("profile", failure.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_address_where_nothing_listens_fails_the_connection_after_the_policy_s_attempts()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var failure = await Assert.ThrowsAsync<ConnectionFailedException>(() => AgentConnection.ConnectAsync(new AgentConnectionOptions
        {
            AgentId = "nobody-home",
            Profile = TestDesk.Profile("Nobody"),
            Addresses = [$"http://127.0.0.1:{port}"],
            Reconnect = new ReconnectPolicy { MaxAttempts = 2, InitialDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(50) },
        }));
        Assert.Equal(StatusCode.Unavailable, failure.Status.StatusCode);
    }

    [Fact]
    public async Task A_reader_that_falls_behind_gets_a_sync_instead_of_what_it_missed()
    {
        var agentId = Addresses.Unique("agent");
        await using var desk = await AgentConnection.ConnectAsync(new AgentConnectionOptions
        {
            AgentId = agentId,
            Profile = TestDesk.Profile("Slow", skills: "general:3", capacity: 5),
            GrpcChannels = [silo.Channel],
            EventBufferCapacity = 1,
        });
        using var timeout = new CancellationTokenSource(Patience);
        await using var events = desk.ReadEventsAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
        Assert.True(await events.MoveNextAsync());
        Assert.IsType<AgentDeskEvent.Synced>(events.Current);

        // Three offers and a status change arrive while the reader does not read.
        await desk.SetPresenceAsync(Presence.Available, timeout.Token);
        var conversations = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            conversations.Add(await AskForHumanAsync(timeout.Token));
        }

        while (conversations.Any(c => desk.State(s => s.Offers.All(o => o.Context.ConversationId != c))))
        {
            await Task.Delay(50, timeout.Token);
        }

        // The buffer held one event; the rest were replaced by a sync carrying all three offers.
        Assert.True(await events.MoveNextAsync());
        Assert.True(await events.MoveNextAsync());
        var sync = Assert.IsType<AgentDeskEvent.Synced>(events.Current);
        Assert.Subset(sync.Sync.Offers.Select(o => o.Context.ConversationId).ToHashSet(), conversations.ToHashSet());
        foreach (var offer in sync.Sync.Offers)
        {
            await desk.DeclineAsync(offer.OfferId, timeout.Token);
        }

        await desk.SetPresenceAsync(Presence.Offline, timeout.Token);
    }

    private async Task<string> AskForHumanAsync(CancellationToken cancellationToken)
    {
        await using var adapter = ChannelConnection.Open(new ChannelConnectionOptions { Channel = "webchat", GrpcChannels = [silo.Channel] });
        var ack = await adapter.SendAsync(
            Addresses.Unique("m"), ConversationAddress.ForThread(Addresses.Unique("t")), "I want to speak to a human", Addresses.Customer(Addresses.Unique("c")), cancellationToken);
        _queued.Add(ack.EnsureStored().ConversationId);
        return ack.ConversationId;
    }

    private static async Task<T> NextAsync<T>(IAsyncEnumerator<AgentDeskEvent> events, Func<AgentDeskEvent, T?> match)
        where T : class
    {
        while (await events.MoveNextAsync())
        {
            if (match(events.Current) is { } found)
            {
                return found;
            }
        }

        throw new InvalidOperationException("The desk's events ended.");
    }
}
