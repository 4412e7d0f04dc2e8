using System.Collections.Immutable;
using System.Globalization;
using ContactGrains.Bot;
using ContactGrains.Bot.Signals;
using ContactGrains.Contracts;
using ContactGrains.Grains.Automation;
using ContactGrains.Grains.Diagnostics;
using ContactGrains.Grains.Ownership;
using ContactGrains.Grains.Routing;
using ContactGrains.Grains.Supervision;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ContactGrains.Grains.Conversations;

/// <summary>
/// Holds one conversation and decides, turn by turn, who answers the customer. Every owner change
/// is appended to the ledger with its reason; every message and status change to the timeline.
/// </summary>
public sealed partial class ConversationGrain(
    [PersistentState("conversation", StorageNames.Default)] IPersistentState<ConversationState> state,
    TurnJudge judge,
    TimeProvider time,
    IOptions<ConversationOptions> options,
    RoutingCatalog catalog,
    ContactGrainsMetrics metrics,
    OutcomeRecorder outcomes,
    ConversationIndexReporter index,
    AutomationLevelsCache levels,
    IOptions<AutomationOptions> automation,
    IBot bot,
    IOptions<RoutingOptions> routing,
    ILogger<ConversationGrain> logger) : Grain, IConversationGrain, IRemindable
{
    /// <summary>Durable: it must fire even if the silo that started the conversation has died.</summary>
    public const string InactivityReminder = "close-when-inactive";

    /// <summary>
    /// Entries per sealed segment. The conversation's own state keeps between one and two segments'
    /// worth of recent entries, so writing a message costs the same at the 10th and the 10,000th.
    /// </summary>
    public const int SegmentSize = 32;

    /// <summary>Customer message ids the deduplication index keeps at least (it prunes the older half beyond twice this).</summary>
    public const int RememberedMessageIds = 256;

    /// <summary>Entries an agent is shown with an offer or assignment; the rest through the transcript.</summary>
    public const int HandoffEntries = 20;

    /// <summary>Tries to tell an agent about a message or the end of a conversation (1 s, 2 s, … apart).</summary>
    private const int AgentDeliveryAttempts = 6;

    // Set once this activation has registered the inactivity reminder (see Start).
    private bool _inactivityCheckRegistered;

    // Created with the first customer message of this activation (see MessageRateLimit).
    private MessageRateLimit? _rateLimit;

    private ConversationState State => state.State;

    // The key decoded once: Orleans decodes it from UTF-8 on every GetPrimaryKeyString, and a
    // conversation names itself in its state, its entries, the index and every log scope.
    private string? _id;

    /// <summary>The conversation's id (its grain key).</summary>
    internal string Id => _id ??= this.GetPrimaryKeyString();

    // The log scope's state for this conversation, made once per activation (ConversationLogScope).
    private ConversationLogScope.ConversationScope? _logScope;

    internal ConversationLogScope.ConversationScope LogScope => _logScope ??= new(Id);

    // What the open-conversation index last heard from this activation: the ledger length and intent.
    private (int Version, string? Intent) _indexed = (-1, null);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // After a restart the index (kept in memory) learns of open conversations as they wake.
        ReportToIndex();
        return Task.CompletedTask;
    }

    public async Task<ConversationSnapshot> Start(StartConversation command)
    {
        if (State.Status != ConversationStatus.None)
        {
            if (State.Channel != command.Channel || State.ExternalThreadId != command.ExternalThreadId)
            {
                throw new InvalidOperationException(
                    $"Conversation {Id} belongs to {State.Channel}:{State.ExternalThreadId}, not {command.Channel}:{command.ExternalThreadId}.");
            }

            if (State.Status == ConversationStatus.Open && !_inactivityCheckRegistered)
            {
                // A retried start: the first may have stored the conversation but failed to register its check.
                await RegisterInactivityCheckAsync();
            }

            return Snapshot();
        }

        var now = time.GetUtcNow();
        var customerKey = GrainKeys.Customer(command.Channel, command.Customer.ExternalCustomerId);

        // Idempotent on the customer's side, so a retry after a failure below is safe.
        var profile = await GrainFactory.Get<ICustomerGrain>(customerKey).ConversationStarted(Id, command.Customer, now);
        var earlierIntents = await EarlierIntentsAsync(profile, now);

        // The check needs nothing from the state, so it is registered while the state is written rather
        // than after: one storage round trip less before the first answer. If the write fails, the check
        // finds the conversation never started and removes itself.
        var registration = RegisterInactivityCheckAsync();
        var commit = CommitAsync(() =>
        {
            State.Status = ConversationStatus.Open;
            State.Channel = command.Channel;
            State.ExternalThreadId = command.ExternalThreadId;
            State.CustomerKey = customerKey;
            State.StartedAt = now;
            State.Language = NullIfEmpty(command.Customer.Language) ?? profile.Language;
            State.CustomerName = profile.DisplayName;
            State.CustomerTier = profile.Tier;
            State.PreviousContacts = profile.ContactsOtherThan(Id);
            State.CustomerPrefersHumans = profile.PrefersHumans;
            State.EarlierIntents = earlierIntents;
            ChangeOwner(Owner.Bot, OwnershipReasons.NewConversation,
                "New conversations start with the bot: it answers what it knows and hands over when it cannot.");
            Append(new StatusBody(StatusKind.Started, null), now);
        });
        await Task.WhenAll(commit, registration);
        LogStarted(Id, State.Channel, State.ExternalThreadId, State.CustomerKey);
        return Snapshot();
    }

    /// <summary>
    /// The intents the bot answered in the customer's other conversations: those the customer
    /// recorded when they closed, and those of the customer's conversations still open, asked of them.
    /// </summary>
    private async Task<List<IntentContact>> EarlierIntentsAsync(CustomerProfile profile, DateTimeOffset now)
    {
        var earlier = profile.Intents.IsDefault ? [] : profile.Intents.Where(i => i.ConversationId != Id).ToList();
        var open = RepeatContacts.OpenEarlier(profile.Contacts, Id, now, RepeatContacts.DefaultWindow);
        if (open.Count == 0)
        {
            return earlier;
        }

        var reads = open.Select(async conversationId =>
        {
            try
            {
                return await GrainFactory.Get<IConversationGrain>(conversationId).GetAnsweredIntents();
            }
            catch (Exception ex)
            {
                // Best effort: an earlier conversation that cannot answer must not keep this one from starting.
                LogEarlierIntentsUnread(ex, Id, conversationId);
                return [];
            }
        });
        foreach (var intents in await Task.WhenAll(reads))
        {
            earlier.AddRange(intents.Where(i => !earlier.Exists(e => e.ConversationId == i.ConversationId && e.IntentId == i.IntentId)));
        }

        return earlier;
    }

    public Task<ImmutableArray<IntentContact>> GetAnsweredIntents() => Task.FromResult(AnsweredIntents());

    private ImmutableArray<IntentContact> AnsweredIntents() =>
        [.. State.IntentsAnswered.Select(intent => new IntentContact(intent, State.IntentAnsweredAt.GetValueOrDefault(intent, State.StartedAt), Id))];

    public async Task<InboundResult> ReceiveCustomerMessage(CustomerMessage message, IConversationObserver? deliverTo, CancellationToken cancellationToken)
    {
        if (!IsVisibleTo(message.Channel))
        {
            return InboundResult.Rejected(Id, RejectionCode.NotFound, NotFoundMessage(message.Channel));
        }

        // A resend is answered from the index before anything else, also once the conversation is closed.
        if (State.RecentMessageIds.TryFind(message.AdapterMessageId, out var original))
        {
            if (deliverTo is not null && !deliverTo.Equals(State.DeliveryTarget))
            {
                await CommitAsync(() => SetDeliveryTarget(deliverTo));
            }

            return new InboundResult(InboundOutcome.Duplicate, Id, original, State.LastSequence, [], null);
        }

        if (State.Status == ConversationStatus.Closed)
        {
            return AwaitsRatingAnswer(message.Text) is { } rating
                ? await ReceiveRatingAnswerAsync(message, rating, deliverTo)
                : InboundResult.Rejected(Id, RejectionCode.Closed, $"Conversation {Id} is closed; new messages on its thread start a new conversation.");
        }

        if (InboundValidation.CheckText(message.Text) is { } problem)
        {
            return InboundResult.Rejected(Id, RejectionCode.InvalidArgument, problem);
        }

        var now = time.GetUtcNow();
        _rateLimit ??= new MessageRateLimit(options.Value.MessageBurst, options.Value.MessagesPerMinute);
        if (_rateLimit.TryTake(now) is { } wait)
        {
            return InboundResult.Rejected(Id, RejectionCode.RateLimited, string.Create(CultureInfo.InvariantCulture,
                $"Too many messages on conversation {Id}: it takes {_rateLimit.Burst} at once, then {_rateLimit.PerMinute} a minute. Nothing was stored; send it again in {wait.TotalSeconds:0.0} s."),
                wait);
        }

        var produced = ImmutableArray.CreateBuilder<TimelineEntry>(State.RecentEntries.Count + 2);
        var ledgerBefore = State.Ledger.Count;
        var draftsBefore = State.DraftsMade;
        long customerSequence = 0;
        await CommitAsync(async () =>
        {
            if (State.LastCustomerMessageAt is null)
            {
                // The first message opened the conversation for the adapter: it is owed the opening too.
                produced.AddRange(State.RecentEntries);
            }

            State.LastCustomerMessageAt = now;
            var customerEntry = Append(new ChatMessageBody(SenderKind.Customer, null, message.Text, message.AdapterMessageId, null), now);
            customerSequence = customerEntry.Sequence;
            State.RecentMessageIds.Remember(message.AdapterMessageId, customerSequence, RememberedMessageIds);
            produced.Add(customerEntry);
            if (deliverTo is not null)
            {
                SetDeliveryTarget(deliverTo);
            }

            if (State.Owner.Kind == OwnerKind.Bot)
            {
                await TakeTurnAsync(message.Text, customerSequence, now, produced);
            }
            else
            {
                await DraftForAgentAsync(message.Text, customerSequence, now);
            }
        });

        if (State.Owner.Kind == OwnerKind.Agent)
        {
            // The agent's desktop sees the customer's message as it arrives (the adapter has it in the
            // result), with the bot's draft reply when the intent is at the copilot level.
            ImmutableArray<TimelineEntry> toAgent = [.. produced.Where(e => e.Sequence >= customerSequence)];
            var draft = State.DraftsMade != draftsBefore ? State.Draft : null;
            TellAgent(State.Owner.Id!, agent => agent.OnConversationEntries(Id, toAgent, draft));
        }

        var entries = produced.DrainToImmutable();
        RecordTurn(entries, customerSequence, ledgerBefore);
        if (deliverTo is null)
        {
            // A unary caller has the entries in its response; the stream that last sent or resumed
            // here is owed them too, now, not when a later entry reveals the gap.
            Push(entries);
        }

        return new InboundResult(InboundOutcome.Accepted, Id, customerSequence, State.LastSequence, entries, null);
    }

    public async Task<TimelinePage> Resume(string channel, long afterSequence, IConversationObserver deliverTo, CancellationToken cancellationToken)
    {
        var page = await GetTimeline(channel, afterSequence, ConversationLimits.MaxPageSize, cancellationToken);
        if (page.Rejection is null && !deliverTo.Equals(State.DeliveryTarget))
        {
            await CommitAsync(() => SetDeliveryTarget(deliverTo));
        }

        return page;
    }

    public async Task<TimelinePage> GetTimeline(string channel, long afterSequence, int maxEntries, CancellationToken cancellationToken)
    {
        if (!IsVisibleTo(channel))
        {
            return new TimelinePage([], 0, new Rejection(RejectionCode.NotFound, NotFoundMessage(channel)));
        }

        if (afterSequence < 0 || afterSequence > State.LastSequence)
        {
            return new TimelinePage([], State.LastSequence, new Rejection(RejectionCode.OutOfRange,
                $"after_sequence {afterSequence} is outside this conversation's timeline, which ends at {State.LastSequence}."));
        }

        var count = (int)Math.Min(State.LastSequence - afterSequence, Math.Clamp(maxEntries, 1, ConversationLimits.MaxPageSize));
        var page = ImmutableArray.CreateBuilder<TimelineEntry>(count);
        var next = afterSequence + 1;
        while (page.Count < count && next <= State.SealedThrough)
        {
            // Older entries: read the sealed segment that holds the next one.
            var segment = await GrainFactory.Get<IConversationSegmentGrain>(GrainKeys.Segment(Id, (next - 1) / SegmentSize)).Read();
            var from = (int)((next - 1) % SegmentSize);
            if (segment.Length != SegmentSize)
            {
                throw new InvalidOperationException($"Conversation {Id}: segment {(next - 1) / SegmentSize} holds {segment.Length} entries, not {SegmentSize}.");
            }

            foreach (var entry in segment.AsSpan(from, Math.Min(SegmentSize - from, count - page.Count)))
            {
                page.Add(entry);
            }

            next = page[^1].Sequence + 1;
        }

        var recentFrom = (int)(next - State.SealedThrough - 1);
        for (var i = recentFrom; page.Count < count; i++)
        {
            page.Add(State.RecentEntries[i]);
        }

        return new TimelinePage(page.MoveToImmutable(), State.LastSequence, null);
    }

    public Task<ConversationSnapshot> Close(string channel, string reasonCode, string reason, CancellationToken cancellationToken) =>
        IsVisibleTo(channel) ? CloseAsync(reasonCode, reason) : Task.FromResult(NotStartedSnapshot());

    /// <summary>Closes the conversation when it has been quiet for the inactivity timeout. Idempotent.</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != InactivityReminder)
        {
            return;
        }

        if (State.Status == ConversationStatus.Open)
        {
            var timeout = options.Value.InactivityTimeout;
            var quietSince = State.LastCustomerMessageAt ?? State.StartedAt;
            var quietFor = time.GetUtcNow() - quietSince;
            if (quietFor < timeout)
            {
                if (quietFor >= options.Value.InactivityCheckPeriod)
                {
                    // Quiet for a whole period, it was most likely woken only for this check (hourly
                    // by default once the first timeout has passed): let the activation go now
                    // instead of keeping it for Orleans' collection age (15 minutes) every period.
                    DeactivateOnIdle();
                }

                return;
            }

            await CloseAsync(OwnershipReasons.Inactive, $"No message from the customer for {FormatDuration(timeout)}: closed automatically.");
            return;
        }

        // Closed or never started (a reminder left over from a failed start): nothing more to watch.
        await StopInactivityReminderAsync();
    }

    /// <summary>Closes the conversation (idempotent); an agent's resolution adds its RESOLVED status just before.</summary>
    public async Task CountRepeatContact(string intentId)
    {
        if (State.Status != ConversationStatus.Closed || State.LastIntent != intentId || State.ResolvedBy is not { } resolvedBy || State.RepeatCounted)
        {
            return;
        }

        await CommitAsync(() => State.RepeatCounted = true);
        outcomes.Record(intentId, new DatedOutcome(DateOnly.FromDateTime((State.ClosedAt ?? time.GetUtcNow()).UtcDateTime),
            new ConversationOutcome(resolvedBy, Rating: null, RepeatContact: true, Escalated: false), RepeatOnly: true));
    }

    public async Task<Rejection?> Rate(string channel, int rating, CancellationToken cancellationToken)
    {
        if (!IsVisibleTo(channel))
        {
            return new Rejection(RejectionCode.NotFound, NotFoundMessage(channel));
        }

        if (State.RatingRequestedAt is null)
        {
            return new Rejection(RejectionCode.FailedPrecondition,
                $"Conversation '{Id}' has not asked for a rating: a conversation asks (RATING_REQUESTED) when it is resolved or closed by the adapter.");
        }

        if (State.Rating is { } given)
        {
            return given == rating ? null : new Rejection(RejectionCode.FailedPrecondition, $"Conversation '{Id}' was already rated {given}.");
        }

        await CommitAsync(() => State.Rating = rating);
        RecordRating(rating);
        return null;
    }

    private void RecordRating(int rating) =>
        outcomes.Record(State.LastIntent!, new DatedOutcome(DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime),
            new ConversationOutcome(State.ResolvedBy!.Value, rating, RepeatContact: false, Escalated: false), RatingOnly: true));

    /// <summary>The rating a message on this closed conversation gives, when it asked for one lately and has none yet.</summary>
    private int? AwaitsRatingAnswer(string text) =>
        State.RatingRequestedAt is { } asked && State.Rating is null && time.GetUtcNow() - asked <= options.Value.RatingAnswerWindow
            ? RatingAnswer.Parse(text)
            : null;

    /// <summary>The customer answered the rating question with a message: it is stored here, thanked, and counted.</summary>
    private async Task<InboundResult> ReceiveRatingAnswerAsync(CustomerMessage message, int rating, IConversationObserver? deliverTo)
    {
        var now = time.GetUtcNow();
        var produced = ImmutableArray.CreateBuilder<TimelineEntry>(2);
        await CommitAsync(() =>
        {
            var answer = Append(new ChatMessageBody(SenderKind.Customer, null, message.Text, message.AdapterMessageId, null), now);
            State.RecentMessageIds.Remember(message.AdapterMessageId, answer.Sequence, RememberedMessageIds);
            produced.Add(answer);
            produced.Add(Append(new StatusBody(StatusKind.RatingReceived, CustomerNotices.Get("RatingReceived", State.Language)), now));
            State.Rating = rating;
            if (deliverTo is not null)
            {
                SetDeliveryTarget(deliverTo);
            }
        });
        RecordRating(rating);
        var entries = produced.DrainToImmutable();
        if (deliverTo is null)
        {
            Push(entries);
        }

        return new InboundResult(InboundOutcome.Accepted, Id, entries[0].Sequence, State.LastSequence, entries, null);
    }

    private async Task<ConversationSnapshot> CloseAsync(string reasonCode, string reason, StatusBody? resolution = null)
    {
        var now = time.GetUtcNow();
        if (State.Status != ConversationStatus.Closed)
        {
            var closing = ImmutableArray.CreateBuilder<TimelineEntry>(2);
            var previousOwner = State.Owner;
            await CommitAsync(() =>
            {
                State.Status = ConversationStatus.Closed;
                State.ClosedAt = now;
                State.WaitingSince = null;
                ChangeOwner(Owner.Nobody, reasonCode, reason);
                if (resolution is not null)
                {
                    closing.Add(Append(resolution, now));
                }

                State.ResolvedBy = ConversationOutcomes.ResolvedByOf(State);
                if (State.ResolvedBy == ResolvedBy.Bot && State.LastIntent is { } reviewed && levels.LevelOf(reviewed) == AutomationLevel.Supervised
                    && Reviews.IsFlagged(Id, automation.Value.ReviewShare))
                {
                    State.ReviewToFile = new ReviewItem(Id, reviewed, State.Channel, now);
                }

                EndDraft(DraftFate.Discarded, now);
                if (options.Value.AskForRating && State.ResolvedBy is not null && State.LastIntent is not null && reasonCode != OwnershipReasons.Inactive)
                {
                    // Asked before CLOSED, the conversation's last entry: the adapter renders it and
                    // sends the answer with RateConversation.
                    State.RatingRequestedAt = now;
                    closing.Add(Append(new StatusBody(StatusKind.RatingRequested, CustomerNotices.Get("RatingRequested", State.Language)), now));
                }

                var notice = reasonCode == OwnershipReasons.Inactive
                    ? CustomerNotices.Get("ClosedInactive", State.Language, FormatDuration(options.Value.InactivityTimeout))
                    : CustomerNotices.Get("Closed", State.Language);
                closing.Add(Append(new StatusBody(StatusKind.Closed, notice), now));
            });
            Push(closing.DrainToImmutable());
            if (previousOwner.Kind == OwnerKind.Queue)
            {
                // After the commit: a close that failed must not leave an open conversation its queue
                // forgot. Until this returns, an agent may be offered it; its accept is refused (closed).
                await Queue(previousOwner.Id!).Remove(Id);
            }

            if (previousOwner.Kind == OwnerKind.Agent && reasonCode != OwnershipReasons.Resolved)
            {
                TellAgent(previousOwner.Id!, agent => agent.OnConversationEnded(Id, ConversationNoticeKind.CustomerLeft, reason));
            }

            if (State.LastIntent is { } intent && State.ResolvedBy is { } resolvedBy)
            {
                outcomes.Record(intent, new DatedOutcome(DateOnly.FromDateTime(now.UtcDateTime),
                    new ConversationOutcome(resolvedBy, Rating: null, RepeatContact: false, Escalated: resolvedBy == ResolvedBy.HumanAfterBot)));
            }

            await FileReviewAsync();
            LogClosed(Id, reasonCode);
            metrics.ConversationClosed(State.Channel, State.LastIntent,
                contained: !State.Ledger.Any(change => change.To.Kind is OwnerKind.Queue or OwnerKind.Agent));
            await StopInactivityReminderAsync();
        }
        else
        {
            // A retried close: the first may have failed telling its queue (a no-op if the queue knows)
            // or filing its review.
            if (State.QueueKey is { } queueKey)
            {
                await Queue(queueKey).Remove(Id);
            }

            await FileReviewAsync();
        }

        // Also on a repeated close: a retry after this call failed must still reach the customer.
        await GrainFactory.Get<ICustomerGrain>(State.CustomerKey).ConversationClosed(Id, State.Ledger[^1].ReasonCode, State.ClosedAt ?? now, AnsweredIntents());
        return Snapshot();
    }

    public Task<ConversationSnapshot> GetSnapshot(CancellationToken cancellationToken) => Task.FromResult(Snapshot());

    /// <summary>Puts a flagged conversation on the review list; a failure leaves it for a retried close.</summary>
    private async Task FileReviewAsync()
    {
        if (State.ReviewToFile is not { } review)
        {
            return;
        }

        try
        {
            await GrainFactory.GetGrain<IReviewsGrain>(Reviews.PartitionOf(Id)).Flag(review);
            await CommitAsync(() => State.ReviewToFile = null);
        }
        catch (Exception ex)
        {
            LogReviewNotFiled(ex, Id);
        }
    }

    /// <summary>The agent's current draft is done with: its fate counts in the intent's figures.</summary>
    private void EndDraft(DraftFate fate, DateTimeOffset now)
    {
        if (State.Draft is not { } draft)
        {
            return;
        }

        State.Draft = null;
        outcomes.Record(draft.Intent, new DatedOutcome(DateOnly.FromDateTime(now.UtcDateTime),
            new ConversationOutcome(ResolvedBy.Human, null, false, false), Draft: fate));
    }

    /// <summary>
    /// Applies a change and stores it, sealing full segments on the way (<see cref="StoredState"/>:
    /// on failure the activation reloads what is stored, so a resend is never mistaken for a
    /// duplicate of a message that was not kept).
    /// </summary>
    private Task CommitAsync(Action change) => CommitAsync(() =>
    {
        change();
        return Task.CompletedTask;
    });

    /// <inheritdoc cref="CommitAsync(Action)"/>
    private async Task CommitAsync(Func<Task> change)
    {
        await state.CommitAsync(this, logger, async () =>
        {
            await change();
            await SealFullSegmentsAsync();
        });
        ReportToIndex();
    }

    /// <summary>Tells the open-conversation index of an owner change, a new intent or the close (buffered per silo).</summary>
    private void ReportToIndex()
    {
        if (State.Status == ConversationStatus.None || _indexed == (State.Ledger.Count, State.LastIntent))
        {
            return;
        }

        _indexed = (State.Ledger.Count, State.LastIntent);
        if (State.Status == ConversationStatus.Closed)
        {
            index.Closed(Id, State.Ledger.Count);
        }
        else
        {
            index.Opened(Summary());
        }
    }

    private OpenConversation Summary()
    {
        var last = State.Ledger[^1];
        return new OpenConversation(Id, State.Channel, State.CustomerName, State.Language, State.LastIntent, State.Owner, last.Time,
            last.ReasonCode, State.StartedAt, State.Ledger.Count);
    }

    /// <summary>
    /// Moves the oldest full segment out of the conversation's state once two segments' worth of
    /// entries have gathered. The segment is written before the state that drops it, and sealing is
    /// idempotent, so a failure in between only means sealing the same segment again.
    /// </summary>
    private async Task SealFullSegmentsAsync()
    {
        while (State.RecentEntries.Count >= 2 * SegmentSize)
        {
            var index = State.SealedThrough / SegmentSize;
            var block = State.RecentEntries.GetRange(0, SegmentSize).ToImmutableArray();
            await GrainFactory.Get<IConversationSegmentGrain>(GrainKeys.Segment(Id, index)).Seal(block);
            State.RecentEntries.RemoveRange(0, SegmentSize);
            State.SealedThrough += SegmentSize;
        }
    }

    private async Task RegisterInactivityCheckAsync()
    {
        var lifecycle = options.Value;
        await this.RegisterOrUpdateReminder(InactivityReminder, lifecycle.InactivityTimeout, lifecycle.InactivityCheckPeriod);
        _inactivityCheckRegistered = true;
    }

    private async Task StopInactivityReminderAsync()
    {
        if (await this.GetReminder(InactivityReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private static string FormatDuration(TimeSpan duration) =>
        duration.TotalHours >= 1 && duration.Minutes == 0 && duration.Seconds == 0 ? $"{duration.TotalHours:0} h"
        : duration.TotalMinutes >= 1 && duration.Seconds == 0 ? $"{duration.TotalMinutes:0} min"
        : $"{duration.TotalSeconds:0} s";

    private void SetDeliveryTarget(IConversationObserver target) => State.DeliveryTarget = target;

    /// <summary>
    /// One customer message while the bot owns the conversation: the bot answers, the signal
    /// detector reads the message, and the ownership policy decides whether a human takes over and
    /// why. The grain records the decision (ledger, history) and carries it out; the rules live in
    /// <see cref="OwnershipPolicy"/>. While a queue or an agent owns the conversation, the bot is silent.
    /// </summary>
    private async Task TakeTurnAsync(string customerText, long customerSequence, DateTimeOffset now, ImmutableArray<TimelineEntry>.Builder produced)
    {
        var customer = new CustomerFacts(State.CustomerTier, State.CustomerPrefersHumans, [.. State.EarlierIntents]);
        var fallbackSkill = State.LastSkill is { } last && catalog.Skills.Contains(last) ? last : catalog.DefaultSkill;
        var (reply, signals, facts, decision, history) = await judge.JudgeAsync(
            customerText, State.Language, State.History ?? TurnHistory.Empty, customer, fallbackSkill, now);
        var turn = facts.Bot;
        State.History = history;
        Remember(reply, turn, signals, now);
        if (signals.PrefersHumans && !State.CustomerPrefersHumans)
        {
            // Remembered for the customer's next conversations too.
            await GrainFactory.Get<ICustomerGrain>(State.CustomerKey).PrefersHumans(now);
            State.CustomerPrefersHumans = true;
        }

        var answer = new BotAnswerInfo(reply.IntentId, reply.Confidence, reply.Understood, reply.Language);
        LogBotAnswered(Id, reply.IntentId, reply.Confidence, reply.Understood);
        if (!decision.HandOver)
        {
            produced.Add(Append(new ChatMessageBody(SenderKind.Bot, null, reply.Text, null, answer), now));
            if (reply.Understood)
            {
                State.BotAnsweredTurns++;
            }

            return;
        }

        // Handing over, the bot does not give its self-service answer (wrong, or not what this
        // customer needs now): it says, in their language, that an adviser is taking over.
        // The customer's language: what the bot understood them in, else what is known of them (a
        // one-word "agent" tells the bot little about the language).
        var language = State.Language ?? reply.Language;
        if (decision.ReasonCodes.Contains(OwnershipReasons.CopilotIntent))
        {
            // The answer the bot withholds becomes the agent's first draft.
            OfferDraft(reply, customerSequence, now);
        }

        var text = turn.AskedForHuman && reply.Understood && decision.MainReason == OwnershipReasons.CustomerAskedForHuman
            ? reply.Text
            : CustomerNotices.Handover(decision.MainReason!, language);
        produced.Add(Append(new ChatMessageBody(SenderKind.Bot, null, text, null, answer), now));
        var queueKey = GrainKeys.Queue(decision.Skill!, catalog.ResolveLanguage(language));
        produced.Add(await EnqueueAsync(queueKey, decision.Priority, now, decision.MainReason!, OwnershipExplanation.Describe(decision, State),
            preferredAgentId: null, "Queued", decision: decision));
        LogHandedOver(Id, string.Join(",", decision.ReasonCodes), queueKey);
    }

    /// <summary>
    /// While a human has the conversation, the bot drafts a reply to each customer message about a
    /// copilot intent; the agent sends it as is, edits it, or discards it.
    /// </summary>
    private async Task DraftForAgentAsync(string customerText, long customerSequence, DateTimeOffset now)
    {
        if (State.LastIntent is not { } intent || levels.LevelOf(intent) != AutomationLevel.Copilot)
        {
            return;
        }

        var reply = await bot.ReplyAsync(new BotRequest(customerText, State.Language));
        OfferDraft(reply, customerSequence, now);
    }

    private void OfferDraft(BotReply reply, long customerSequence, DateTimeOffset now)
    {
        if (!CopilotDrafting.ShouldDraft(reply, reply.IntentId is { } intent ? levels.LevelOf(intent) : AutomationLevel.Autonomous, routing.Value.HumanRequestIntent))
        {
            return;
        }

        // A newer draft replaces one the agent left alone: that one was not used.
        EndDraft(DraftFate.Discarded, now);
        State.DraftsMade++;
        State.Draft = new CopilotDraft($"{Id}/d{State.DraftsMade}", customerSequence, reply.Text, reply.IntentId!, reply.Confidence);
    }

    /// <summary>The metrics of one stored customer message: it, the bot's answers, a handoff.</summary>
    private void RecordTurn(ImmutableArray<TimelineEntry> entries, long customerSequence, int ledgerBefore)
    {
        metrics.MessageReceived(State.Channel);
        foreach (var entry in entries)
        {
            if (entry.Sequence > customerSequence && entry.Message is { Sender: SenderKind.Bot } bot)
            {
                metrics.MessageSent(State.Channel, SenderKind.Bot);
                metrics.BotAnswered(bot.Bot?.IntentId, bot.Bot?.Understood ?? false);
            }
        }

        for (var i = ledgerBefore; i < State.Ledger.Count; i++)
        {
            if (State.Ledger[i] is { From.Kind: OwnerKind.Bot, To.Kind: OwnerKind.Queue } handoff)
            {
                metrics.HandedOff(handoff.ReasonCode);
            }
        }
    }

    /// <summary>What the conversation keeps of the bot's answer: the customer's language, the topics answered, the misses.</summary>
    private void Remember(BotReply reply, BotTurn turn, TurnSignals signals, DateTimeOffset now)
    {
        if (!reply.Understood)
        {
            if (!signals.IsSmallTalk)
            {
                State.BotMisses++;
            }

            return;
        }

        State.Language = reply.Language;
        if (turn.AskedForHuman || reply.IntentId is not { } intent)
        {
            return;
        }

        State.LastIntent = intent;
        State.LastSkill = reply.Skill;
        if (!State.IntentsAnswered.Contains(intent) && State.IntentsAnswered.Count < 10)
        {
            State.IntentsAnswered.Add(intent);

            // The customer learns of it when the conversation closes (see Close), or from this
            // conversation if another one starts meanwhile (GetAnsweredIntents): no call per intent.
            State.IntentAnsweredAt[intent] = now;

            // The customer is back about what an earlier conversation settled: that conversation
            // counts it against whoever resolved it (one-way, once).
            if (RepeatContacts.FindEarlier(State.EarlierIntents, intent, Id, now, RepeatContacts.DefaultWindow) is { } earlier)
            {
                _ = GrainFactory.Get<IConversationGrain>(earlier.ConversationId).CountRepeatContact(intent);
            }
        }
    }

    /// <summary>
    /// Puts the conversation in a queue and makes the queue its owner; returns the QUEUED entry that
    /// tells the customer their place (<paramref name="notice"/> names its text). Runs inside a
    /// commit: if storing fails afterwards, the queue holds a conversation that does not name it,
    /// which an agent's accept then finds and refuses.
    /// </summary>
    private async Task<TimelineEntry> EnqueueAsync(
        string queueKey, int priority, DateTimeOffset waitingSince, string reasonCode, string reason, string? preferredAgentId, string notice,
        string? excludedAgentId = null, OwnershipDecision? decision = null)
    {
        // Before the call: the queue may offer the conversation at once, and the agent reads this context.
        State.QueueKey = queueKey;
        State.WaitingSince = waitingSince;
        State.HandoffReasonCode = reasonCode;
        State.HandoffReason = reason;
        State.HandoffReasonCodes = decision is null ? [reasonCode] : [.. decision.ReasonCodes];
        State.HandoffSignals = decision?.Signals;
        ChangeOwner(new Owner(OwnerKind.Queue, queueKey), reasonCode, reason, decision);
        var placement = await Queue(queueKey).Enqueue(new QueueRequest(Id, State.Channel, priority, waitingSince, reasonCode, preferredAgentId, excludedAgentId));

        // Nobody who serves the queue is signed in: the customer is told so, not left guessing.
        var nobody = placement.AgentsSignedIn == 0 && notice == "Queued";
        return Append(QueuedStatus(placement, nobody ? "QueuedNobodySignedIn" : notice), time.GetUtcNow());
    }

    private StatusBody QueuedStatus(QueuePlacement placement, string notice)
    {
        var (wait, waitSeconds) = CustomerNotices.Wait(placement.EstimatedWait, State.Language);
        return new StatusBody(StatusKind.Queued, CustomerNotices.Get(notice, State.Language, placement.Position, wait), placement.Position, waitSeconds);
    }

    public Task<HandoffContext> GetHandoffContext()
    {
        var recent = State.RecentEntries;
        var last = recent.Skip(Math.Max(0, recent.Count - HandoffEntries)).ToImmutableArray();
        var summary = (State.IntentsAnswered.Count == 0 ? "The bot answered no known topic" : $"The bot answered: {string.Join(", ", State.IntentsAnswered)}")
            + (State.BotMisses == 0 ? "; it understood every message." : $"; it did not understand {State.BotMisses} message(s).");
        return Task.FromResult(new HandoffContext(
            Id, State.Channel, State.CustomerKey, State.CustomerName, State.Language, State.CustomerTier, State.PreviousContacts,
            State.QueueKey ?? "", State.HandoffReasonCode, State.HandoffReason, summary, last, State.LastSequence, State.Owner, State.Status,
            [.. State.HandoffReasonCodes], State.HandoffSignals, State.Draft));
    }

    public async Task<HandoffContext> AssignAgent(string agentId, string agentName)
    {
        var agent = new Owner(OwnerKind.Agent, agentId);
        if (State.Owner == agent)
        {
            return await GetHandoffContext(); // a retried accept
        }

        if (State.Status != ConversationStatus.Open)
        {
            throw new RequestRejectedException(RejectionCode.FailedPrecondition, $"Conversation {Id} is closed: the customer left.");
        }

        if (State.Owner.Kind != OwnerKind.Queue)
        {
            throw new RequestRejectedException(RejectionCode.FailedPrecondition,
                $"Conversation {Id} is not waiting for an agent (its owner is {State.Owner}).");
        }

        var now = time.GetUtcNow();
        TimelineEntry? joined = null;
        await CommitAsync(() =>
        {
            var waited = State.WaitingSince is { } since ? $" after {FormatDuration(TimeSpan.FromSeconds(Math.Round((now - since).TotalSeconds)))} waiting" : "";
            ChangeOwner(agent, OwnershipReasons.OfferAccepted, $"{agentName} accepted the offer from queue {State.Owner.Id}{waited}.");
            State.WaitingSince = null;
            joined = Append(new StatusBody(StatusKind.AgentJoined, CustomerNotices.Get("AgentJoined", State.Language, agentName), AgentName: agentName), now);
        });
        Push([joined!]);
        LogAssigned(Id, agentId);
        return await GetHandoffContext();
    }

    public async Task<TimelineEntry> PostAgentMessage(string agentId, string messageId, string text, string? draftId)
    {
        RequireOwnedBy(agentId);
        // Message ids are desktop-assigned, so only unique per agent: the key names the agent, or the
        // next agent after a transfer reusing an id (every desktop numbers from 1) would have its
        // message silently dropped and be answered with the previous agent's. Their own index, so
        // no adapter id can ever collide with them.
        var key = $"{agentId}:{messageId}";
        if (State.RecentAgentMessageIds.TryFind(key, out var original))
        {
            var page = await GetTimeline(State.Channel, original - 1, 1, CancellationToken.None);
            return page.Entries[0];
        }

        if (InboundValidation.CheckText(text) is { } problem)
        {
            throw new RequestRejectedException(RejectionCode.InvalidArgument, problem);
        }

        if (draftId is not null && State.Draft?.DraftId != draftId)
        {
            throw new RequestRejectedException(RejectionCode.FailedPrecondition,
                $"Draft '{draftId}' is not the conversation's current draft (a newer message replaced it, or it was used): send without it.");
        }

        var now = time.GetUtcNow();
        TimelineEntry? entry = null;
        await CommitAsync(() =>
        {
            entry = Append(new ChatMessageBody(SenderKind.Agent, agentId, text, messageId, null), now);
            State.RecentAgentMessageIds.Remember(key, entry.Sequence, RememberedMessageIds);
            EndDraft(State.Draft is { } draft && draftId is not null ? CopilotDrafting.FateOf(draft, text) : DraftFate.Discarded, now);
        });
        Push([entry!]);
        metrics.MessageSent(State.Channel, SenderKind.Agent);
        return entry!;
    }

    public async Task DiscardDraft(string agentId, string draftId)
    {
        RequireOwnedBy(agentId);
        if (State.Draft?.DraftId == draftId)
        {
            await CommitAsync(() => EndDraft(DraftFate.Discarded, time.GetUtcNow()));
        }
    }

    public async Task Transfer(string agentId, TransferTarget target, string note)
    {
        RequireOwnedBy(agentId);
        var now = time.GetUtcNow();
        var named = target.AgentId;
        var queueKey = named is null
            ? GrainKeys.Queue(target.Skill!, target.Language ?? catalog.ResolveLanguage(State.Language))
            : State.QueueKey ?? GrainKeys.Queue(catalog.DefaultSkill, catalog.ResolveLanguage(State.Language));
        var reason = $"Transferred by agent {agentId} to {(named is null ? $"queue {queueKey}" : $"agent {named}")}"
            + (string.IsNullOrWhiteSpace(note) ? "." : $": {note}");
        var priority = Math.Max(QueuePriority.Transfer, State.CustomerTier == CustomerTier.Vip ? QueuePriority.Vip : QueuePriority.Normal);
        TimelineEntry? queued = null;
        await CommitAsync(async () =>
        {
            queued = await EnqueueAsync(queueKey, priority, now, OwnershipReasons.Transferred, reason, named,
                "Transferred", excludedAgentId: agentId);
        });
        Push([queued!]);
    }

    public async Task Resolve(string agentId, string wrapUpCode, string note)
    {
        RequireOwnedBy(agentId);
        var reason = $"Resolved by agent {agentId} ({wrapUpCode})" + (string.IsNullOrWhiteSpace(note) ? "." : $": {note}");
        await CloseAsync(OwnershipReasons.Resolved, reason, new StatusBody(StatusKind.Resolved, CustomerNotices.Get("Resolved", State.Language)));
    }

    public async Task HandBack(string agentId, string note)
    {
        RequireOwnedBy(agentId);
        var now = time.GetUtcNow();
        TimelineEntry? resumed = null;
        await CommitAsync(() =>
        {
            EndDraft(DraftFate.Discarded, now);
            ChangeOwner(Owner.Bot, OwnershipReasons.HandedBack,
                $"Agent {agentId} handed the conversation back to the bot" + (string.IsNullOrWhiteSpace(note) ? "." : $": {note}"));
            resumed = Append(new StatusBody(StatusKind.BotResumed, CustomerNotices.Get("BotResumed", State.Language)), now);
        });
        Push([resumed!]);
    }

    public async Task ReturnToQueue(string agentId, string reasonCode, string reason)
    {
        if (State.Status != ConversationStatus.Open || State.Owner != new Owner(OwnerKind.Agent, agentId))
        {
            return; // already moved on: nothing to return
        }

        var now = time.GetUtcNow();
        var queueKey = State.QueueKey ?? GrainKeys.Queue(catalog.DefaultSkill, catalog.ResolveLanguage(State.Language));
        TimelineEntry? queued = null;
        await CommitAsync(async () =>
        {
            var notice = reasonCode == OwnershipReasons.AgentDisconnected ? "ReturnedAdviserDisconnected" : "ReturnedAdviserLeft";
            queued = await EnqueueAsync(queueKey, QueuePriority.Returned, now, reasonCode, reason, preferredAgentId: null, notice);
        });
        Push([queued!]);
    }

    public async Task OnQueuePlaceChanged(QueuePlacement placement)
    {
        if (State.Status != ConversationStatus.Open || State.Owner != new Owner(OwnerKind.Queue, placement.QueueKey))
        {
            return; // answered or gone meanwhile
        }

        TimelineEntry? moved = null;
        await CommitAsync(() => moved = Append(QueuedStatus(placement, "MovedUp"), time.GetUtcNow()));
        Push([moved!]);
    }

    public Task<SupervisionView?> Supervise()
    {
        if (State.Status == ConversationStatus.None)
        {
            return Task.FromResult<SupervisionView?>(null);
        }

        var recent = State.RecentEntries;
        return Task.FromResult<SupervisionView?>(new SupervisionView(Summary(), State.Status, [.. State.Ledger],
            [.. recent.Skip(Math.Max(0, recent.Count - HandoffEntries))]));
    }

    public async Task<HandoffContext> TakeOver(string supervisorId, string supervisorName, string reason)
    {
        var supervisor = new Owner(OwnerKind.Agent, supervisorId);
        if (State.Owner == supervisor)
        {
            return await GetHandoffContext(); // a retried take-over
        }

        RequireOpenForSupervisor();
        var now = time.GetUtcNow();
        var previousOwner = State.Owner;
        TimelineEntry? joined = null;
        await CommitAsync(() =>
        {
            ChangeOwner(supervisor, OwnershipReasons.SupervisorTookOver, $"Supervisor {supervisorId} took the conversation over from {Describe(previousOwner)}: {reason}");
            State.WaitingSince = null;
            State.HandoffReasonCode = OwnershipReasons.SupervisorTookOver;
            State.HandoffReason = reason;
            State.HandoffReasonCodes = [OwnershipReasons.SupervisorTookOver];
            State.HandoffSignals = null;
            joined = Append(new StatusBody(StatusKind.AgentJoined, CustomerNotices.Get("AgentJoined", State.Language, supervisorName), AgentName: supervisorName), now);
        });
        Push([joined!]);
        await LetGoOfAsync(previousOwner, $"Supervisor {supervisorId} took the conversation over: {reason}");
        return await GetHandoffContext();
    }

    public async Task SendToQueue(string supervisorId, string? skill, string? language, string reason)
    {
        RequireOpenForSupervisor();
        var queueKey = GrainKeys.Queue(
            skill ?? (State.QueueKey is { } last ? GrainKeys.SplitQueue(last).Skill : State.LastSkill is { } known && catalog.Skills.Contains(known) ? known : catalog.DefaultSkill),
            language ?? catalog.ResolveLanguage(State.Language));
        if (State.Owner == new Owner(OwnerKind.Queue, queueKey))
        {
            return; // already waiting there
        }

        var now = time.GetUtcNow();
        var previousOwner = State.Owner;
        var produced = ImmutableArray.CreateBuilder<TimelineEntry>(2);
        await CommitAsync(async () =>
        {
            if (previousOwner.Kind == OwnerKind.Bot)
            {
                produced.Add(Append(new ChatMessageBody(SenderKind.Bot, null, CustomerNotices.Handover(OwnershipReasons.SentToQueueBySupervisor, State.Language), null, null), now));
            }

            var priority = Math.Max(QueuePriority.EscalatedAfterBotFailure, State.CustomerTier == CustomerTier.Vip ? QueuePriority.Vip : QueuePriority.Normal);
            produced.Add(await EnqueueAsync(queueKey, priority, State.WaitingSince ?? now, OwnershipReasons.SentToQueueBySupervisor,
                $"Supervisor {supervisorId} sent the conversation from {Describe(previousOwner)} to queue {queueKey}: {reason}", preferredAgentId: null,
                previousOwner.Kind == OwnerKind.Agent ? "Transferred" : "Queued"));
        });
        Push(produced.DrainToImmutable());
        if (previousOwner.Kind == OwnerKind.Queue && previousOwner.Id != queueKey)
        {
            await Queue(previousOwner.Id!).Remove(Id, QueueExit.MovedBySupervisor);
        }
        else if (previousOwner.Kind == OwnerKind.Agent)
        {
            TellAgent(previousOwner.Id!, agent => agent.OnConversationEnded(Id, ConversationNoticeKind.ReturnedToQueue, $"A supervisor sent it to queue {queueKey}: {reason}"));
        }
    }

    /// <summary>After a supervisor took the conversation: its queue forgets it, its agent is told.</summary>
    private async Task LetGoOfAsync(Owner previousOwner, string detail)
    {
        if (previousOwner.Kind == OwnerKind.Queue)
        {
            await Queue(previousOwner.Id!).Remove(Id, QueueExit.TakenBySupervisor);
        }
        else if (previousOwner.Kind == OwnerKind.Agent)
        {
            TellAgent(previousOwner.Id!, agent => agent.OnConversationEnded(Id, ConversationNoticeKind.TakenOver, detail));
        }
    }

    private void RequireOpenForSupervisor()
    {
        if (State.Status == ConversationStatus.None)
        {
            throw new RequestRejectedException(RejectionCode.NotFound, $"Conversation '{Id}' was not found.");
        }

        if (State.Status != ConversationStatus.Open)
        {
            throw new RequestRejectedException(RejectionCode.FailedPrecondition, $"Conversation '{Id}' is closed.");
        }
    }

    private static string Describe(Owner owner) => owner.Kind switch
    {
        OwnerKind.Bot => "the bot",
        OwnerKind.Queue => $"queue {owner.Id}",
        OwnerKind.Agent => $"agent {owner.Id}",
        _ => "nobody",
    };

    private void RequireOwnedBy(string agentId)
    {
        if (State.Status != ConversationStatus.Open)
        {
            throw new RequestRejectedException(RejectionCode.FailedPrecondition, $"Conversation {Id} is closed.");
        }

        if (State.Owner != new Owner(OwnerKind.Agent, agentId))
        {
            throw new RequestRejectedException(RejectionCode.PermissionDenied, $"Conversation {Id} is not assigned to agent {agentId} (its owner is {State.Owner}).");
        }
    }

    /// <summary>
    /// Tells the owning agent something without waiting for it (a conversation never waits on an
    /// agent, so no waiting cycle can form). A one-way message to an agent whose silo just died is
    /// lost without a word, and nothing would wake the agent to return the conversation; this call
    /// learns of the failure and retries, and a retry re-activates the agent on a live silo, whose
    /// watch then notices the dead stream.
    /// </summary>
    private void TellAgent(string agentId, Func<IAgentGrain, Task> call)
    {
        _ = DeliverAsync();

        async Task DeliverAsync()
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await call(Agent(agentId));
                    return;
                }
                catch (Exception ex) when (attempt < AgentDeliveryAttempts)
                {
                    LogAgentDeliveryRetry(ex, Id, agentId, attempt);
                    await Task.Delay(TimeSpan.FromSeconds(attempt));
                }
                catch (Exception ex)
                {
                    LogAgentDeliveryFailed(ex, Id, agentId);
                    return;
                }
            }
        }
    }

    private IQueueGrain Queue(string key) => GrainFactory.Get<IQueueGrain>(key);

    private IAgentGrain Agent(string agentId) => GrainFactory.Get<IAgentGrain>(agentId);

    private TimelineEntry Append(ChatMessageBody message, DateTimeOffset now) => Append(new TimelineEntry(Id, State.LastSequence + 1, now, message, null));

    private TimelineEntry Append(StatusBody status, DateTimeOffset now) => Append(new TimelineEntry(Id, State.LastSequence + 1, now, null, status));

    private TimelineEntry Append(TimelineEntry entry)
    {
        State.RecentEntries.Add(entry);
        return entry;
    }

    private void ChangeOwner(Owner to, string reasonCode, string reason, OwnershipDecision? decision = null)
    {
        State.Ledger.Add(new OwnershipChange(time.GetUtcNow(), State.Owner, to, reasonCode, reason,
            decision is null ? [reasonCode] : decision.ReasonCodes, decision?.Signals));
        State.Owner = to;
    }

    /// <summary>
    /// Sends entries that no caller received in a response to the delivery target: the adapter
    /// connection that last sent or resumed here. One-way, so a connection that is gone cannot hold
    /// up the conversation; an adapter that lost its connection resumes from its last sequence.
    /// </summary>
    private void Push(ImmutableArray<TimelineEntry> entries)
    {
        if (State.DeliveryTarget is { } target)
        {
            _ = target.OnEntries(Id, entries);
        }
    }

    // A conversation is invisible to other channels: an adapter cannot read or write another channel's traffic.
    private bool IsVisibleTo(string channel) => State.Status != ConversationStatus.None && State.Channel == channel;

    private string NotFoundMessage(string channel) => $"Conversation '{Id}' was not found on channel '{channel}'.";

    private ConversationSnapshot Snapshot() => new(
        Id, State.Channel, State.ExternalThreadId, State.CustomerKey, State.Status, State.Owner,
        State.LastSequence, State.StartedAt, [.. State.Ledger]);

    private ConversationSnapshot NotStartedSnapshot() => new(Id, "", "", "", ConversationStatus.None, Owner.Nobody, 0, default, []);

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    [LoggerMessage(Level = LogLevel.Debug, Message = "Conversation {ConversationId} started on {Channel}:{ThreadId} for {CustomerKey}")]
    private partial void LogStarted(string conversationId, string channel, string threadId, string customerKey);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Conversation {ConversationId}: bot answered intent {IntentId} at {Confidence:F2} (understood: {Understood})")]
    private partial void LogBotAnswered(string conversationId, string? intentId, double confidence, bool understood);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {ConversationId}: telling agent {AgentId} failed (attempt {Attempt}); retrying")]
    private partial void LogAgentDeliveryRetry(Exception exception, string conversationId, string agentId, int attempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Conversation {ConversationId}: could not tell agent {AgentId}; its desktop re-syncs on reconnect")]
    private partial void LogAgentDeliveryFailed(Exception exception, string conversationId, string agentId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Conversation {ConversationId} assigned to agent {AgentId}")]
    private partial void LogAssigned(string conversationId, string agentId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Conversation {ConversationId}: the bot handed over ({ReasonCodes}) to {Queue}")]
    private partial void LogHandedOver(string conversationId, string reasonCodes, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {ConversationId}: could not read the intents of the customer's open conversation {EarlierId}; repeat contacts are checked without them")]
    private partial void LogEarlierIntentsUnread(Exception exception, string conversationId, string earlierId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {ConversationId}: could not put it on the review list; a retried close tries again")]
    private partial void LogReviewNotFiled(Exception exception, string conversationId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Conversation {ConversationId} closed ({ReasonCode})")]
    private partial void LogClosed(string conversationId, string reasonCode);
}
