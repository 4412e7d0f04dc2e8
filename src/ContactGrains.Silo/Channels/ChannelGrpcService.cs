using ContactGrains.Contracts;
using ContactGrains.Grains.Conversations;
using ContactGrains.Silo.Hosting;
using ContactGrains.Silo.Wire;
using Grpc.Core;
using Proto = ContactGrains.Protos.V1;

namespace ContactGrains.Silo.Channels;

/// <summary>The channel API: adapters stream customer traffic in and receive timeline entries out.</summary>
[BindServiceMethod(typeof(ChannelServiceBinding), nameof(ChannelServiceBinding.BindService))]
// Bound by ChannelServiceBinding, whose decoding refuses bad bytes precisely. Not sealed, methods virtual: grpc-dotnet
// binds only virtual methods declared on the type that BindService takes.
internal class ChannelGrpcService(
    ConversationRouter router,
    IGrainFactory grains,
    ContactGrainsOptions options,
    ILogger<ChannelGrpcService> logger)
{
    public virtual async Task Connect(
        IAsyncStreamReader<UpstreamFrame> requestStream,
        IServerStreamWriter<Proto.ChannelDownstream> responseStream,
        ServerCallContext context)
    {
        var channel = ChannelIdentity.Require(context);

        // Headers at once tell the adapter its stream was accepted, before it has anything to send.
        await context.WriteResponseHeadersAsync([]);
        await new AdapterSession(channel, router, grains, options.Cluster.CallTimeout, options.Limits.StalledStreamTimeout, logger)
            .RunAsync(requestStream, responseStream, context.BudgetToken());
    }

    public virtual async Task<Proto.StartConversationResponse> StartConversation(Proto.StartConversationRequest request, ServerCallContext context)
    {
        var channel = ChannelIdentity.Require(context);
        var (started, snapshot, rejection) = await router.StartAsync(channel, request, context.BudgetToken());
        ThrowIfRejected(rejection);
        return new Proto.StartConversationResponse
        {
            ConversationId = started!.ConversationId,
            Created = started.Created,
            Conversation = ChannelMapping.ToProto(snapshot!),
        };
    }

    public virtual async Task<Proto.SendMessageResponse> SendMessage(Proto.SendMessageRequest request, ServerCallContext context)
    {
        var channel = ChannelIdentity.Require(context);
        if (request.Message is null)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "message is required."));
        }

        var result = await router.ReceiveAsync(channel, request.Message, deliverTo: null, context.BudgetToken());
        ThrowIfRejected(result.Rejection);
        var response = new Proto.SendMessageResponse { Ack = ChannelMapping.ToAck(request.Message.MessageId, result) };
        response.Entries.Add(result.Entries.Select(ChannelMapping.ToProto));
        return response;
    }

    public virtual async Task<Proto.GetTranscriptResponse> GetTranscript(Proto.GetTranscriptRequest request, ServerCallContext context)
    {
        var channel = ChannelIdentity.Require(context);
        var conversation = await FindAsync(channel, request.Conversation, context.BudgetToken());
        var max = request.MaxEntries == 0 ? ConversationLimits.MaxPageSize : (int)Math.Min(request.MaxEntries, ConversationLimits.MaxPageSize);
        var page = await conversation.GetTimeline(channel, ChannelMapping.ToSequence(request.AfterSequence), max, context.BudgetToken());
        ThrowIfRejected(page.Rejection);
        var response = new Proto.GetTranscriptResponse
        {
            ConversationId = conversation.GetPrimaryKeyString(),
            LastSequence = (ulong)page.LastSequence,
        };
        response.Entries.Add(page.Entries.Select(ChannelMapping.ToProto));
        return response;
    }

    public virtual async Task<Proto.CloseConversationResponse> CloseConversation(Proto.CloseConversationRequest request, ServerCallContext context)
    {
        var channel = ChannelIdentity.Require(context);
        var conversation = await FindAsync(channel, request.Conversation, context.BudgetToken());
        // Checked as stored: normalising can lengthen text (a few characters decompose under NFC).
        var cleaned = InboundText.Clean(request.Reason);
        if (InboundValidation.CheckReason(cleaned) is { } badReason)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, badReason));
        }

        var reason = InboundText.HasVisibleCharacter(cleaned) ? cleaned : "The adapter closed the conversation.";
        var snapshot = await conversation.Close(channel, OwnershipReasons.ClosedByAdapter, reason, context.BudgetToken());
        ThrowIfNotVisible(snapshot, conversation, channel);
        return new Proto.CloseConversationResponse { Conversation = ChannelMapping.ToProto(snapshot) };
    }

    public virtual async Task<Proto.ConversationView> GetConversation(Proto.GetConversationRequest request, ServerCallContext context)
    {
        var channel = ChannelIdentity.Require(context);
        var conversation = await FindAsync(channel, request.Conversation, context.BudgetToken());
        var snapshot = await conversation.GetSnapshot(context.BudgetToken());
        ThrowIfNotVisible(snapshot, conversation, channel);
        return ChannelMapping.ToProto(snapshot);
    }

    public virtual async Task<Proto.RateConversationResponse> RateConversation(Proto.RateConversationRequest request, ServerCallContext context)
    {
        var channel = ChannelIdentity.Require(context);
        if (request.Rating is < 1 or > 5)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"rating is {request.Rating}; use 1 (poor) to 5 (excellent)."));
        }

        var conversation = await FindAsync(channel, request.Conversation, context.BudgetToken());
        ThrowIfRejected(await conversation.Rate(channel, (int)request.Rating, context.BudgetToken()));
        return new Proto.RateConversationResponse { ConversationId = conversation.GetPrimaryKeyString(), Rating = request.Rating };
    }

    private async Task<IConversationGrain> FindAsync(string channel, Proto.ConversationAddress? address, CancellationToken cancellationToken)
    {
        var (conversation, rejection) = await router.FindAsync(channel, address, cancellationToken);
        ThrowIfRejected(rejection);
        return conversation!;
    }

    private static void ThrowIfRejected(Rejection? rejection)
    {
        if (rejection is not null)
        {
            throw ChannelMapping.ToRpcException(rejection);
        }
    }

    private static void ThrowIfNotVisible(ConversationSnapshot snapshot, IConversationGrain conversation, string channel)
    {
        if (snapshot.Status == ConversationStatus.None || snapshot.Channel != channel)
        {
            throw new RpcException(new Status(StatusCode.NotFound,
                $"Conversation '{conversation.GetPrimaryKeyString()}' was not found on channel '{channel}'."));
        }
    }
}
