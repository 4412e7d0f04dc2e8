using System.Collections.Immutable;
using ContactGrains.Contracts;
using ContactGrains.Grains.Conversations;
using ContactGrains.Grains.Diagnostics;
using ContactGrains.Grains.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ContactGrains.Grains.Agents;

/// <summary>
/// One human agent: profile, presence, capacity, the offers it holds and the conversations it owns.
/// It pushes everything the desktop shows to the desktop's stream (an observer), announces its
/// availability to the queues of its skills and languages, and, if its stream goes silent for
/// longer than the grace period, goes offline and returns its conversations to their queues.
/// </summary>
public sealed partial class AgentGrain(
    [PersistentState("agent", StorageNames.Default)] IPersistentState<AgentState> state,
    IOptions<RoutingOptions> routingOptions,
    TimeProvider time,
    ContactGrainsMetrics metrics,
    ILogger<AgentGrain> logger) : Grain, IAgentGrain, IRemindable
{
    /// <summary>Durable: brings back an agent whose silo died, so its conversations cannot be stranded.</summary>
    public const string WatchReminder = "agent-watch";

    /// <summary>How long past its deadline a held offer may wait for its queue's withdrawal before the agent drops it itself.</summary>
    private static readonly TimeSpan ForgottenOfferMargin = TimeSpan.FromSeconds(5);

    // Offers this activation holds (reserved capacity), by offer id. The queues own them.
    private readonly Dictionary<string, HeldOffer> _offers = new(StringComparer.Ordinal);

    // Numbers pushes so a desktop can tell a lost or reordered one; a new activation is a new epoch.
    private readonly Guid _epoch = Guid.NewGuid();
    private long _sequence;
    private DateTimeOffset _lastHeartbeat;

    // The grace period was started by silence, not by the stream ending: a heartbeat heard after it
    // proves the stream alive after all (a slow commit or a paused silo delayed the beats).
    private bool _silenceAssumed;
    private DateTimeOffset _lastAnnounced = DateTimeOffset.MinValue;
    private HashSet<string> _announcedQueues = new(StringComparer.Ordinal);
    private IGrainTimer? _watch;

    private RoutingOptions Options => routingOptions.Value;

    private AgentState State => state.State;

    private string? _id;

    // Decoded once (Orleans decodes the key from UTF-8 on every GetPrimaryKeyString).
    private string Id => _id ??= this.GetPrimaryKeyString();

    private bool Connected => State.Observer is not null && State.DisconnectedAt is null;

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.AgentGone(Id);
        return base.OnDeactivateAsync(reason, cancellationToken);
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Give a stream that was alive before this activation a full timeout to show it still is.
        _lastHeartbeat = time.GetUtcNow();
        if (State.Presence != AgentPresence.Offline || State.Assignments.Count > 0)
        {
            StartWatching();
        }

        return base.OnActivateAsync(cancellationToken);
    }

    public async Task<AgentSync> Connect(AgentProfile? profile, IAgentObserver observer)
    {
        if (profile is null && State.Profile is null)
        {
            throw new RequestRejectedException(RejectionCode.FailedPrecondition,
                $"Agent '{Id}' has never signed in: the first Connect needs a profile (display name, skills, languages).");
        }

        var now = time.GetUtcNow();
        var previous = State.Observer;
        await state.CommitAsync(this, logger, async () =>
        {
            if (profile is not null)
            {
                State.Profile = profile;
            }

            State.Observer = observer;
            State.DisconnectedAt = null;
            if (State.Presence == AgentPresence.Offline)
            {
                State.Presence = AgentPresence.Available;
                State.MissedOffers = 0;
                State.IdleSince = now;
            }

            await ReconcileAssignmentsAsync();
        });

        // The silence is measured from now, not from before the commit: a slow database is not a silent desktop.
        _lastHeartbeat = time.GetUtcNow();
        _silenceAssumed = false;
        if (previous is not null && !previous.Equals(observer))
        {
            // One desktop stream per agent: the older one is told to end.
            _ = previous.OnEvent(Id, new AgentEvent(_epoch, 0, StreamReplaced: true));
            LogStreamReplaced(Id);
        }

        await this.RegisterOrUpdateReminder(WatchReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        StartWatching();
        Announce(force: true);
        LogConnected(Id, State.Presence, State.Assignments.Count);
        return await SyncAsync();
    }

    public async Task<AgentSync> Resync(IAgentObserver observer)
    {
        if (!observer.Equals(State.Observer))
        {
            throw new RequestRejectedException(RejectionCode.FailedPrecondition,
                $"This stream of agent '{Id}' was replaced by a newer one.");
        }

        return await SyncAsync();
    }

    public Task Heartbeat(IAgentObserver observer)
    {
        if (observer.Equals(State.Observer))
        {
            _lastHeartbeat = time.GetUtcNow();
        }

        return Task.CompletedTask;
    }

    public async Task Disconnected(IAgentObserver observer)
    {
        if (observer.Equals(State.Observer))
        {
            _silenceAssumed = false; // ended for real: no late heartbeat brings it back
            if (State.DisconnectedAt is null)
            {
                await StartGraceAsync(time.GetUtcNow());
            }
        }
    }

    public async Task<AgentStatus> SetPresence(AgentPresence presence, CancellationToken cancellationToken)
    {
        RequireProfile();
        var now = time.GetUtcNow();
        switch (presence)
        {
            case AgentPresence.Offline:
                await GoOfflineAsync(OwnershipReasons.AgentSignedOut, "The agent signed out.");
                break;
            case AgentPresence.Away:
                await state.CommitAsync(this, logger, () => State.Presence = AgentPresence.Away);
                ReleaseOffers();
                break;
            case AgentPresence.Available:
                if (State.Presence != AgentPresence.Available)
                {
                    await state.CommitAsync(this, logger, () =>
                    {
                        State.Presence = AgentPresence.Available;
                        State.MissedOffers = 0;
                        State.IdleSince = now;
                    });
                    await this.RegisterOrUpdateReminder(WatchReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
                    StartWatching();
                }

                break;
            default:
                throw new RequestRejectedException(RejectionCode.InvalidArgument, $"Unknown presence {presence}.");
        }

        Announce(force: true);
        var status = Status();
        Push(new AgentEvent(_epoch, 0, Status: status));
        return status;
    }

    public async Task<AssignmentView> Accept(string offerId, CancellationToken cancellationToken)
    {
        RequireProfile();
        if (!_offers.TryGetValue(offerId, out var held))
        {
            throw new RequestRejectedException(RejectionCode.FailedPrecondition,
                $"Offer '{offerId}' is not pending for agent '{Id}': it expired, was withdrawn, or was never made.");
        }

        // Write-ahead: the agent records the conversation before claiming it, so a conversation can
        // never end up claimed (out of its queue) or owned by this agent without the agent knowing.
        var request = held.Request;
        var now = time.GetUtcNow();
        await state.CommitAsync(this, logger, () =>
        {
            State.Assignments[request.ConversationId] = new AssignmentRecord(request.ConversationId, request.Channel, request.QueueKey, now, offerId);
            State.MissedOffers = 0;
            State.IdleSince = now;
        });

        if (!await Queue(request.QueueKey).Claim(offerId, Id))
        {
            _offers.Remove(offerId);
            await ForgetAssignmentAsync(request.ConversationId);
            throw new RequestRejectedException(RejectionCode.FailedPrecondition,
                $"Offer '{offerId}' expired before it was accepted; the conversation went to another agent.");
        }

        HandoffContext context;
        try
        {
            context = await Conversation(request.ConversationId).AssignAgent(Id, State.Profile!.DisplayName);
        }
        catch (RequestRejectedException)
        {
            // The customer left meanwhile: nothing to take.
            _offers.Remove(offerId);
            await ForgetAssignmentAsync(request.ConversationId);
            throw;
        }

        // Any other failure leaves the offer held and the record written: a retried accept (the
        // claim is idempotent) or the next reconciliation (on connect, before going offline)
        // completes it.
        _offers.Remove(offerId);
        Announce(force: true);
        var assignment = new AssignmentView(request.ConversationId, now, context);
        Push(new AgentEvent(_epoch, 0, Assigned: assignment));
        LogAccepted(Id, request.ConversationId, request.QueueKey);
        return assignment;
    }

    public async Task Decline(string offerId, CancellationToken cancellationToken)
    {
        RequireProfile();
        if (!_offers.TryGetValue(offerId, out var held))
        {
            throw new RequestRejectedException(RejectionCode.FailedPrecondition,
                $"Offer '{offerId}' is not pending for agent '{Id}': it expired, was withdrawn, or was never made.");
        }

        if (State.MissedOffers != 0)
        {
            // An answer ends a run of missed offers.
            await state.CommitAsync(this, logger, () => State.MissedOffers = 0);
        }

        if (_offers.Remove(offerId))
        {
            _ = Queue(held.Request.QueueKey).Decline(offerId, Id, passed: true);
            Announce(force: true);
            LogDeclined(Id, held.Request.ConversationId);
        }
    }

    public Task<TimelineEntry> SendMessage(string conversationId, string messageId, string text, string? draftId, CancellationToken cancellationToken) =>
        Conversation(RequireAssignment(conversationId).ConversationId).PostAgentMessage(Id, messageId, text, draftId);

    public Task DiscardDraft(string conversationId, string draftId, CancellationToken cancellationToken) =>
        Conversation(RequireAssignment(conversationId).ConversationId).DiscardDraft(Id, draftId);

    public Task<TimelinePage> GetTranscript(string conversationId, long afterSequence, int maxEntries, CancellationToken cancellationToken)
    {
        RequireProfile();
        var channel = State.Assignments.TryGetValue(conversationId, out var record) ? record.Channel
            : _offers.Values.FirstOrDefault(o => o.Request.ConversationId == conversationId)?.Request.Channel
            ?? throw new RequestRejectedException(RejectionCode.PermissionDenied,
                $"Conversation '{conversationId}' is neither assigned nor offered to agent '{Id}'.");
        return Conversation(conversationId).GetTimeline(channel, afterSequence, maxEntries);
    }

    public async Task Transfer(string conversationId, TransferTarget target, string note, CancellationToken cancellationToken)
    {
        RequireAssignment(conversationId);
        if (target.AgentId is { } named)
        {
            if (named == Id)
            {
                throw new RequestRejectedException(RejectionCode.InvalidArgument, "An agent cannot transfer a conversation to itself.");
            }

            var other = await GrainFactory.Get<IAgentGrain>(named).GetStatus();
            if (other.Presence != AgentPresence.Available || !other.Connected)
            {
                throw new RequestRejectedException(RejectionCode.FailedPrecondition,
                    $"Agent '{named}' is {(other.DisplayName is null ? "unknown" : other.Connected ? other.Presence.ToString().ToLowerInvariant() : "not connected")}: transfer to a queue instead, or try again later.");
            }
        }

        await Conversation(conversationId).Transfer(Id, target, note);
        await FinishAssignmentAsync(conversationId);
    }

    public async Task Resolve(string conversationId, string wrapUpCode, string note, CancellationToken cancellationToken)
    {
        RequireAssignment(conversationId);
        await Conversation(conversationId).Resolve(Id, wrapUpCode, note);
        await FinishAssignmentAsync(conversationId);
        Push(new AgentEvent(_epoch, 0, ConversationId: conversationId, Notice: ConversationNoticeKind.Resolved, Detail: wrapUpCode));
    }

    public async Task HandBack(string conversationId, string note, CancellationToken cancellationToken)
    {
        RequireAssignment(conversationId);
        await Conversation(conversationId).HandBack(Id, note);
        await FinishAssignmentAsync(conversationId);
    }

    public async Task<AssignmentView> TakeOver(string conversationId, string reason, CancellationToken cancellationToken)
    {
        if (State.Profile is null)
        {
            throw new RequestRejectedException(RejectionCode.FailedPrecondition,
                $"Supervisor '{Id}' has no agent desk yet: sign in once with the agent API (Connect), so a conversation taken over has somewhere to go.");
        }

        if (State.Assignments.TryGetValue(conversationId, out var existing))
        {
            return new AssignmentView(conversationId, existing.AssignedAt, await Conversation(conversationId).TakeOver(Id, State.Profile.DisplayName, reason));
        }

        var before = await Conversation(conversationId).GetHandoffContext();
        if (before.Status != ConversationStatus.Open)
        {
            throw new RequestRejectedException(before.Status == ConversationStatus.None ? RejectionCode.NotFound : RejectionCode.FailedPrecondition,
                before.Status == ConversationStatus.None ? $"Conversation '{conversationId}' was not found." : $"Conversation '{conversationId}' is closed.");
        }

        // Write-ahead, as for an accepted offer: the conversation is never owned by an agent that does not know it.
        var now = time.GetUtcNow();
        await state.CommitAsync(this, logger, () =>
        {
            State.Assignments[conversationId] = new AssignmentRecord(conversationId, before.Channel, before.QueueKey, now);
            State.IdleSince = now;
        });

        HandoffContext context;
        try
        {
            context = await Conversation(conversationId).TakeOver(Id, State.Profile.DisplayName, reason);
        }
        catch (RequestRejectedException)
        {
            await ForgetAssignmentAsync(conversationId);
            throw;
        }

        DropOffersFor(conversationId);
        Announce(force: true);
        var assignment = new AssignmentView(conversationId, now, context);
        Push(new AgentEvent(_epoch, 0, Assigned: assignment));
        return assignment;
    }

    public async Task<bool> Offer(OfferRequest offer)
    {
        // Interleaves with other calls: everything up to the first await runs as one step, so the
        // capacity check and the reservation cannot be split by another offer.
        if (_offers.ContainsKey(offer.OfferId))
        {
            return true;
        }

        if (State.Profile is not { } profile || State.Presence != AgentPresence.Available || !Connected
            || State.Assignments.ContainsKey(offer.ConversationId)
            || UsedOn(offer.Channel) >= profile.CapacityFor(offer.Channel))
        {
            return false;
        }

        var held = new HeldOffer(offer);
        _offers[offer.OfferId] = held;
        HandoffContext context;
        try
        {
            context = await Conversation(offer.ConversationId).GetHandoffContext();
        }
        catch (Exception ex)
        {
            LogContextFailed(ex, Id, offer.ConversationId);
            _offers.Remove(offer.OfferId);
            return false;
        }

        if (!_offers.ContainsKey(offer.OfferId))
        {
            return false; // withdrawn while the context was read
        }

        held.View = new OfferView(offer.OfferId, offer.QueueKey, offer.Priority, offer.WaitingSince, offer.ExpiresAt, context);
        Push(new AgentEvent(_epoch, 0, Offer: held.View));
        Announce(force: true);
        return true;
    }

    public async Task WithdrawOffer(string offerId, WithdrawReason reason)
    {
        if (!_offers.Remove(offerId))
        {
            return;
        }

        Push(new AgentEvent(_epoch, 0, WithdrawnOfferId: offerId, WithdrawReason: reason));
        if (reason == WithdrawReason.TimedOut && State.Presence == AgentPresence.Available)
        {
            // Offers to an agent who is not there only make customers wait.
            var away = State.MissedOffers + 1 >= Options.MissedOffersBeforeAway;
            await state.CommitAsync(this, logger, () =>
            {
                State.MissedOffers++;
                if (away)
                {
                    State.Presence = AgentPresence.Away;
                }
            });

            if (away)
            {
                ReleaseOffers();
                LogSetAway(Id, State.MissedOffers);
                Push(new AgentEvent(_epoch, 0, Status: Status(), Detail: $"{State.MissedOffers} offers in a row were not answered in time."));
            }
        }

        Announce(force: true);
    }

    public Task OnConversationEntries(string conversationId, ImmutableArray<TimelineEntry> entries, CopilotDraft? draft)
    {
        if (State.Assignments.ContainsKey(conversationId))
        {
            Push(new AgentEvent(_epoch, 0, ConversationId: conversationId, Entries: entries, Draft: draft));
        }

        return Task.CompletedTask;
    }

    public async Task OnConversationEnded(string conversationId, ConversationNoticeKind kind, string detail)
    {
        if (State.Assignments.ContainsKey(conversationId))
        {
            await FinishAssignmentAsync(conversationId);
            Push(new AgentEvent(_epoch, 0, ConversationId: conversationId, Notice: kind, Detail: detail));
        }
    }

    public Task<AgentStatus> GetStatus(CancellationToken cancellationToken) => Task.FromResult(Status());

    public Task<AgentProfile?> GetProfile(CancellationToken cancellationToken) => Task.FromResult(State.Profile);

    public async Task SetProfile(AgentProfile profile, CancellationToken cancellationToken)
    {
        await state.CommitAsync(this, logger, () =>
        {
            State.Profile = profile;
            return Task.CompletedTask;
        });

        // Queues of the new skills and languages learn the agent; those it no longer has forget it.
        Announce(force: true);
        LogProfileSet(Id, profile.Skills.Length, profile.Languages.Length);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != WatchReminder)
        {
            return;
        }

        await WatchAsync(CancellationToken.None);
        if (State.Presence == AgentPresence.Offline && State.Assignments.Count == 0 && await this.GetReminder(WatchReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    /// <summary>
    /// Runs every few seconds while the agent is signed in: notices a silent stream, ends the grace
    /// period, and re-announces the agent to its queues.
    /// </summary>
    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_silenceAssumed && State.DisconnectedAt is { } assumedAt && _lastHeartbeat >= assumedAt)
        {
            // Heard again from the same stream: it never dropped.
            _silenceAssumed = false;
            await state.CommitAsync(this, logger, () => State.DisconnectedAt = null);
            Announce(force: true);
            LogHeardAgain(Id);
        }

        if (Connected && now - _lastHeartbeat > Options.HeartbeatTimeout)
        {
            // The stream's silo may have died without telling: count the silence as the drop.
            await StartGraceAsync(now);
            _silenceAssumed = true;
        }

        ForgetOffersNobodyExpires(now);

        if (State.DisconnectedAt is { } droppedAt && now - droppedAt >= Options.DisconnectGracePeriod)
        {
            await GoOfflineAsync(OwnershipReasons.AgentDisconnected,
                $"The agent's connection dropped and did not come back within {Options.DisconnectGracePeriod.TotalSeconds:0} s.");
        }
        else if (State.Presence == AgentPresence.Offline && State.Assignments.Count > 0)
        {
            // Returning conversations failed earlier (a silo or the database was down): retry.
            await ReturnAssignmentsAsync(OwnershipReasons.AgentOffline, "The agent is offline.");
        }

        Announce(force: false);
        if (State.Presence == AgentPresence.Offline && State.Assignments.Count == 0)
        {
            _watch?.Dispose();
            _watch = null;
        }
    }

    /// <summary>
    /// Drops held offers well past their deadline: normally their queue withdraws them, but a queue
    /// that lost track (its call here timed out, its silo died before it stored the offer, the
    /// withdrawal was lost) never will, and the held slot would stay taken. Not a missed offer.
    /// </summary>
    private void ForgetOffersNobodyExpires(DateTimeOffset now)
    {
        var stale = _offers.Where(o => now > o.Value.Request.ExpiresAt + ForgottenOfferMargin && !State.Assignments.ContainsKey(o.Value.Request.ConversationId))
            .Select(o => o.Key).ToList();
        foreach (var offerId in stale)
        {
            _offers.Remove(offerId);
            Push(new AgentEvent(_epoch, 0, WithdrawnOfferId: offerId, WithdrawReason: WithdrawReason.TimedOut));
        }

        if (stale.Count > 0)
        {
            Announce(force: true);
        }
    }

    private async Task StartGraceAsync(DateTimeOffset droppedAt)
    {
        await state.CommitAsync(this, logger, () => State.DisconnectedAt = droppedAt);
        Announce(force: true);
        LogDisconnected(Id, Options.DisconnectGracePeriod.TotalSeconds);
    }

    /// <summary>Offline: offers go to other agents, conversations back to the front of their queues.</summary>
    private async Task GoOfflineAsync(string reasonCode, string reason)
    {
        await state.CommitAsync(this, logger, () =>
        {
            State.Presence = AgentPresence.Offline;
            if (State.DisconnectedAt is not null)
            {
                State.Observer = null;
                State.DisconnectedAt = null;
            }
        });

        ReleaseOffers();
        await TryReconcileAssignmentsAsync();
        await ReturnAssignmentsAsync(reasonCode, reason);
        Announce(force: true);
        Push(new AgentEvent(_epoch, 0, Status: Status(), Detail: reason));
        LogOffline(Id, reasonCode);
    }

    private async Task ReturnAssignmentsAsync(string reasonCode, string reason)
    {
        var returned = new List<string>();
        foreach (var conversationId in State.Assignments.Keys.ToList())
        {
            try
            {
                await Conversation(conversationId).ReturnToQueue(Id, reasonCode, reason);
                returned.Add(conversationId);
            }
            catch (Exception ex)
            {
                // Kept, so the next watch (or the durable reminder) tries again: never stranded.
                LogReturnFailed(ex, Id, conversationId);
            }
        }

        // If this write fails, the records come back with the reload and the next watch returns them
        // again: a no-op for the conversations, which no longer name this agent.
        await state.CommitAsync(this, logger, () => returned.ForEach(id => State.Assignments.Remove(id)));
        foreach (var conversationId in returned)
        {
            DropOffersFor(conversationId);
            Push(new AgentEvent(_epoch, 0, ConversationId: conversationId, Notice: ConversationNoticeKind.ReturnedToQueue, Detail: reason));
        }
    }

    /// <summary>Gives every held offer back to its queue, which offers it to the next agent.</summary>
    private void ReleaseOffers()
    {
        foreach (var (offerId, held) in _offers)
        {
            _ = Queue(held.Request.QueueKey).Decline(offerId, Id, passed: false);
            Push(new AgentEvent(_epoch, 0, WithdrawnOfferId: offerId, WithdrawReason: WithdrawReason.AgentUnavailable));
        }

        _offers.Clear();
    }

    private async Task FinishAssignmentAsync(string conversationId)
    {
        DropOffersFor(conversationId);
        if (State.Assignments.ContainsKey(conversationId))
        {
            await state.CommitAsync(this, logger, () =>
            {
                State.Assignments.Remove(conversationId);
                State.IdleSince = time.GetUtcNow();
            });
            Announce(force: true);
        }
    }

    /// <summary>
    /// Makes the recorded assignments match the conversations: finishes an accept that failed after
    /// its claim (the conversation still waits for its agent) and drops conversations that ended or
    /// moved on while the agent was away from its stream.
    /// </summary>
    private async Task ReconcileAssignmentsAsync()
    {
        var me = new Owner(OwnerKind.Agent, Id);
        foreach (var conversationId in State.Assignments.Keys.ToList())
        {
            var context = await Conversation(conversationId).GetHandoffContext();
            if (context.Owner == me)
            {
                continue;
            }

            // An accept that failed after its claim: the conversation still waits for this agent, in
            // the queue it was claimed from. Only if this agent's claim really succeeded (idempotent
            // on the queue) and is still current: a stale record of a conversation the agent
            // transferred away or returned (its write failed) must not take it back.
            var record = State.Assignments[conversationId];
            if (context.Owner == new Owner(OwnerKind.Queue, record.QueueKey) && context.Status == ConversationStatus.Open
                && record.OfferId is { } offerId && await Queue(record.QueueKey).Claim(offerId, Id))
            {
                try
                {
                    await Conversation(conversationId).AssignAgent(Id, State.Profile!.DisplayName);
                    DropOffersFor(conversationId);
                    continue;
                }
                catch (RequestRejectedException)
                {
                    // Closed meanwhile.
                }
            }

            State.Assignments.Remove(conversationId);
            DropOffersFor(conversationId);
        }
    }

    /// <summary>Reconciles before going offline, so a half-done accept is returned to its queue too; failures leave it for the next try.</summary>
    private async Task TryReconcileAssignmentsAsync()
    {
        try
        {
            await ReconcileAssignmentsAsync();
        }
        catch (Exception ex)
        {
            LogReconcileFailed(ex, Id);
        }
    }

    // An offer whose conversation was assigned (or given up) is no longer the agent's to hold.
    private void DropOffersFor(string conversationId)
    {
        foreach (var offerId in _offers.Where(o => o.Value.Request.ConversationId == conversationId).Select(o => o.Key).ToList())
        {
            _offers.Remove(offerId);
        }
    }

    private async Task ForgetAssignmentAsync(string conversationId)
    {
        try
        {
            await state.CommitAsync(this, logger, () => State.Assignments.Remove(conversationId));
        }
        catch (Exception ex)
        {
            // The record stays stored; the next reconciliation drops it (its claim was not this agent's).
            LogForgetFailed(ex, Id, conversationId);
        }

        Announce(force: true);
    }

    private async Task<AgentSync> SyncAsync()
    {
        var assignments = ImmutableArray.CreateBuilder<AssignmentView>(State.Assignments.Count);
        foreach (var record in State.Assignments.Values.OrderBy(a => a.AssignedAt))
        {
            assignments.Add(new AssignmentView(record.ConversationId, record.AssignedAt, await Conversation(record.ConversationId).GetHandoffContext()));
        }

        var offers = _offers.Values.Select(o => o.View).OfType<OfferView>().OrderBy(o => o.ExpiresAt).ToImmutableArray();
        return new AgentSync(_epoch, _sequence, Status(), offers, assignments.MoveToImmutable());
    }

    /// <summary>
    /// Tells the queues of the agent's skills and languages what it can take now, on every change
    /// and every announce interval (queues forget agents they have not heard from).
    /// </summary>
    private void Announce(bool force)
    {
        metrics.AgentPublished(Id, State.Presence);
        var now = time.GetUtcNow();
        if (State.Profile is not { } profile || (!force && now - _lastAnnounced < Options.AnnounceInterval))
        {
            return;
        }

        _lastAnnounced = now;
        var used = State.Assignments.Values.Select(a => a.Channel).Concat(OutstandingOffers().Select(o => o.Request.Channel))
            .GroupBy(channel => channel).ToImmutableDictionary(g => g.Key, g => g.Count());
        var queues = new HashSet<string>(StringComparer.Ordinal);
        foreach (var skill in profile.Skills)
        {
            foreach (var language in profile.Languages)
            {
                var key = GrainKeys.Queue(skill.Skill, language);
                queues.Add(key);
                _ = Queue(key).UpdateAgent(new RosterEntry(
                    Id, profile.DisplayName, skill.Proficiency, State.Presence, profile.DefaultCapacity, profile.CapacityByChannel,
                    used, State.IdleSince, now.UtcTicks, now, Connected));
            }
        }

        // Queues of skills or languages the profile no longer has must forget the agent.
        foreach (var gone in _announcedQueues.Except(queues))
        {
            _ = Queue(gone).UpdateAgent(new RosterEntry(
                Id, profile.DisplayName, 0, AgentPresence.Offline, 0, ImmutableDictionary<string, int>.Empty,
                ImmutableDictionary<string, int>.Empty, State.IdleSince, now.UtcTicks, now, Connected: false));
        }

        _announcedQueues = queues;
    }

    /// <summary>Sends an event to the desktop's stream, numbered. While disconnected, events are not sent: the reconnect's sync carries the state.</summary>
    private void Push(AgentEvent agentEvent)
    {
        if (Connected)
        {
            _ = State.Observer!.OnEvent(Id, agentEvent with { Epoch = _epoch, Sequence = ++_sequence });
        }
    }

    private void StartWatching()
    {
        var period = TimeSpan.FromTicks(Math.Clamp(
            Math.Min(Math.Min(Options.DisconnectGracePeriod.Ticks, Options.HeartbeatTimeout.Ticks), Options.AnnounceInterval.Ticks) / 5,
            TimeSpan.FromMilliseconds(200).Ticks,
            TimeSpan.FromSeconds(2).Ticks));
        _watch ??= this.RegisterGrainTimer(WatchAsync, new GrainTimerCreationOptions(period, period) { KeepAlive = true });
    }

    private int UsedOn(string channel) =>
        State.Assignments.Values.Count(a => a.Channel == channel) + OutstandingOffers().Count(o => o.Request.Channel == channel);

    // An offer being accepted is already counted as an assignment.
    private IEnumerable<HeldOffer> OutstandingOffers() => _offers.Values.Where(o => !State.Assignments.ContainsKey(o.Request.ConversationId));

    private AgentStatus Status() => new(
        Id, State.Profile?.DisplayName, State.Presence, Connected, State.Assignments.Count, OutstandingOffers().Count(), State.IdleSince);

    private void RequireProfile()
    {
        if (State.Profile is null)
        {
            throw new RequestRejectedException(RejectionCode.FailedPrecondition, $"Agent '{Id}' has never signed in: open the Connect stream with a profile first.");
        }
    }

    private AssignmentRecord RequireAssignment(string conversationId)
    {
        RequireProfile();
        return State.Assignments.TryGetValue(conversationId, out var record)
            ? record
            : throw new RequestRejectedException(RejectionCode.PermissionDenied, $"Conversation '{conversationId}' is not assigned to agent '{Id}'.");
    }

    private IConversationGrain Conversation(string conversationId) => GrainFactory.Get<IConversationGrain>(conversationId);

    private IQueueGrain Queue(string key) => GrainFactory.Get<IQueueGrain>(key);

    private sealed class HeldOffer(OfferRequest request)
    {
        public OfferRequest Request { get; } = request;

        /// <summary>What the desktop was shown; null while the context is being read.</summary>
        public OfferView? View { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} connected ({Presence}, {Assignments} conversations)")]
    private partial void LogConnected(string agentId, AgentPresence presence, int assignments);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId}: a newer stream replaced the previous one")]
    private partial void LogStreamReplaced(string agentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId}: its stream was silent, then heard again; the grace period is over")]
    private partial void LogHeardAgain(string agentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} disconnected; grace period {GraceSeconds} s")]
    private partial void LogDisconnected(string agentId, double graceSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} is offline ({ReasonCode})")]
    private partial void LogOffline(string agentId, string reasonCode);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Agent {AgentId} accepted {ConversationId} from {Queue}")]
    private partial void LogAccepted(string agentId, string conversationId, string queue);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Agent {AgentId} declined {ConversationId}")]
    private partial void LogDeclined(string agentId, string conversationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} set away after {MissedOffers} missed offers in a row")]
    private partial void LogSetAway(string agentId, int missedOffers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: could not read {ConversationId} for an offer; refusing it")]
    private partial void LogContextFailed(Exception exception, string agentId, string conversationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: reconciling its conversations failed; will retry")]
    private partial void LogReconcileFailed(Exception exception, string agentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: could not store that {ConversationId} is not assigned after all")]
    private partial void LogForgetFailed(Exception exception, string agentId, string conversationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId}: directory entry set ({Skills} skills, {Languages} languages)")]
    private partial void LogProfileSet(string agentId, int skills, int languages);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: returning {ConversationId} to its queue failed; will retry")]
    private partial void LogReturnFailed(Exception exception, string agentId, string conversationId);
}
