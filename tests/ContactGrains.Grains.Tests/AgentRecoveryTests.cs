using System.Collections.Concurrent;
using System.Collections.Immutable;
using ContactGrains.Bot;
using ContactGrains.Contracts;
using ContactGrains.Grains.Conversations;
using ContactGrains.Grains.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Core.Internal;
using Orleans.Storage;
using Orleans.TestingHost;

namespace ContactGrains.Grains.Tests;

/// <summary>
/// The rare paths of agents and queues: a stream that goes silent, an offer its queue forgot, a
/// storage failure in the middle of an accept or a close. Each test has its own single-silo
/// cluster on a fake clock, with storage that fails on demand.
/// </summary>
public sealed class AgentRecoveryTests : IAsyncLifetime
{
    private const string QueueKey = "billing:en";
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(30);
    private static readonly RoutingOptions Routing = new();

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));
    private InProcessTestCluster _cluster = null!;
    private FaultyGrainStorage _storage = null!;

    private IGrainFactory Grains => _cluster.Client;

    public async Task InitializeAsync() => (_cluster, _storage) = await FaultyStorageCluster.StartAsync(_clock);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_stream_that_goes_silent_starts_a_full_grace_period_and_a_reconnect_within_it_keeps_the_conversation()
    {
        var (agent, desk) = await ConnectAsync("ann");
        var conversation = await AskForHumanAsync();
        await AcceptAsync(agent, desk, conversation);

        // No heartbeat arrives: the silence is noticed after the heartbeat timeout, and only then
        // does the grace period start (it used to start at the last heartbeat, i.e. already over).
        _clock.Advance(Routing.HeartbeatTimeout + TimeSpan.FromSeconds(1));
        var silent = await EventuallyAsync(() => agent.GetStatus(), s => !s.Connected);
        Assert.Equal(AgentPresence.Available, silent.Presence);
        Assert.Equal(1, silent.Assignments);

        _clock.Advance(Routing.DisconnectGracePeriod - TimeSpan.FromSeconds(5));
        await SettleAsync();
        Assert.Equal(AgentPresence.Available, (await agent.GetStatus()).Presence);

        var sync = await agent.Connect(profile: null, desk.Reference);
        Assert.Equal(conversation.GetPrimaryKeyString(), Assert.Single(sync.Assignments).ConversationId);
        Assert.True(sync.Status.Connected);
        Assert.Equal(new Owner(OwnerKind.Agent, "ann"), (await conversation.GetSnapshot()).Owner);

        // Silent again, and this time for longer than the grace period: the conversation goes back.
        _clock.Advance(Routing.HeartbeatTimeout + TimeSpan.FromSeconds(1));
        await EventuallyAsync(() => agent.GetStatus(), s => !s.Connected);
        _clock.Advance(Routing.DisconnectGracePeriod + TimeSpan.FromSeconds(1));
        await EventuallyAsync(() => agent.GetStatus(), s => s.Presence == AgentPresence.Offline && s.Assignments == 0);
        var returned = await conversation.GetSnapshot();
        Assert.Equal(new Owner(OwnerKind.Queue, QueueKey), returned.Owner);
        Assert.Equal(OwnershipReasons.AgentDisconnected, returned.Ledger[^1].ReasonCode);
    }

    [Fact]
    public async Task A_heartbeat_after_a_silence_ends_the_grace_period_it_started_but_not_a_real_disconnect()
    {
        var (agent, desk) = await ConnectAsync("cid");
        var conversation = await AskForHumanAsync();
        await AcceptAsync(agent, desk, conversation);

        // Silent for longer than the heartbeat timeout (a slow commit, a paused silo), then heard again
        // on the same stream: the stream never dropped, so no grace period is running any more.
        _clock.Advance(Routing.HeartbeatTimeout + TimeSpan.FromSeconds(1));
        await EventuallyAsync(() => agent.GetStatus(), s => !s.Connected);
        await agent.Heartbeat(desk.Reference);
        await SettleAsync();
        _clock.Advance(Routing.HeartbeatInterval); // the next watch
        await EventuallyAsync(() => agent.GetStatus(), s => s.Connected);

        // Beating on, it keeps its conversation well past what the grace period would have been.
        for (var elapsed = TimeSpan.Zero; elapsed < Routing.DisconnectGracePeriod + Routing.HeartbeatTimeout; elapsed += Routing.HeartbeatInterval)
        {
            await agent.Heartbeat(desk.Reference);
            _clock.Advance(Routing.HeartbeatInterval);
            await Task.Delay(20);
        }

        var status = await agent.GetStatus();
        Assert.True(status.Connected);
        Assert.Equal(1, status.Assignments);

        // A stream that really ended is not revived by a heartbeat that was still on its way.
        await agent.Disconnected(desk.Reference);
        await agent.Heartbeat(desk.Reference);
        _clock.Advance(TimeSpan.FromSeconds(1));
        await SettleAsync();
        Assert.False((await agent.GetStatus()).Connected);
    }

    [Fact]
    public async Task An_offer_its_queue_forgot_is_dropped_after_its_deadline_and_is_not_a_missed_offer()
    {
        var (agent, desk) = await ConnectAsync("ben");
        var conversation = await StartConversationAsync();

        // Twice in a row, an offer no queue knows about (its queue's call timed out, or its silo died
        // before storing it): nobody will ever withdraw it.
        for (var round = 1; round <= Routing.MissedOffersBeforeAway; round++)
        {
            var offer = Offer(conversation);
            Assert.True(await agent.Offer(offer));
            Assert.Equal(1, (await agent.GetStatus()).PendingOffers);

            await AdvanceWhileConnectedAsync(agent, desk, Routing.OfferTimeout + TimeSpan.FromSeconds(6));
            var freed = await EventuallyAsync(() => agent.GetStatus(), s => s.PendingOffers == 0);
            Assert.Equal(AgentPresence.Available, freed.Presence);
            await desk.WaitForAsync(e => e.WithdrawnOfferId == offer.OfferId && e.WithdrawReason == WithdrawReason.TimedOut);
        }
    }

    [Fact]
    public async Task Offers_missed_in_a_row_are_counted_across_activations()
    {
        var (agent, desk) = await ConnectAsync("cat");
        var conversation = await StartConversationAsync();

        // The queue's withdrawal is one-way: the desk hearing of it means the agent counted it
        // (the deactivation below waits for the count to be stored).
        var first = Offer(conversation);
        Assert.True(await agent.Offer(first));
        await agent.WithdrawOffer(first.OfferId, WithdrawReason.TimedOut);
        await desk.WaitForAsync(e => e.WithdrawnOfferId == first.OfferId);
        Assert.Equal(AgentPresence.Available, (await agent.GetStatus()).Presence);

        await DeactivateAsync(agent);

        // The count was stored: the second miss in a row sets the agent away, as it would have
        // without the deactivation in between.
        var second = Offer(conversation);
        Assert.True(await agent.Offer(second));
        await agent.WithdrawOffer(second.OfferId, WithdrawReason.TimedOut);
        await EventuallyAsync(() => agent.GetStatus(), s => s.Presence == AgentPresence.Away);
    }

    [Fact]
    public async Task An_accept_whose_assignment_failed_after_the_claim_is_completed_by_a_retry()
    {
        var (agent, conversation, offer) = await AcceptWhileTheConversationCannotBeStoredAsync("dan");
        var assignment = await agent.Accept(offer.OfferId);
        Assert.Equal(new Owner(OwnerKind.Agent, "dan"), assignment.Context.Owner);
        Assert.Equal(new Owner(OwnerKind.Agent, "dan"), (await conversation.GetSnapshot()).Owner);
        var status = await agent.GetStatus();
        Assert.Equal((1, 0), (status.Assignments, status.PendingOffers));
    }

    [Fact]
    public async Task An_accept_whose_assignment_failed_after_the_claim_goes_back_to_the_queue_when_the_agent_signs_out()
    {
        var (agent, conversation, _) = await AcceptWhileTheConversationCannotBeStoredAsync("eve");

        // The agent leaves without retrying. Before signing out it completes the half-done accept,
        // so that the return below puts the conversation back in its queue instead of leaving it
        // owned by a queue that no longer holds it.
        await agent.SetPresence(AgentPresence.Offline);
        var snapshot = await conversation.GetSnapshot();
        Assert.Equal(new Owner(OwnerKind.Queue, QueueKey), snapshot.Owner);
        Assert.Equal(
            [OwnershipReasons.NewConversation, OwnershipReasons.CustomerAskedForHuman, OwnershipReasons.OfferAccepted, OwnershipReasons.AgentSignedOut],
            snapshot.Ledger.Select(c => c.ReasonCode));
        Assert.Equal(1, (await Queue.GetStats()).Waiting);

        var (next, nextDesk) = await ConnectAsync("fay");
        var reoffer = await nextDesk.WaitForOfferAsync(conversation);
        Assert.Equal(QueuePriority.Returned, reoffer.Priority);
        await next.Accept(reoffer.OfferId);
        Assert.Equal(new Owner(OwnerKind.Agent, "fay"), (await conversation.GetSnapshot()).Owner);
    }

    [Fact]
    public async Task A_close_that_could_not_be_stored_leaves_the_customer_in_the_queue()
    {
        var conversation = await AskForHumanAsync();
        Assert.Equal(1, (await Queue.GetStats()).Waiting);

        _storage.FailWritesOf("conversation", conversation.GetGrainId());
        await Assert.ThrowsAnyAsync<Exception>(() => conversation.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "The customer left."));

        // Still open, so still waiting: an agent who signs in now must be offered it.
        Assert.Equal(ConversationStatus.Open, (await conversation.GetSnapshot()).Status);
        Assert.Equal(1, (await Queue.GetStats()).Waiting);

        _storage.Heal();
        await conversation.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "The customer left.");
        Assert.Equal(0, (await Queue.GetStats()).Waiting);
    }

    private IQueueGrain Queue => Grains.GetGrain<IQueueGrain>(QueueKey);

    private async Task<(IAgentGrain Agent, RecordingDesk Desk)> ConnectAsync(string agentId)
    {
        var desk = new RecordingDesk();
        desk.Reference = _cluster.Client.CreateObjectReference<IAgentObserver>(desk);
        var agent = Grains.GetGrain<IAgentGrain>(agentId);
        var profile = new AgentProfile(agentId, [new SkillLevel("billing", 4)], ["en"], 3, ImmutableDictionary<string, int>.Empty);
        await agent.Connect(profile, desk.Reference);
        return (agent, desk);
    }

    private async Task<IConversationGrain> StartConversationAsync()
    {
        var thread = Grains.GetGrain<IConversationThreadGrain>(GrainKeys.Thread(TestData.Channel, TestData.UniqueId("thread")));
        var started = await thread.GetOrStart(TestData.Customer(TestData.UniqueId("cust")), knownClosedId: null);
        return Grains.GetGrain<IConversationGrain>(started!.ConversationId);
    }

    private async Task<IConversationGrain> AskForHumanAsync()
    {
        var conversation = await StartConversationAsync();
        await conversation.ReceiveCustomerMessage(TestData.Message("m1", "Where is my refund?"), deliverTo: null);
        var handoff = await conversation.ReceiveCustomerMessage(TestData.Message("m2", "I want to speak to a human"), deliverTo: null);
        Assert.Equal(StatusKind.Queued, handoff.Entries[^1].Status?.Kind);
        Assert.Equal(new Owner(OwnerKind.Queue, QueueKey), (await conversation.GetSnapshot()).Owner);
        return conversation;
    }

    private static async Task AcceptAsync(IAgentGrain agent, RecordingDesk desk, IConversationGrain conversation)
    {
        var offer = await desk.WaitForOfferAsync(conversation);
        await agent.Accept(offer.OfferId);
    }

    /// <summary>
    /// An agent accepts while the conversation's storage is down: the claim succeeds, the
    /// conversation's assignment fails. Storage is healed before returning.
    /// </summary>
    private async Task<(IAgentGrain Agent, IConversationGrain Conversation, OfferView Offer)> AcceptWhileTheConversationCannotBeStoredAsync(string agentId)
    {
        var (agent, desk) = await ConnectAsync(agentId);
        var conversation = await AskForHumanAsync();
        var offer = await desk.WaitForOfferAsync(conversation);

        _storage.FailWritesOf("conversation", conversation.GetGrainId());
        await Assert.ThrowsAnyAsync<Exception>(() => agent.Accept(offer.OfferId));

        // Half done: the queue let go of the conversation, the conversation does not know the agent.
        Assert.Equal(0, (await Queue.GetStats()).Waiting);
        Assert.Equal(new Owner(OwnerKind.Queue, QueueKey), (await conversation.GetSnapshot()).Owner);
        _storage.Heal();
        return (agent, conversation, offer);
    }

    private OfferRequest Offer(IConversationGrain conversation) => new(
        Guid.NewGuid().ToString("N"), conversation.GetPrimaryKeyString(), TestData.Channel, QueueKey,
        Priority: 0, WaitingSince: _clock.GetUtcNow(), ExpiresAt: _clock.GetUtcNow() + Routing.OfferTimeout);

    private async Task DeactivateAsync(IAgentGrain agent)
    {
        var before = (await agent.GetStatus()).IdleSince;
        await agent.AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        await Eventually.ActivationGoneAsync(Grains, agent.GetGrainId());
        Assert.Equal(before, (await agent.GetStatus()).IdleSince); // stored too
    }

    /// <summary>Moves the clock while the desktop keeps sending heartbeats, so the agent stays connected.</summary>
    private async Task AdvanceWhileConnectedAsync(IAgentGrain agent, RecordingDesk desk, TimeSpan by)
    {
        var step = TimeSpan.FromSeconds(5);
        for (var moved = TimeSpan.Zero; moved < by; moved += step)
        {
            await agent.Heartbeat(desk.Reference);
            _clock.Advance(step);
            await Task.Delay(20);
        }

        await agent.Heartbeat(desk.Reference);
    }

    /// <summary>Timers and one-way calls run after the clock moves: give them their turn.</summary>
    private static Task SettleAsync() => Task.Delay(TimeSpan.FromMilliseconds(500));

    /// <summary>Polls until <paramref name="done"/> holds, bounded by a safety limit (never a timing assertion).</summary>
    private static Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done) => Eventually.ReadAsync(read, done);

    /// <summary>An agent desktop stand-in: records every event pushed to it.</summary>
    private sealed class RecordingDesk : IAgentObserver
    {
        private readonly ConcurrentQueue<AgentEvent> _events = new();

        public IAgentObserver Reference { get; set; } = null!;

        public Task OnEvent(string agentId, AgentEvent agentEvent)
        {
            _events.Enqueue(agentEvent);
            return Task.CompletedTask;
        }

        public async Task<OfferView> WaitForOfferAsync(IConversationGrain conversation) =>
            (await WaitForAsync(e => e.Offer?.Context.ConversationId == conversation.GetPrimaryKeyString())).Offer!;

        public async Task<AgentEvent> WaitForAsync(Func<AgentEvent, bool> match)
        {
            var deadline = DateTimeOffset.UtcNow + SafetyTimeout;
            while (true)
            {
                if (_events.FirstOrDefault(match) is { } found)
                {
                    return found;
                }

                Assert.True(DateTimeOffset.UtcNow < deadline, $"No matching event within {SafetyTimeout.TotalSeconds:0} s; got {_events.Count} events.");
                await Task.Delay(50);
            }
        }
    }
}
