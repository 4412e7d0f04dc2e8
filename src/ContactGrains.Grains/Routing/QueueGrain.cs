using System.Collections.Immutable;
using ContactGrains.Contracts;
using ContactGrains.Grains.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Storage;

namespace ContactGrains.Grains.Routing;

/// <summary>
/// One (skill, language) queue: its waiting conversations (persisted, in <see cref="WaitingPartitions"/>), the agents who serve it (a
/// roster they keep fresh by announcing themselves), and its live statistics. It offers each
/// waiting conversation to one agent at a time, in priority order, and widens whom it asks as the
/// wait grows.
/// </summary>
/// <remarks>
/// <para>
/// A queue never waits on a conversation, and on an agent only through <see cref="IAgentGrain.Offer"/>,
/// which interleaves and never calls back: conversations and agents can call a queue without any
/// risk of a waiting cycle.
/// </para>
/// <para>
/// Reentrant, because it is the one grain every handoff of its skill and language goes through:
/// while one call waits for its write or a routing pass waits for agents, the next calls run, and
/// the changes they make to a partition whose write is in flight are stored together by its next
/// write (<see cref="WaitingPartitions.CommitAsync"/>). Non-reentrant, a queue completed one change
/// per database commit. What keeps it correct: every method reads and changes the waiting list
/// without awaiting in between (the activation still runs one piece at a time), and a caller hears
/// of its change only once it is stored; one routing pass runs at a time, and a pass marks each
/// offer on its conversation before sending it, so no other pass offers that conversation and an
/// agent's claim that overtakes the pass finds it; after awaiting, a pass finds its conversations
/// again by id (they may have been claimed, declined, withdrawn or reloaded meanwhile).
/// </para>
/// </remarks>
[Reentrant]
public sealed partial class QueueGrain(
    [PersistentState(WaitingPartitions.FirstStateName, StorageNames.Default)] IPersistentState<QueueState> state,
    [PersistentState("queue-statistics", StorageNames.Default)] IPersistentState<QueueStatisticsState> statisticsState,
    IPersistentStateFactory states,
    IGrainContext grainContext,
    RoutingCatalog catalog,
    IOptions<RoutingOptions> routingOptions,
    TimeProvider time,
    ContactGrainsMetrics metrics,
    ILogger<QueueGrain> logger) : Grain, IQueueGrain, IRemindable
{
    /// <summary>Durable: wakes a queue whose silo died while conversations were waiting in it.</summary>
    public const string WatchReminder = "queue-watch";

    // Per partition: a retried claim comes within seconds, after a handful of others at most.
    private const int RecentClaimsKept = 16;
    private static readonly TimeSpan TickPeriod = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan OtherQueuesCacheAge = TimeSpan.FromSeconds(2);

    private readonly WaitingPartitions _waiting = new(state, states, grainContext);
    private readonly Dictionary<string, RosterEntry> _roster = new(StringComparer.Ordinal);
    // Replaced at activation by one over the stored state (read after construction).
    private QueueStatistics _statistics = new();
    private IGrainTimer? _statisticsSaver;
    private ImmutableArray<RosterEntry> _otherQueuesRoster = [];
    private DateTimeOffset _otherQueuesReadAt = DateTimeOffset.MinValue;
    private IGrainTimer? _tick;
    private bool _routeRequested;
    private bool _routing;
    private bool _routeAgain;

    // The watch reminder's registration, shared by the enqueues that interleave with it; null when
    // not registered by this activation (or when it failed: the next enqueue tries again).
    private Task? _watch;

    private RoutingOptions Options => routingOptions.Value;

    private string? _key;

    // Decoded once (Orleans decodes the key from UTF-8 on every GetPrimaryKeyString).
    private string Key => _key ??= this.GetPrimaryKeyString();

    /// <summary>How often changed statistics are stored: a crash loses at most this much of the history.</summary>
    public static readonly TimeSpan StatisticsSaveInterval = TimeSpan.FromSeconds(30);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _statistics = new QueueStatistics(statisticsState.State, Options.ServiceLevelThreshold);
        _statisticsSaver = this.RegisterGrainTimer(SaveStatisticsAsync, new GrainTimerCreationOptions(StatisticsSaveInterval, StatisticsSaveInterval) { Interleave = true });
        if (_waiting.WaitingCount > 0)
        {
            // Reactivated with conversations waiting (its silo died, or it was idle-collected):
            // offers made by the previous activation expire on schedule and routing resumes.
            StartTicking();
            RequestRoute();
        }

        await base.OnActivateAsync(cancellationToken);
    }

    public async Task<QueuePlacement> Enqueue(QueueRequest request)
    {
        var now = time.GetUtcNow();
        WaitingConversation waiting = null!;
        var partition = _waiting.Find(w => w.ConversationId == request.ConversationId)?.Partition ?? _waiting.For(request.ConversationId);
        await _waiting.CommitAsync(partition, this, logger, () =>
        {
            var known = partition.State.Waiting.Find(w => w.ConversationId == request.ConversationId);
            if (known is null)
            {
                waiting = new WaitingConversation
                {
                    ConversationId = request.ConversationId,
                    Channel = request.Channel,
                    Priority = request.Priority,
                    WaitingSince = request.WaitingSince,
                    EnqueuedAt = now,
                    ReasonCode = request.ReasonCode,
                    PreferredAgentId = request.PreferredAgentId,
                };
                if (request.ExcludedAgentId is { } excluded)
                {
                    // The agent who transferred it away is not offered it back.
                    waiting.PassedBy[excluded] = now;
                }

                partition.State.Waiting.Add(waiting);
            }
            else
            {
                // A retry of the same handoff: keep its place, never lower it.
                waiting = known;
                waiting.Priority = Math.Max(waiting.Priority, request.Priority);
                waiting.WaitingSince = waiting.WaitingSince < request.WaitingSince ? waiting.WaitingSince : request.WaitingSince;
            }
        });

        LogEnqueued(Key, request.ConversationId, waiting.Priority, request.ReasonCode);
        await WatchAsync();

        StartTicking();
        RequestRoute();
        var position = PositionOf(waiting);
        (waiting.ToldPosition, waiting.ToldAt) = (position, now);
        return new QueuePlacement(Key, position, _statistics.EstimatedWait(position, FreeSlots(request.Channel), now), SignedIn());
    }

    public async Task Remove(string conversationId, QueueExit exit)
    {
        if (_waiting.Find(w => w.ConversationId == conversationId) is null)
        {
            // Not waiting, or taken out by a change not stored yet that a failed write may undo.
            await _waiting.SettledAsync();
        }

        if (_waiting.Find(w => w.ConversationId == conversationId) is not var (partition, waiting))
        {
            return;
        }

        await _waiting.CommitAsync(partition, this, logger, () => partition.State.Waiting.Remove(waiting));
        if (waiting.Offer is { } offer)
        {
            _ = Agent(offer.AgentId).WithdrawOffer(offer.OfferId, exit == QueueExit.Abandoned ? WithdrawReason.CustomerLeft : WithdrawReason.Reassigned);
            metrics.Offer(Key, "withdrawn");
        }

        var now = time.GetUtcNow();
        switch (exit)
        {
            case QueueExit.Abandoned:
                _statistics.Abandoned(now, now - waiting.WaitingSince);
                LogAbandoned(Key, conversationId);
                break;
            case QueueExit.TakenBySupervisor:
                _statistics.Answered(now, now - waiting.WaitingSince);
                break;
        }

        PublishStats(onlyIfEmpty: true);
    }

    public async Task<bool> Claim(string offerId, string agentId)
    {
        if (_waiting.FindClaim(offerId) is not null)
        {
            // A retried claim: answered from stored claims only, not from one whose write may fail.
            await _waiting.SettledAsync();
        }

        if (_waiting.FindClaim(offerId) is { } claimed)
        {
            // A retried claim gets the same answer, unless the conversation has come back to wait
            // here since (transferred or returned): that claim is over, and must not take it again.
            return claimed.AgentId == agentId && _waiting.Find(w => w.ConversationId == claimed.ConversationId) is null;
        }

        var now = time.GetUtcNow();
        if (_waiting.Find(w => w.Offer?.OfferId == offerId && w.Offer.AgentId == agentId) is not var (partition, waiting))
        {
            return false;
        }

        if (now >= waiting.Offer!.ExpiresAt)
        {
            // Late by less than a tick: the deadline the agent was shown is what counts.
            await ExpireOffersAsync([waiting], now);
            RequestRoute();
            return false;
        }

        // The claim is remembered in the same row the conversation leaves: both or neither are stored.
        await _waiting.CommitAsync(partition, this, logger, () =>
        {
            partition.State.Waiting.Remove(waiting);
            partition.State.RecentClaims.Add(new ClaimedOffer(offerId, agentId, waiting.ConversationId));
            if (partition.State.RecentClaims.Count > RecentClaimsKept)
            {
                partition.State.RecentClaims.RemoveAt(0);
            }
        });
        _statistics.Answered(now, now - waiting.WaitingSince);
        metrics.Offer(Key, "accepted");
        PublishStats(onlyIfEmpty: true);
        LogClaimed(Key, waiting.ConversationId, agentId, (now - waiting.WaitingSince).TotalSeconds);
        return true;
    }

    public async Task Decline(string offerId, string agentId, bool passed)
    {
        // One-way: nobody hears a failure, so a decline that another call's failed write discarded
        // (InconsistentStateException) is applied again to the reloaded list.
        for (var attempt = 1; ; attempt++)
        {
            if (_waiting.Find(w => w.Offer?.OfferId == offerId && w.Offer.AgentId == agentId) is not var (partition, waiting))
            {
                return;
            }

            try
            {
                await _waiting.CommitAsync(partition, this, logger, () =>
                {
                    waiting.Offer = null;
                    if (passed)
                    {
                        waiting.PassedBy[agentId] = time.GetUtcNow();
                    }
                });
                break;
            }
            catch (InconsistentStateException) when (attempt < 3)
            {
            }
        }

        metrics.Offer(Key, "declined");
        RequestRoute();
    }

    public Task UpdateAgent(RosterEntry entry)
    {
        if (_roster.TryGetValue(entry.AgentId, out var known) && known.Version > entry.Version)
        {
            return Task.CompletedTask; // an older announcement overtaken by a newer one
        }

        if (entry.Presence == AgentPresence.Offline)
        {
            _roster.Remove(entry.AgentId);
        }
        else
        {
            _roster[entry.AgentId] = entry;
            if (entry.Presence == AgentPresence.Available && entry.Connected && _waiting.WaitingCount > 0)
            {
                RequestRoute();
            }
        }

        // While conversations wait, the tick publishes; an empty queue publishes its agents here.
        PublishStats(onlyIfEmpty: true);
        return Task.CompletedTask;
    }

    public Task<ImmutableArray<RosterEntry>> GetRoster() => Task.FromResult(_roster.Values.ToImmutableArray());

    public Task<QueueStats> GetStats(CancellationToken cancellationToken) => Task.FromResult(Stats());

    public Task<QueueHistoryView> GetHistory(TimeSpan span, CancellationToken cancellationToken) =>
        Task.FromResult(new QueueHistoryView(Key, QueueStatistics.Interval, Options.ServiceLevelThreshold, _statistics.History(time.GetUtcNow(), span)));

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.QueueGone(Key);
        _statisticsSaver?.Dispose();
        await SaveStatisticsAsync(cancellationToken);
        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    private async Task SaveStatisticsAsync(CancellationToken cancellationToken)
    {
        if (!_statistics.Changed)
        {
            return;
        }

        try
        {
            _statistics.MarkStored();
            await statisticsState.WriteStateAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            // Kept in memory; the next save stores it.
            _statistics.MarkChanged();
            LogStatisticsNotStored(ex, Key);
        }
    }

    private QueueStats Stats()
    {
        var now = time.GetUtcNow();
        var waitingCount = _waiting.WaitingCount;
        var longest = waitingCount == 0 ? TimeSpan.Zero : now - _waiting.All.Min(w => w.WaitingSince);
        var available = _roster.Values.Count(IsAvailable);
        var busy = _roster.Values.Count(a => !IsAvailable(a) && a.UsedByChannel.Values.Sum() > 0);
        return new QueueStats(
            Key,
            waitingCount,
            longest,
            _statistics.EstimatedWait(waitingCount + 1, FreeSlots(channel: null), now),
            available,
            busy,
            _statistics.ServiceLevel(now, Options.ServiceLevelThreshold),
            Options.ServiceLevelThreshold,
            _statistics.AnsweredCount(now),
            _statistics.AbandonedCount(now));
    }

    /// <summary>
    /// The figures the silo's queue gauges report: every tick while conversations wait, and when the
    /// queue empties (computing them walks the waiting list, so not on every call).
    /// </summary>
    private void PublishStats(bool onlyIfEmpty = false)
    {
        if (!onlyIfEmpty || _waiting.WaitingCount == 0)
        {
            metrics.QueuePublished(Stats());
        }
    }

    public async Task Route()
    {
        _routeRequested = false;
        await RouteAsync();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != WatchReminder)
        {
            return;
        }

        if (_waiting.WaitingCount == 0)
        {
            _watch = null;
            if (await this.GetReminder(WatchReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }

            if (_waiting.WaitingCount > 0)
            {
                // An enqueue came in while the reminder was being removed (its registration may
                // have landed before the removal): register it again.
                _watch = null;
                await WatchAsync();
            }

            return;
        }

        StartTicking();
        await RouteAsync();
    }

    /// <summary>Every second while conversations wait: expire offers, forget silent agents, widen and route.</summary>
    private async Task TickAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var silent in _roster.Values.Where(a => now - a.AnnouncedAt > Options.RosterExpiry).Select(a => a.AgentId).ToList())
        {
            _roster.Remove(silent);
        }

        var expired = _waiting.All.Where(w => w.Offer is { } offer && now >= offer.ExpiresAt).ToList();
        if (expired.Count > 0)
        {
            await ExpireOffersAsync(expired, now);
        }

        if (_waiting.WaitingCount == 0)
        {
            _tick?.Dispose();
            _tick = null;
            PublishStats();
            return;
        }

        TellCustomersWhoMovedUp(now);
        PublishStats();

        // Also without changes: waiting conversations move into wider rings as time passes.
        await RouteAsync();
    }

    /// <summary>
    /// Tells each waiting customer who moved up since they last heard their place, at most once per
    /// update interval (one message each, one-way). Not stored: after a restart a customer may hear
    /// their place once more, never a wrong one.
    /// </summary>
    private void TellCustomersWhoMovedUp(DateTimeOffset now)
    {
        var position = 0;
        foreach (var waiting in Ordered())
        {
            position++;
            if (position < waiting.ToldPosition && now - waiting.ToldAt >= Options.QueueUpdateInterval)
            {
                (waiting.ToldPosition, waiting.ToldAt) = (position, now);
                var placement = new QueuePlacement(Key, position, _statistics.EstimatedWait(position, FreeSlots(waiting.Channel), now), SignedIn());
                _ = GrainFactory.Get<IConversationGrain>(waiting.ConversationId).OnQueuePlaceChanged(placement);
            }
        }
    }

    /// <summary>
    /// The waiting conversations without an offer out that an agent could be found for now, unsorted:
    /// all of them while an agent of this queue has a free slot; otherwise only those a transfer
    /// names an agent for or that waited long enough to be offered to other queues' agents. A queue
    /// whose agents are all busy (the usual state under load) finds none with one scan, without
    /// sorting its waiting list on every enqueue.
    /// </summary>
    private (List<WaitingConversation> Routable, bool NeedsOtherQueues) Routable(DateTimeOffset now)
    {
        var anyoneFree = _roster.Values.Any(IsAvailable);
        var routable = new List<WaitingConversation>();
        var needsOtherQueues = false;
        foreach (var waiting in _waiting.All)
        {
            if (waiting.Offer is not null)
            {
                continue;
            }

            var widerRings = AgentSelection.WidestRing(now - waiting.WaitingSince, Options) >= RoutingRing.OtherQueues;
            if (anyoneFree || widerRings || waiting.PreferredAgentId is not null)
            {
                routable.Add(waiting);
                needsOtherQueues |= widerRings;
            }
        }

        return (routable, needsOtherQueues);
    }

    /// <summary>
    /// Takes back offers past their deadline; the agents hear of it once that is stored (if the write
    /// fails, the offers are still out and the next tick expires them again).
    /// </summary>
    private async Task ExpireOffersAsync(IReadOnlyList<WaitingConversation> expired, DateTimeOffset now)
    {
        var offers = expired.Select(w => (Waiting: w, Offer: w.Offer!)).ToList();
        foreach (var (waiting, offer) in offers)
        {
            waiting.Offer = null;
            waiting.PassedBy[offer.AgentId] = now;
        }

        // Each partition's agents hear once that partition is stored, whatever becomes of the others.
        await Task.WhenAll(offers.GroupBy(o => _waiting.Holding(o.Waiting)).ToList().Select(async stored =>
        {
            await _waiting.CommitAsync(stored.Key, this, logger);
            foreach (var (waiting, offer) in stored)
            {
                _ = Agent(offer.AgentId).WithdrawOffer(offer.OfferId, WithdrawReason.TimedOut);
                metrics.Offer(Key, "expired");
                LogOfferTimedOut(Key, waiting.ConversationId, offer.AgentId);
            }
        }));
    }

    /// <summary>
    /// Runs routing passes until none is asked for: a pass asked for while one runs (by a call that
    /// interleaved) runs right after it, never beside it.
    /// </summary>
    private async Task RouteAsync()
    {
        if (_routing)
        {
            _routeAgain = true;
            return;
        }

        _routing = true;
        try
        {
            do
            {
                _routeAgain = false;
                await RoutePassAsync();
            }
            while (_routeAgain);
        }
        finally
        {
            _routing = false;
        }
    }

    /// <summary>
    /// Offers every waiting conversation without an offer out, in queue order, to the best agent who
    /// can take it. The offers of one pass are chosen first (each counted against its agent's free
    /// slots, so the next conversation's choice sees it, and marked on its conversation) and then sent
    /// to all their agents at once, rather than one offer after another. An agent's refusal (it is
    /// full or no longer available: the roster was stale) marks it full until its next announcement,
    /// and the conversation is offered to the next candidate in the next pass.
    /// </summary>
    private async Task RoutePassAsync()
    {
        var now = time.GetUtcNow();
        var (unoffered, needsOtherQueues) = Routable(now);
        if (needsOtherQueues)
        {
            // Read before choosing: the choices below are made without awaiting, on one view of the list.
            await ReadOtherQueuesRosterAsync(now);
            (unoffered, _) = Routable(now);
        }

        unoffered.Sort(QueueOrder.Instance);
        var anyoneFree = _roster.Values.Any(IsAvailable);
        var planned = new List<(string ConversationId, Candidate Candidate, OfferRequest Offer)>();
        foreach (var waiting in unoffered)
        {
            var widest = AgentSelection.WidestRing(now - waiting.WaitingSince, Options);
            if (!anyoneFree && waiting.PreferredAgentId is null && widest < RoutingRing.OtherQueues)
            {
                continue; // everyone here became busy during this pass
            }

            var otherQueues = widest >= RoutingRing.OtherQueues ? _otherQueuesRoster : [];
            if (AgentSelection.Best(waiting, now, _roster.Values, otherQueues, Options) is { } candidate)
            {
                var offer = new OfferRequest(
                    Guid.CreateVersion7().ToString("N"), waiting.ConversationId, waiting.Channel, Key,
                    waiting.Priority, waiting.WaitingSince, now + Options.OfferTimeout);

                // Marked before it is sent: the agent may claim it before this pass has heard back.
                waiting.Offer = new PendingOffer(offer.OfferId, candidate.AgentId, offer.ExpiresAt);
                planned.Add((waiting.ConversationId, candidate, offer));
                CountOffer(candidate.AgentId, waiting.Channel, 1);
                anyoneFree = _roster.Values.Any(IsAvailable);
            }
        }

        if (planned.Count == 0)
        {
            return;
        }

        // Agents in parallel; one agent's offers in queue order, so its desk shows them in that order.
        var taken = new bool[planned.Count];
        await Task.WhenAll(Enumerable.Range(0, planned.Count).GroupBy(i => planned[i].Candidate.AgentId).Select(async offersToOneAgent =>
        {
            foreach (var i in offersToOneAgent)
            {
                taken[i] = await TryOfferAsync(planned[i].Candidate.AgentId, planned[i].Offer);
            }
        }));

        var changed = new List<IPersistentState<QueueState>>();
        for (var i = 0; i < planned.Count; i++)
        {
            var (conversationId, candidate, offer) = planned[i];

            // Still waiting with this offer out? It may have been claimed, declined, taken back or
            // reloaded while the agents were asked: then there is nothing of this pass's left to store.
            if (_waiting.Find(w => w.ConversationId == conversationId && w.Offer?.OfferId == offer.OfferId) is not var (partition, waiting))
            {
                if (taken[i] && _waiting.FindClaim(offer.OfferId) is null)
                {
                    // The agent holds an offer the queue no longer has: the customer left while it was
                    // on its way (the withdrawal may have reached the agent before the offer did), or
                    // another call's failed write reloaded the partition without it. An offer the
                    // agent declined or that expired is no longer held: withdrawing it does nothing.
                    var reason = _waiting.Find(w => w.ConversationId == conversationId) is null ? WithdrawReason.CustomerLeft : WithdrawReason.TakenBack;
                    // Not counted: the removal or decline that overtook the pass already was.
                    _ = Agent(candidate.AgentId).WithdrawOffer(offer.OfferId, reason);
                }

                continue;
            }

            changed.Add(partition);
            if (taken[i])
            {
                LogOffered(Key, conversationId, candidate.AgentId, candidate.Ring);
                continue;
            }

            // Stale roster: the agent is full or away. Its next announcement corrects this.
            waiting.Offer = null;
            CountOffer(candidate.AgentId, waiting.Channel, int.MaxValue / 2);
            if (candidate.Ring == RoutingRing.NamedAgent)
            {
                // The transfer's agent cannot take it now (full, away, gone): the queue's agents can.
                waiting.PassedBy[candidate.AgentId] = now;
            }

            RequestRoute();
        }

        // The offers are out already (agents hold them): store them, or reload and let the agents
        // drop the offers this activation then no longer knows, at their deadline. A refused offer
        // is stored as withdrawn too, since another call's write may have stored it as out.
        await Task.WhenAll(changed.Distinct().Select(partition => _waiting.CommitAsync(partition, this, logger)));
    }

    private async Task<bool> TryOfferAsync(string agentId, OfferRequest offer)
    {
        try
        {
            var made = await Agent(agentId).Offer(offer);
            if (made)
            {
                metrics.Offer(Key, "made");
            }

            return made;
        }
        catch (Exception ex)
        {
            // The agent's silo may be down: try the next agent rather than stall the queue.
            LogOfferFailed(ex, Key, offer.ConversationId, agentId);
            return false;
        }
    }

    /// <summary>Counts a new offer (or a refusal, as "full") against the rosters until the agent's next announcement.</summary>
    private void CountOffer(string agentId, string channel, int slots)
    {
        if (_roster.TryGetValue(agentId, out var agent))
        {
            _roster[agentId] = Counted(agent, channel, slots);
        }

        // An agent borrowed from another queue (ring 3) is counted in that cache too, so one pass does
        // not plan more conversations for it than it has room for.
        for (var i = 0; i < _otherQueuesRoster.Length; i++)
        {
            if (_otherQueuesRoster[i].AgentId == agentId)
            {
                _otherQueuesRoster = _otherQueuesRoster.SetItem(i, Counted(_otherQueuesRoster[i], channel, slots));
            }
        }

        static RosterEntry Counted(RosterEntry agent, string channel, int slots) =>
            agent with { UsedByChannel = agent.UsedByChannel.SetItem(channel, (int)Math.Min(int.MaxValue / 2, (long)agent.UsedOn(channel) + slots)) };
    }

    private async Task<ImmutableArray<RosterEntry>> ReadOtherQueuesRosterAsync(DateTimeOffset now)
    {
        if (now - _otherQueuesReadAt < OtherQueuesCacheAge)
        {
            return _otherQueuesRoster;
        }

        var (skill, language) = GrainKeys.SplitQueue(Key);
        var reads = catalog.Skills
            .Where(other => other != skill)
            .Select(other => GrainFactory.Get<IQueueGrain>(GrainKeys.Queue(other, language)).GetRoster());
        try
        {
            var rosters = await Task.WhenAll(reads);
            _otherQueuesRoster = [.. rosters.SelectMany(r => r).GroupBy(a => a.AgentId).Select(g => g.MaxBy(a => a.Version)!)];
        }
        catch (Exception ex)
        {
            // A queue on a silo that is down: route with what is known rather than not at all
            // (offers already made in this pass must still be stored).
            LogOtherQueuesUnreadable(ex, Key);
        }

        _otherQueuesReadAt = now;
        return _otherQueuesRoster;
    }

    /// <summary>
    /// Registers the watch reminder once per activation while conversations wait, not per enqueue (a
    /// reminder write each); every enqueue waits for that registration, so none is answered while
    /// the queue is not watched.
    /// </summary>
    private async Task WatchAsync()
    {
        var registering = _watch ??= this.RegisterOrUpdateReminder(WatchReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        try
        {
            await registering;
        }
        catch
        {
            if (_watch == registering)
            {
                _watch = null;
            }

            throw;
        }
    }

    private void StartTicking() =>
        _tick ??= this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(TickPeriod, TickPeriod) { KeepAlive = true });

    // Coalesces many requests (one per enqueue, decline or announcement) into one routing pass.
    private void RequestRoute()
    {
        if (!_routeRequested)
        {
            _routeRequested = true;
            _ = this.AsReference<IQueueGrain>().Route();
        }
    }

    // Agents who serve this queue and are signed in (busy or not): none means nobody will answer soon.
    private int SignedIn() => _roster.Values.Count(a => a.Connected && a.Presence != AgentPresence.Offline);

    private IEnumerable<WaitingConversation> Ordered() => _waiting.All.Order(QueueOrder.Instance);

    // 1 for the first in queue order: a count, without sorting the whole list.
    private int PositionOf(WaitingConversation waiting)
    {
        var ahead = 0;
        foreach (var other in _waiting.All)
        {
            if (other != waiting && QueueOrder.Instance.Compare(other, waiting) < 0)
            {
                ahead++;
            }
        }

        return ahead + 1;
    }

    // Asked at every enqueue (the customer's estimated wait): a loop, without LINQ's allocations.
    private int FreeSlots(string? channel)
    {
        var free = 0;
        foreach (var agent in _roster.Values)
        {
            if (IsAvailable(agent))
            {
                free += channel is null ? 1 : agent.FreeOn(channel);
            }
        }

        return free;
    }

    private static bool IsAvailable(RosterEntry agent) =>
        agent.Presence == AgentPresence.Available && agent.Connected && agent.HasFreeSlot;

    private IAgentGrain Agent(string agentId) => GrainFactory.Get<IAgentGrain>(agentId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Queue {Queue}: {ConversationId} waits (priority {Priority}, {ReasonCode})")]
    private partial void LogEnqueued(string queue, string conversationId, int priority, string reasonCode);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Queue {Queue}: {ConversationId} offered to {AgentId} ({Ring})")]
    private partial void LogOffered(string queue, string conversationId, string agentId, RoutingRing ring);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Queue {Queue}: {ConversationId} taken by {AgentId} after {WaitSeconds:F1} s")]
    private partial void LogClaimed(string queue, string conversationId, string agentId, double waitSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Queue {Queue}: the offer of {ConversationId} to {AgentId} timed out")]
    private partial void LogOfferTimedOut(string queue, string conversationId, string agentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Queue {Queue}: {ConversationId} left the queue (customer gone)")]
    private partial void LogAbandoned(string queue, string conversationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue {Queue}: reading the rosters of the other queues failed; routing with the last ones read")]
    private partial void LogOtherQueuesUnreadable(Exception exception, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue {Queue}: offering {ConversationId} to {AgentId} failed; trying the next agent")]
    private partial void LogOfferFailed(Exception exception, string queue, string conversationId, string agentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue {QueueKey}: storing its statistics failed; the next save tries again")]
    private partial void LogStatisticsNotStored(Exception exception, string queueKey);
}
