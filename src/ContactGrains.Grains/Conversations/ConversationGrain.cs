using System.Collections.Immutable;
using ContactGrains.Bot;
using ContactGrains.Contracts;
using Microsoft.Extensions.Logging;

namespace ContactGrains.Grains.Conversations;

/// <summary>
/// Holds one conversation and decides, turn by turn, who answers the customer. Every owner change
/// is appended to the ledger with its reason; every message and status change to the timeline.
/// </summary>
public sealed partial class ConversationGrain(
    [PersistentState("conversation", StorageNames.Default)] IPersistentState<ConversationState> state,
    IBot bot,
    TimeProvider time,
    ILogger<ConversationGrain> logger) : Grain, IConversationGrain
{
    private ConversationState State => state.State;

    // The adapter connection that last sent or resumed on this conversation. In memory only: a
    // connection re-registers with every message it sends, and an adapter that reconnects resumes.
    private IConversationObserver? _deliveryTarget;

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
        State.Status = ConversationStatus.Open;
        State.Channel = command.Channel;
        State.ExternalThreadId = command.ExternalThreadId;
        State.CustomerKey = GrainKeys.Customer(command.Channel, command.Customer.ExternalCustomerId);
        State.StartedAt = now;

        var customer = GrainFactory.GetGrain<ICustomerGrain>(State.CustomerKey);
        var profile = await customer.ConversationStarted(Id, command.Customer, now);
        State.Language = NullIfEmpty(command.Customer.Language) ?? profile.Language;

        ChangeOwner(Owner.Bot, OwnershipReasons.NewConversation,
            "New conversations start with the bot: it answers what it knows and hands over when it cannot.");
        Append(new StatusBody(StatusKind.Started, null), now);
        await state.WriteStateAsync();

        LogStarted(Id, State.Channel, State.ExternalThreadId, State.CustomerKey);
        return Snapshot();
    }

    public async Task<InboundResult> ReceiveCustomerMessage(CustomerMessage message, IConversationObserver? deliverTo)
    {
        if (!IsVisibleTo(message.Channel))
        {
            return InboundResult.Rejected(Id, RejectionCode.NotFound, NotFoundMessage(message.Channel));
        }

        if (deliverTo is not null)
        {
            _deliveryTarget = deliverTo;
        }

        // A resend is answered from the index before anything else, also once the conversation is closed.
        if (State.AdapterMessageIds.TryGetValue(message.AdapterMessageId, out var original))
        {
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
        var produced = ImmutableArray.CreateBuilder<TimelineEntry>(State.Timeline.Count + 2);
        if (State.AdapterMessageIds.Count == 0)
        {
            // The first message opened the conversation for the adapter: it is owed the opening too.
            produced.AddRange(State.Timeline);
        }

        var customerEntry = Append(new ChatMessageBody(SenderKind.Customer, null, message.Text, message.AdapterMessageId, null), now);
        State.AdapterMessageIds[message.AdapterMessageId] = customerEntry.Sequence;
        produced.Add(customerEntry);

        await TakeTurnAsync(message.Text, now, produced);

        await state.WriteStateAsync();
        return new InboundResult(InboundOutcome.Accepted, Id, customerEntry.Sequence, State.LastSequence, produced.DrainToImmutable(), null);
    }

    public Task<TimelinePage> Resume(string channel, long afterSequence, IConversationObserver deliverTo)
    {
        if (IsVisibleTo(channel))
        {
            _deliveryTarget = deliverTo;
        }

        return GetTimeline(channel, afterSequence, ConversationLimits.MaxPageSize);
    }

    public Task<TimelinePage> GetTimeline(string channel, long afterSequence, int maxEntries)
    {
        if (!IsVisibleTo(channel))
        {
            return Task.FromResult(new TimelinePage([], 0, new Rejection(RejectionCode.NotFound, NotFoundMessage(channel))));
        }

        if (afterSequence < 0)
        {
            return Task.FromResult(new TimelinePage([], State.LastSequence, new Rejection(RejectionCode.InvalidArgument, "after_sequence cannot be negative.")));
        }

        var count = (int)Math.Clamp(State.LastSequence - afterSequence, 0, Math.Clamp(maxEntries, 1, ConversationLimits.MaxPageSize));
        var entries = count == 0
            ? ImmutableArray<TimelineEntry>.Empty
            : [.. State.Timeline.GetRange((int)afterSequence, count)];
        return Task.FromResult(new TimelinePage(entries, State.LastSequence, null));
    }

    public async Task<ConversationSnapshot> Close(string channel, string reasonCode, string reason)
    {
        if (!IsVisibleTo(channel))
        {
            return NotStartedSnapshot();
        }

        if (State.Status == ConversationStatus.Closed)
        {
            return Snapshot();
        }

        var now = time.GetUtcNow();
        State.Status = ConversationStatus.Closed;
        State.ClosedAt = now;
        ChangeOwner(Owner.Nobody, reasonCode, reason);
        var closed = Append(new StatusBody(StatusKind.Closed, reason), now);
        await state.WriteStateAsync();

        await GrainFactory.GetGrain<ICustomerGrain>(State.CustomerKey).ConversationClosed(Id, reasonCode, now);
        Push([closed]);
        LogClosed(Id, reasonCode);
        return Snapshot();
    }

    public Task<ConversationSnapshot> GetSnapshot() => Task.FromResult(Snapshot());

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
        State.Timeline.Add(entry);
        return entry;
    }

    private void ChangeOwner(Owner to, string reasonCode, string reason)
    {
        State.Ledger.Add(new OwnershipChange(time.GetUtcNow(), State.Owner, to, reasonCode, reason));
        State.Owner = to;
    }

    /// <summary>Sends entries that no caller received in a response to the current delivery target.</summary>
    private void Push(ImmutableArray<TimelineEntry> entries)
    {
        if (_deliveryTarget is null)
        {
            return;
        }

        try
        {
            // One-way: a connection that is gone must not hold up the conversation.
            _ = _deliveryTarget.OnEntries(Id, entries);
        }
        catch (Exception ex)
        {
            LogPushFailed(ex, Id);
            _deliveryTarget = null;
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {ConversationId}: push to its delivery target failed; the adapter will catch up when it resumes")]
    private partial void LogPushFailed(Exception exception, string conversationId);
}
