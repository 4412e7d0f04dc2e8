using System.Diagnostics;
using ContactGrains.Contracts;
using ContactGrains.Grains;
using ContactGrains.Grains.Conversations;
using ContactGrains.Grains.Diagnostics;
using Proto = ContactGrains.Protos.V1;

namespace ContactGrains.Silo.Channels;

/// <summary>
/// Resolves conversation addresses (id, or channel thread) and drives the conversation grains.
/// Shared by the streaming and the unary channel APIs so both behave identically.
/// </summary>
public sealed class ConversationRouter(IGrainFactory grains, ThreadDirectory threads, ChannelRateLimits limits, ContactGrainsMetrics metrics)
{
    /// <summary>
    /// Validates, routes and stores one customer message, in a span of its own (the grain calls it
    /// makes are its children) and timed from here to its ack (<c>contactgrains.ack.duration</c>).
    /// </summary>
    public async Task<InboundResult> ReceiveAsync(string channel, Proto.InboundMessage message, IConversationObserver? deliverTo, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var transport = deliverTo is null ? "unary" : "stream";
        using var activity = ContactGrainsMetrics.ActivitySource.StartActivity("contactgrains.message.receive");
        activity?.SetTag("contactgrains.channel", channel);
        activity?.SetTag("contactgrains.transport", transport);
        var outcome = "error";
        try
        {
            var result = await ReceiveCoreAsync(channel, message, deliverTo, cancellationToken);
            outcome = result.Outcome switch
            {
                InboundOutcome.Accepted => "accepted",
                InboundOutcome.Duplicate => "duplicate",
                _ => "rejected",
            };
            activity?.SetTag("contactgrains.conversation_id", result.ConversationId);
            return result;
        }
        catch (Exception ex)
        {
            // Failed in the cluster (a silo or the database unreachable, the time budget spent): the
            // caller gets UNAVAILABLE or INTERNAL; the slowest acks must not vanish from the histogram.
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }
        finally
        {
            metrics.AckSent(channel, transport, outcome, Stopwatch.GetElapsedTime(started));
            activity?.SetTag("contactgrains.outcome", outcome);
        }
    }

    // Not async: it returns the grain call's own task, so a message costs no state machine here.
    private Task<InboundResult> ReceiveCoreAsync(string channel, Proto.InboundMessage message, IConversationObserver? deliverTo, CancellationToken cancellationToken)
    {
        if (InboundValidation.CheckId(message.MessageId, "message_id") is { } badId)
        {
            return Task.FromResult(InboundResult.Rejected("", RejectionCode.InvalidArgument, badId));
        }

        message.Text = InboundText.Clean(message.Text);
        if (InboundValidation.CheckText(message.Text) is { } badText)
        {
            return Task.FromResult(InboundResult.Rejected("", RejectionCode.InvalidArgument, badText));
        }

        if (limits.TryAcquire(channel) is { } tooMany)
        {
            return Task.FromResult(new InboundResult(InboundOutcome.Rejected, "", 0, 0, [], tooMany));
        }

        var command = new CustomerMessage(channel, message.MessageId, message.Text);
        switch (message.Conversation?.AddressCase)
        {
            case Proto.ConversationAddress.AddressOneofCase.ConversationId:
                if (InboundValidation.CheckId(message.Conversation.ConversationId, "conversation.conversation_id") is { } badConversation)
                {
                    return Task.FromResult(InboundResult.Rejected("", RejectionCode.InvalidArgument, badConversation));
                }

                return Conversation(message.Conversation.ConversationId).ReceiveCustomerMessage(command, deliverTo, cancellationToken);

            case Proto.ConversationAddress.AddressOneofCase.ExternalThreadId:
                return ReceiveOnThreadAsync(channel, message, command, deliverTo, cancellationToken);

            default:
                return Task.FromResult(InboundResult.Rejected("", RejectionCode.InvalidArgument,
                    "conversation is required: set conversation.conversation_id or conversation.external_thread_id."));
        }
    }

    private async Task<InboundResult> ReceiveOnThreadAsync(
        string channel, Proto.InboundMessage message, CustomerMessage command, IConversationObserver? deliverTo, CancellationToken cancellationToken)
    {
        var threadId = message.Conversation.ExternalThreadId;
        if (InboundValidation.CheckId(threadId, "conversation.external_thread_id") is { } badThread)
        {
            return InboundResult.Rejected("", RejectionCode.InvalidArgument, badThread);
        }

        if (CheckCustomer(message.Customer) is { } badCustomer)
        {
            return InboundResult.Rejected("", RejectionCode.InvalidArgument, badCustomer);
        }

        var customer = ChannelMapping.ToDomain(message.Customer);
        var threadKey = GrainKeys.Thread(channel, threadId);
        var currentId = threads.Find(threadKey);
        if (currentId is null)
        {
            var current = await Thread(threadKey).GetOrStart(customer, knownClosedId: null, cancellationToken);
            if (current is null)
            {
                return InboundResult.Rejected("", RejectionCode.InvalidArgument, MissingCustomerMessage(threadId));
            }

            currentId = current.ConversationId;
            threads.Remember(threadKey, currentId);
        }

        var result = await Conversation(currentId).ReceiveCustomerMessage(command, deliverTo, cancellationToken);
        if (result.Rejection?.Code != RejectionCode.Closed)
        {
            return result;
        }

        // The thread's conversation was closed: a new message on the thread starts the next one.
        threads.Forget(threadKey, currentId);
        var next = await Thread(threadKey).GetOrStart(customer, knownClosedId: currentId, cancellationToken);
        if (next is null)
        {
            return InboundResult.Rejected("", RejectionCode.InvalidArgument, MissingCustomerMessage(threadId));
        }

        threads.Remember(threadKey, next.ConversationId);
        return await Conversation(next.ConversationId).ReceiveCustomerMessage(command, deliverTo, cancellationToken);
    }

    /// <summary>Starts the conversation of a thread, or finds its open one.</summary>
    public async Task<(ThreadConversation? Conversation, ConversationSnapshot? Snapshot, Rejection? Rejection)> StartAsync(string channel, Proto.StartConversationRequest request, CancellationToken cancellationToken)
    {
        if (InboundValidation.CheckId(request.ExternalThreadId, "external_thread_id") is { } badThread)
        {
            return (null, null, new Rejection(RejectionCode.InvalidArgument, badThread));
        }

        if (CheckCustomer(request.Customer) is { } badCustomer)
        {
            return (null, null, new Rejection(RejectionCode.InvalidArgument, badCustomer));
        }

        var customer = ChannelMapping.ToDomain(request.Customer);
        var thread = Thread(GrainKeys.Thread(channel, request.ExternalThreadId));
        var current = await thread.GetOrStart(customer, knownClosedId: null, cancellationToken);
        if (current is null)
        {
            return (null, null, new Rejection(RejectionCode.InvalidArgument, MissingCustomerMessage(request.ExternalThreadId)));
        }

        var snapshot = await Conversation(current.ConversationId).GetSnapshot(cancellationToken);
        if (snapshot.Status == ConversationStatus.Closed)
        {
            // "Start" means a conversation that can take messages: the thread moves on to a new one.
            current = (await thread.GetOrStart(customer, knownClosedId: current.ConversationId, cancellationToken))!;
            snapshot = await Conversation(current.ConversationId).GetSnapshot(cancellationToken);
        }

        return (current, snapshot, null);
    }

    /// <summary>Finds the conversation an address names on this channel, without creating anything.</summary>
    public async Task<(IConversationGrain? Grain, Rejection? Rejection)> FindAsync(string channel, Proto.ConversationAddress? address, CancellationToken cancellationToken)
    {
        switch (address?.AddressCase)
        {
            case Proto.ConversationAddress.AddressOneofCase.ConversationId:
                return InboundValidation.CheckId(address.ConversationId, "conversation.conversation_id") is { } badId
                    ? (null, new Rejection(RejectionCode.InvalidArgument, badId))
                    : (Conversation(address.ConversationId), null);

            case Proto.ConversationAddress.AddressOneofCase.ExternalThreadId:
                if (InboundValidation.CheckId(address.ExternalThreadId, "conversation.external_thread_id") is { } badThread)
                {
                    return (null, new Rejection(RejectionCode.InvalidArgument, badThread));
                }

                var id = await Thread(GrainKeys.Thread(channel, address.ExternalThreadId)).Find(cancellationToken);
                return id is null
                    ? (null, new Rejection(RejectionCode.NotFound, $"Thread '{address.ExternalThreadId}' has no conversation on channel '{channel}'."))
                    : (Conversation(id), null);

            default:
                return (null, new Rejection(RejectionCode.InvalidArgument,
                    "conversation is required: set conversation.conversation_id or conversation.external_thread_id."));
        }
    }

    private IConversationGrain Conversation(string id) => grains.Get<IConversationGrain>(id);

    private IConversationThreadGrain Thread(string threadKey) => grains.Get<IConversationThreadGrain>(threadKey);

    // An absent customer is fine (the thread may know them); a present one must be valid.
    private static string? CheckCustomer(Proto.CustomerIdentity? customer) =>
        ChannelMapping.ToDomain(customer) is { } identity ? InboundValidation.CheckCustomer(identity) : null;

    private static string MissingCustomerMessage(string threadId) =>
        $"customer.external_customer_id is required to start a conversation on thread '{threadId}'.";
}
