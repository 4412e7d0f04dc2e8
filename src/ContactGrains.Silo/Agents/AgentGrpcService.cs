using ContactGrains.Client;
using ContactGrains.Contracts;
using ContactGrains.Grains;
using ContactGrains.Grains.Automation;
using ContactGrains.Grains.Conversations;
using ContactGrains.Grains.Routing;
using ContactGrains.Silo.Channels;
using ContactGrains.Silo.Hosting;
using ContactGrains.Silo.Wire;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Proto = ContactGrains.Protos.V1;

namespace ContactGrains.Silo.Agents;

/// <summary>
/// The agent API: a desktop's live stream and the unary calls for everything an agent does. Checks
/// the request's shape here; the agent grain checks that the agent may do it (refusals arrive as
/// <see cref="RequestRejectedException"/>, which the error interceptor maps to their status).
/// </summary>
[BindServiceMethod(typeof(AgentServiceBinding), nameof(AgentServiceBinding.BindService))]
// Bound by AgentServiceBinding, whose decoding refuses bad bytes precisely. Not sealed, methods virtual: grpc-dotnet
// binds only virtual methods declared on the type that BindService takes.
internal partial class AgentGrpcService(
    IGrainFactory grains,
    RoutingCatalog catalog,
    IOptions<RoutingOptions> routingOptions,
    IHostApplicationLifetime lifetime,
    ContactGrainsOptions options,
    AgentDirectory directory,
    ILogger<AgentGrpcService> logger)
{
    private const int MaxNoteLength = InboundValidation.MaxReasonLength;
    private const int MaxWrapUpCodeLength = 64;

    public virtual async Task Connect(Proto.ConnectRequest request, IServerStreamWriter<Proto.AgentEvent> responseStream, ServerCallContext context)
    {
        var agentId = AgentIdentity.Require(context);
        var profile = await directory.ForConnectAsync(grains, agentId, () => AgentMapping.ToDomain(request.Profile, catalog, routingOptions.Value));
        await new AgentSession(agentId, grains, routingOptions.Value, options.Limits.StalledStreamTimeout, logger)
            .RunAsync(profile, responseStream, context.CancellationToken, lifetime.ApplicationStopping);
    }

    public virtual async Task<Proto.AgentStatus> SetPresence(Proto.SetPresenceRequest request, ServerCallContext context)
    {
        var agent = Agent(context);
        return AgentMapping.ToProto(await agent.SetPresence(AgentMapping.ToDomain(request.Presence), context.BudgetToken()));
    }

    public virtual async Task<Proto.AgentStatus> GetStatus(Proto.GetStatusRequest request, ServerCallContext context) =>
        AgentMapping.ToProto(await Agent(context).GetStatus(context.BudgetToken()));

    public virtual async Task<Proto.Assignment> AcceptOffer(Proto.AcceptOfferRequest request, ServerCallContext context)
    {
        var agent = Agent(context);
        AgentMapping.ThrowIfProblem(InboundValidation.CheckId(request.OfferId, "offer_id"));
        return AgentMapping.ToProto(await agent.Accept(request.OfferId, context.BudgetToken()));
    }

    public virtual async Task<Proto.DeclineOfferResponse> DeclineOffer(Proto.DeclineOfferRequest request, ServerCallContext context)
    {
        var agent = Agent(context);
        AgentMapping.ThrowIfProblem(InboundValidation.CheckId(request.OfferId, "offer_id"));
        await agent.Decline(request.OfferId, context.BudgetToken());
        return new Proto.DeclineOfferResponse();
    }

    public virtual async Task<Proto.AgentMessageResponse> SendMessage(Proto.AgentMessageRequest request, ServerCallContext context)
    {
        var agent = Agent(context);
        AgentMapping.ThrowIfProblem(InboundValidation.CheckId(request.ConversationId, "conversation_id"));
        AgentMapping.ThrowIfProblem(InboundValidation.CheckId(request.MessageId, "message_id"));
        var text = InboundText.Clean(request.Text);
        AgentMapping.ThrowIfProblem(InboundValidation.CheckText(text));
        if (request.DraftId.Length > 0)
        {
            AgentMapping.ThrowIfProblem(InboundValidation.CheckId(request.DraftId, "draft_id"));
        }

        var entry = await agent.SendMessage(request.ConversationId, request.MessageId, text, request.DraftId.Length > 0 ? request.DraftId : null, context.BudgetToken());
        return new Proto.AgentMessageResponse { Entry = ChannelMapping.ToProto(entry) };
    }

    public virtual async Task<Proto.AgentTranscriptResponse> GetTranscript(Proto.AgentTranscriptRequest request, ServerCallContext context)
    {
        var agent = Agent(context);
        AgentMapping.ThrowIfProblem(InboundValidation.CheckId(request.ConversationId, "conversation_id"));
        var max = request.MaxEntries == 0 ? ConversationLimits.MaxPageSize : (int)Math.Min(request.MaxEntries, ConversationLimits.MaxPageSize);
        var page = await agent.GetTranscript(request.ConversationId, ChannelMapping.ToSequence(request.AfterSequence), max, context.BudgetToken());
        if (page.Rejection is { } rejection)
        {
            throw ChannelMapping.ToRpcException(rejection);
        }

        var response = new Proto.AgentTranscriptResponse { LastSequence = (ulong)page.LastSequence };
        response.Entries.Add(page.Entries.Select(ChannelMapping.ToProto));
        return response;
    }

    public virtual async Task<Proto.DiscardDraftResponse> DiscardDraft(Proto.DiscardDraftRequest request, ServerCallContext context)
    {
        var agent = Agent(context);
        AgentMapping.ThrowIfProblem(InboundValidation.CheckId(request.ConversationId, "conversation_id"));
        AgentMapping.ThrowIfProblem(InboundValidation.CheckId(request.DraftId, "draft_id"));
        await agent.DiscardDraft(request.ConversationId, request.DraftId, context.BudgetToken());
        return new Proto.DiscardDraftResponse();
    }

    public virtual async Task<Proto.TransferResponse> Transfer(Proto.TransferRequest request, ServerCallContext context)
    {
        var agent = Agent(context);
        AgentMapping.ThrowIfProblem(InboundValidation.CheckId(request.ConversationId, "conversation_id"));
        request.Note = InboundText.Clean(request.Note);
        AgentMapping.ThrowIfProblem(CheckNote(request.Note));
        TransferTarget target;
        switch (request.TargetCase)
        {
            case Proto.TransferRequest.TargetOneofCase.Queue:
                AgentMapping.ThrowIfProblem(catalog.CheckSkill(request.Queue.Skill, "queue.skill"));
                if (request.Queue.Language.Length > 0)
                {
                    AgentMapping.ThrowIfProblem(catalog.CheckLanguage(request.Queue.Language, "queue.language"));
                }

                target = new TransferTarget(request.Queue.Skill, request.Queue.Language.Length > 0 ? request.Queue.Language : null, null);
                break;
            case Proto.TransferRequest.TargetOneofCase.AgentId:
                AgentMapping.ThrowIfProblem(InboundValidation.CheckId(request.AgentId, "agent_id"));
                target = new TransferTarget(null, null, request.AgentId);
                break;
            default:
                throw AgentMapping.Invalid("Set the transfer target: queue (skill, optional language) or agent_id.");
        }

        await agent.Transfer(request.ConversationId, target, request.Note, context.BudgetToken());
        return new Proto.TransferResponse();
    }

    public virtual async Task<Proto.ResolveResponse> Resolve(Proto.ResolveRequest request, ServerCallContext context)
    {
        var agent = Agent(context);
        AgentMapping.ThrowIfProblem(InboundValidation.CheckId(request.ConversationId, "conversation_id"));
        AgentMapping.ThrowIfProblem(RoutingCatalog.CheckToken(request.WrapUpCode, "wrap_up_code", MaxWrapUpCodeLength));
        request.Note = InboundText.Clean(request.Note);
        AgentMapping.ThrowIfProblem(CheckNote(request.Note));
        await agent.Resolve(request.ConversationId, request.WrapUpCode, request.Note, context.BudgetToken());
        return new Proto.ResolveResponse();
    }

    public virtual async Task<Proto.HandBackResponse> HandBackToBot(Proto.HandBackRequest request, ServerCallContext context)
    {
        var agent = Agent(context);
        AgentMapping.ThrowIfProblem(InboundValidation.CheckId(request.ConversationId, "conversation_id"));
        request.Note = InboundText.Clean(request.Note);
        AgentMapping.ThrowIfProblem(CheckNote(request.Note));
        await agent.HandBack(request.ConversationId, request.Note, context.BudgetToken());
        return new Proto.HandBackResponse();
    }

    public virtual async Task<Proto.GetQueueStatsResponse> GetQueueStats(Proto.GetQueueStatsRequest request, ServerCallContext context)
    {
        AgentIdentity.Require(context);
        IEnumerable<string> keys;
        if (request.Queue is null || request.Queue.Skill.Length == 0)
        {
            keys = catalog.QueueKeys;
        }
        else
        {
            AgentMapping.ThrowIfProblem(catalog.CheckSkill(request.Queue.Skill, "queue.skill"));
            if (request.Queue.Language.Length > 0)
            {
                AgentMapping.ThrowIfProblem(catalog.CheckLanguage(request.Queue.Language, "queue.language"));
            }

            keys = request.Queue.Language.Length > 0
                ? [GrainKeys.Queue(request.Queue.Skill, request.Queue.Language)]
                : catalog.Languages.Select(language => GrainKeys.Queue(request.Queue.Skill, language));
        }

        var stats = await Task.WhenAll(keys.Select(key => grains.Get<IQueueGrain>(key).GetStats(context.BudgetToken())));
        var response = new Proto.GetQueueStatsResponse();
        response.Queues.Add(stats.Select(AgentMapping.ToProto));
        return response;
    }

    public virtual async Task<Proto.AgentProfileView> SetAgentProfile(Proto.SetAgentProfileRequest request, ServerCallContext context)
    {
        var supervisor = AgentIdentity.RequireSupervisor(context);
        if (!AgentClient.IsValidAgentId(request.AgentId))
        {
            throw AgentMapping.Invalid($"agent_id: use {AgentClient.AgentIdRule}.");
        }

        var profile = AgentMapping.ToDomain(request.Profile, catalog, routingOptions.Value)
            ?? throw AgentMapping.Invalid("profile is required: display name, skills with proficiency, languages.");
        await grains.Get<IAgentGrain>(request.AgentId).SetProfile(profile, context.BudgetToken());
        LogProfileSet(supervisor, request.AgentId);
        return new Proto.AgentProfileView { AgentId = request.AgentId, Profile = AgentMapping.ToProto(profile) };
    }

    public virtual async Task<Proto.AgentProfileView> GetAgentProfile(Proto.GetAgentProfileRequest request, ServerCallContext context)
    {
        var caller = AgentIdentity.Require(context);
        var agentId = request.AgentId.Length == 0 ? caller : request.AgentId;
        if (agentId != caller)
        {
            AgentIdentity.RequireSupervisor(context);
        }

        if (!AgentClient.IsValidAgentId(agentId))
        {
            throw AgentMapping.Invalid($"agent_id: use {AgentClient.AgentIdRule}.");
        }

        var profile = await grains.Get<IAgentGrain>(agentId).GetProfile(context.BudgetToken());
        return new Proto.AgentProfileView { AgentId = agentId, Profile = profile is null ? null : AgentMapping.ToProto(profile) };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Supervisor {SupervisorId} set the directory entry of agent {AgentId}")]
    private partial void LogProfileSet(string supervisorId, string agentId);

    private IAgentGrain Agent(ServerCallContext context) => grains.Get<IAgentGrain>(AgentIdentity.Require(context));

    private static string? CheckNote(string note) =>
        note.Length > MaxNoteLength ? $"note is {note.Length} characters long; the limit is {MaxNoteLength}." : null;
}
