using ContactGrains.Silo.Agents;
using ContactGrains.Silo.Channels;
using ContactGrains.Silo.Supervision;
using Google.Protobuf;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;
using Grpc.Core;
using Proto = ContactGrains.Protos.V1;

namespace ContactGrains.Silo.Wire;

/// <summary>
/// Binds the channel API's methods with <see cref="RequestDecoding"/>'s marshallers instead of the
/// generated ones. grpc-dotnet finds this class through <see cref="BindServiceMethodAttribute"/> on
/// <see cref="ChannelGrpcService"/>, and server reflection finds <see cref="Descriptor"/> beside it.
/// </summary>
internal static class ChannelServiceBinding
{
    public static ServiceDescriptor Descriptor => Proto.ChannelService.Descriptor;

    public static void BindService(ServiceBinderBase binder, ChannelGrpcService? service)
    {
        var name = Descriptor.FullName;
        binder.AddMethod(
            new Method<UpstreamFrame, Proto.ChannelDownstream>(MethodType.DuplexStreaming, name, nameof(service.Connect),
                UpstreamFrame.Marshaller, RequestDecoding.Response<Proto.ChannelDownstream>()),
            service is null ? null : service.Connect);
        binder.AddMethod(Bindings.Unary<Proto.StartConversationRequest, Proto.StartConversationResponse>(name, nameof(service.StartConversation)),
            service is null ? null : service.StartConversation);
        binder.AddMethod(Bindings.Unary<Proto.SendMessageRequest, Proto.SendMessageResponse>(name, nameof(service.SendMessage)),
            service is null ? null : service.SendMessage);
        binder.AddMethod(Bindings.Unary<Proto.GetTranscriptRequest, Proto.GetTranscriptResponse>(name, nameof(service.GetTranscript)),
            service is null ? null : service.GetTranscript);
        binder.AddMethod(Bindings.Unary<Proto.CloseConversationRequest, Proto.CloseConversationResponse>(name, nameof(service.CloseConversation)),
            service is null ? null : service.CloseConversation);
        binder.AddMethod(Bindings.Unary<Proto.GetConversationRequest, Proto.ConversationView>(name, nameof(service.GetConversation)),
            service is null ? null : service.GetConversation);
        binder.AddMethod(Bindings.Unary<Proto.RateConversationRequest, Proto.RateConversationResponse>(name, nameof(service.RateConversation)),
            service is null ? null : service.RateConversation);
    }
}

/// <summary>The agent API's methods, bound like <see cref="ChannelServiceBinding"/>.</summary>
internal static class AgentServiceBinding
{
    public static ServiceDescriptor Descriptor => Proto.AgentService.Descriptor;

    public static void BindService(ServiceBinderBase binder, AgentGrpcService? service)
    {
        var name = Descriptor.FullName;
        binder.AddMethod(
            new Method<Proto.ConnectRequest, Proto.AgentEvent>(MethodType.ServerStreaming, name, nameof(service.Connect),
                RequestDecoding.Strict<Proto.ConnectRequest>(), RequestDecoding.Response<Proto.AgentEvent>()),
            service is null ? null : service.Connect);
        binder.AddMethod(Bindings.Unary<Proto.SetPresenceRequest, Proto.AgentStatus>(name, nameof(service.SetPresence)),
            service is null ? null : service.SetPresence);
        binder.AddMethod(Bindings.Unary<Proto.GetStatusRequest, Proto.AgentStatus>(name, nameof(service.GetStatus)),
            service is null ? null : service.GetStatus);
        binder.AddMethod(Bindings.Unary<Proto.AcceptOfferRequest, Proto.Assignment>(name, nameof(service.AcceptOffer)),
            service is null ? null : service.AcceptOffer);
        binder.AddMethod(Bindings.Unary<Proto.DeclineOfferRequest, Proto.DeclineOfferResponse>(name, nameof(service.DeclineOffer)),
            service is null ? null : service.DeclineOffer);
        binder.AddMethod(Bindings.Unary<Proto.AgentMessageRequest, Proto.AgentMessageResponse>(name, nameof(service.SendMessage)),
            service is null ? null : service.SendMessage);
        binder.AddMethod(Bindings.Unary<Proto.DiscardDraftRequest, Proto.DiscardDraftResponse>(name, nameof(service.DiscardDraft)),
            service is null ? null : service.DiscardDraft);
        binder.AddMethod(Bindings.Unary<Proto.AgentTranscriptRequest, Proto.AgentTranscriptResponse>(name, nameof(service.GetTranscript)),
            service is null ? null : service.GetTranscript);
        binder.AddMethod(Bindings.Unary<Proto.TransferRequest, Proto.TransferResponse>(name, nameof(service.Transfer)),
            service is null ? null : service.Transfer);
        binder.AddMethod(Bindings.Unary<Proto.ResolveRequest, Proto.ResolveResponse>(name, nameof(service.Resolve)),
            service is null ? null : service.Resolve);
        binder.AddMethod(Bindings.Unary<Proto.HandBackRequest, Proto.HandBackResponse>(name, nameof(service.HandBackToBot)),
            service is null ? null : service.HandBackToBot);
        binder.AddMethod(Bindings.Unary<Proto.GetQueueStatsRequest, Proto.GetQueueStatsResponse>(name, nameof(service.GetQueueStats)),
            service is null ? null : service.GetQueueStats);
        binder.AddMethod(Bindings.Unary<Proto.SetAgentProfileRequest, Proto.AgentProfileView>(name, nameof(service.SetAgentProfile)),
            service is null ? null : service.SetAgentProfile);
        binder.AddMethod(Bindings.Unary<Proto.GetAgentProfileRequest, Proto.AgentProfileView>(name, nameof(service.GetAgentProfile)),
            service is null ? null : service.GetAgentProfile);
    }
}

/// <summary>The supervisor API's methods, bound like <see cref="ChannelServiceBinding"/> (JSON transcoding finds <see cref="Descriptor"/> too).</summary>
internal static class SupervisorServiceBinding
{
    public static ServiceDescriptor Descriptor => Proto.SupervisorService.Descriptor;

    public static void BindService(ServiceBinderBase binder, SupervisorGrpcService? service)
    {
        var name = Descriptor.FullName;
        binder.AddMethod(Bindings.Unary<Proto.GetFloorRequest, Proto.Floor>(name, nameof(service.GetFloor)),
            service is null ? null : service.GetFloor);
        binder.AddMethod(Bindings.Unary<Proto.GetQueueHistoryRequest, Proto.QueueHistory>(name, nameof(service.GetQueueHistory)),
            service is null ? null : service.GetQueueHistory);
        binder.AddMethod(Bindings.Unary<Proto.ListConversationsRequest, Proto.ListConversationsResponse>(name, nameof(service.ListConversations)),
            service is null ? null : service.ListConversations);
        binder.AddMethod(Bindings.Unary<Proto.SupervisorConversationRequest, Proto.SupervisedConversation>(name, nameof(service.GetConversation)),
            service is null ? null : service.GetConversation);
        binder.AddMethod(Bindings.Unary<Proto.TakeOverRequest, Proto.SupervisedConversation>(name, nameof(service.TakeOver)),
            service is null ? null : service.TakeOver);
        binder.AddMethod(Bindings.Unary<Proto.SendToQueueRequest, Proto.SupervisedConversation>(name, nameof(service.SendToQueue)),
            service is null ? null : service.SendToQueue);
        binder.AddMethod(Bindings.Unary<Proto.GetAutomationPolicyRequest, Proto.AutomationPolicy>(name, nameof(service.GetAutomationPolicy)),
            service is null ? null : service.GetAutomationPolicy);
        binder.AddMethod(Bindings.Unary<Proto.SetAutomationLevelRequest, Proto.AutomationPolicy>(name, nameof(service.SetAutomationLevel)),
            service is null ? null : service.SetAutomationLevel);
        binder.AddMethod(Bindings.Unary<Proto.GetIntentHistoryRequest, Proto.IntentHistory>(name, nameof(service.GetIntentHistory)),
            service is null ? null : service.GetIntentHistory);
        binder.AddMethod(Bindings.Unary<Proto.ListReviewsRequest, Proto.ListReviewsResponse>(name, nameof(service.ListReviews)),
            service is null ? null : service.ListReviews);
        binder.AddMethod(Bindings.Unary<Proto.RecordReviewRequest, Proto.Review>(name, nameof(service.RecordReview)),
            service is null ? null : service.RecordReview);
    }
}

internal static class Bindings
{
    public static Method<TRequest, TResponse> Unary<TRequest, TResponse>(string service, string method)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        new(MethodType.Unary, service, method, RequestDecoding.Strict<TRequest>(), RequestDecoding.Response<TResponse>());
}
