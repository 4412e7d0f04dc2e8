using System.Collections.Immutable;
using ContactGrains.Bot;
using ContactGrains.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ContactGrains.Grains.Conversations;

/// <summary>
/// Holds one conversation and decides, turn by turn, who answers the customer. Every owner change
/// is appended to the ledger with its reason; every message and status change to the timeline.
/// </summary>
public sealed partial class ConversationGrain(
    [PersistentState("conversation", StorageNames.Default)] IPersistentState<ConversationState> state,
    IBot bot,
    TimeProvider time,
    IOptions<ConversationOptions> options,
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

    private ConversationState State => state.State;

    private string Id => this.GetPrimaryKeyString();

    public async Task<ConversationSnapshot> Start(StartConversation command)
    {
        if (State.Status != ConversationStatus.None)
        {
            if (State.Channel != command.Channel || State.ExternalThreadId != command.ExternalThreadId)
            {
                throw new InvalidOperationException(
                    $"Conversation {Id} belongs to {State.Channel}:{State.ExternalThreadId}, not {command.Channel}:{command.ExternalThreadId}.");
            }

            return Snapshot();
        }

        var now = time.GetUtcNow();
        var customerKey = GrainKeys.Customer(command.Channel, command.Customer.ExternalCustomerId);

        // Idempotent on the customer's side, so a retry after a failure below is safe.
        var profile = await GrainFactory.GetGrain<ICustomerGrain>(customerKey).ConversationStarted(Id, command.Customer, now);

        await CommitAsync(() =>
        {
            State.Status = ConversationStatus.Open;
            State.Channel = command.Channel;
            State.ExternalThreadId = command.ExternalThreadId;
            State.CustomerKey = customerKey;
            State.StartedAt = now;
            State.Language = NullIfEmpty(command.Customer.Language) ?? profile.Language;
            ChangeOwner(Owner.Bot, OwnershipReasons.NewConversation,
                "New conversations start with the bot: it answers what it knows and hands over when it cannot.");
            Append(new StatusBody(StatusKind.Started, null), now);
            return Task.CompletedTask;
        });

        var lifecycle = options.Value;
        await this.RegisterOrUpdateReminder(InactivityReminder, lifecycle.InactivityTimeout, lifecycle.InactivityCheckPeriod);
        LogStarted(Id, State.Channel, State.ExternalThreadId, State.CustomerKey);
        return Snapshot();
    }

    public async Task<InboundResult> ReceiveCustomerMessage(CustomerMessage message, IConversationObserver? deliverTo)
    {
        if (!IsVisibleTo(message.Channel))
        {
            return InboundResult.Rejected(Id, RejectionCode.NotFound, NotFoundMessage(message.Channel));
        }

        // A resend is answered from the index before anything else, also once the conversation is closed.
        if (State.RecentMessageIds.TryGetValue(MessageIdHash.Of(message.AdapterMessageId), out var original))
        {
            if (deliverTo is not null && !deliverTo.Equals(State.DeliveryTarget))
            {
                await CommitAsync(() => SetDeliveryTarget(deliverTo));
            }

            return new InboundResult(InboundOutcome.Duplicate, Id, original, State.LastSequence, [], null);
        }

        if (State.Status == ConversationStatus.Closed)
        {
            return InboundResult.Rejected(Id, RejectionCode.Closed, $"Conversation {Id} is closed; new messages on its thread start a new conversation.");
        }

        if (InboundValidation.CheckText(message.Text) is { } problem)
        {
            return InboundResult.Rejected(Id, RejectionCode.InvalidArgument, problem);
        }

        var now = time.GetUtcNow();
        var produced = ImmutableArray.CreateBuilder<TimelineEntry>(State.RecentEntries.Count + 2);
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
            RememberMessageId(message.AdapterMessageId, customerSequence);
            produced.Add(customerEntry);
            if (deliverTo is not null)
            {
                await SetDeliveryTarget(deliverTo);
            }

            await TakeTurnAsync(message.Text, now, produced);
        });

        return new InboundResult(InboundOutcome.Accepted, Id, customerSequence, State.LastSequence, produced.DrainToImmutable(), null);
    }

    public async Task<TimelinePage> Resume(string channel, long afterSequence, IConversationObserver deliverTo)
    {
        var page = await GetTimeline(channel, afterSequence, ConversationLimits.MaxPageSize);
        if (page.Rejection is null && !deliverTo.Equals(State.DeliveryTarget))
        {
            await CommitAsync(() => SetDeliveryTarget(deliverTo));
        }

        return page;
    }

    public async Task<TimelinePage> GetTimeline(string channel, long afterSequence, int maxEntries)
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
            var segment = await GrainFactory.GetGrain<IConversationSegmentGrain>(GrainKeys.Segment(Id, (next - 1) / SegmentSize)).Read();
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

    public Task<ConversationSnapshot> Close(string channel, string reasonCode, string reason) =>
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
            if (time.GetUtcNow() - quietSince < timeout)
            {
                return;
            }

            await CloseAsync(OwnershipReasons.Inactive, $"No message from the customer for {FormatDuration(timeout)}: closed automatically.");
            return;
        }

        // Closed or never started (a reminder left over from a failed start): nothing more to watch.
        await StopInactivityReminderAsync();
    }

    private async Task<ConversationSnapshot> CloseAsync(string reasonCode, string reason)
    {
        var now = time.GetUtcNow();
        if (State.Status != ConversationStatus.Closed)
        {
            TimelineEntry? closed = null;
            await CommitAsync(() =>
            {
                State.Status = ConversationStatus.Closed;
                State.ClosedAt = now;
                ChangeOwner(Owner.Nobody, reasonCode, reason);
                closed = Append(new StatusBody(StatusKind.Closed, reason), now);
                return Task.CompletedTask;
            });
            Push([closed!]);
            LogClosed(Id, reasonCode);
            await StopInactivityReminderAsync();
        }

        // Also on a repeated close: a retry after this call failed must still reach the customer.
        await GrainFactory.GetGrain<ICustomerGrain>(State.CustomerKey).ConversationClosed(Id, State.Ledger[^1].ReasonCode, State.ClosedAt ?? now);
        return Snapshot();
    }

    public Task<ConversationSnapshot> GetSnapshot() => Task.FromResult(Snapshot());

    /// <summary>
    /// Applies a change to the state and stores it. If anything fails on the way, the in-memory state
    /// is reloaded from storage, so the activation never acts on a change that was not stored (a resend
    /// must not be mistaken for a duplicate of a message that was never kept).
    /// </summary>
    private async Task CommitAsync(Func<Task> change)
    {
        try
        {
            await change();
            await SealFullSegmentsAsync();
            await state.WriteStateAsync();
        }
        catch (Exception ex)
        {
            LogCommitFailed(ex, Id);
            try
            {
                await state.ReadStateAsync();
            }
            catch (Exception reloadFailure)
            {
                // Cannot tell what is stored: let a fresh activation read it.
                LogCommitFailed(reloadFailure, Id);
                DeactivateOnIdle();
            }

            throw;
        }
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
            await GrainFactory.GetGrain<IConversationSegmentGrain>(GrainKeys.Segment(Id, index)).Seal(block);
            State.RecentEntries.RemoveRange(0, SegmentSize);
            State.SealedThrough += SegmentSize;
        }
    }

    private void RememberMessageId(string adapterMessageId, long sequence)
    {
        var index = State.RecentMessageIds;
        index[MessageIdHash.Of(adapterMessageId)] = sequence;
        if (index.Count > 2 * RememberedMessageIds)
        {
            // Forget the older half: adapters resend within minutes, not hundreds of messages later.
            var cutoff = index.Values.Order().ElementAt(RememberedMessageIds);
            foreach (var old in index.Where(pair => pair.Value < cutoff).Select(pair => pair.Key).ToList())
            {
                index.Remove(old);
            }
        }
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

    private Task SetDeliveryTarget(IConversationObserver target)
    {
        State.DeliveryTarget = target;
        return Task.CompletedTask;
    }

    /// <summary>
    /// The one place that decides who answers this turn. Today the bot owns every open
    /// conversation; routing to humans replaces this decision when agents arrive.
    /// </summary>
    private async Task TakeTurnAsync(string customerText, DateTimeOffset now, ImmutableArray<TimelineEntry>.Builder produced)
    {
        if (State.Owner.Kind != OwnerKind.Bot)
        {
            return;
        }

        var reply = await bot.ReplyAsync(new BotRequest(customerText, State.Language));
        if (reply.Understood)
        {
            State.Language = reply.Language;
        }

        var answer = new BotAnswerInfo(reply.IntentId, reply.Confidence, reply.Understood, reply.Language);
        produced.Add(Append(new ChatMessageBody(SenderKind.Bot, null, reply.Text, null, answer), now));
        LogBotAnswered(Id, reply.IntentId, reply.Confidence, reply.Understood);
    }

    private TimelineEntry Append(ChatMessageBody message, DateTimeOffset now) => Append(new TimelineEntry(Id, State.LastSequence + 1, now, message, null));

    private TimelineEntry Append(StatusBody status, DateTimeOffset now) => Append(new TimelineEntry(Id, State.LastSequence + 1, now, null, status));

    private TimelineEntry Append(TimelineEntry entry)
    {
        State.RecentEntries.Add(entry);
        return entry;
    }

    private void ChangeOwner(Owner to, string reasonCode, string reason)
    {
        State.Ledger.Add(new OwnershipChange(time.GetUtcNow(), State.Owner, to, reasonCode, reason));
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Conversation {ConversationId} started on {Channel}:{ThreadId} for {CustomerKey}")]
    private partial void LogStarted(string conversationId, string channel, string threadId, string customerKey);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Conversation {ConversationId}: bot answered intent {IntentId} at {Confidence:F2} (understood: {Understood})")]
    private partial void LogBotAnswered(string conversationId, string? intentId, double confidence, bool understood);

    [LoggerMessage(Level = LogLevel.Information, Message = "Conversation {ConversationId} closed ({ReasonCode})")]
    private partial void LogClosed(string conversationId, string reasonCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {ConversationId}: a change could not be stored; the activation reloads what is")]
    private partial void LogCommitFailed(Exception exception, string conversationId);
}
