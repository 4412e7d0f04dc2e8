using ContactGrains.Contracts;
using ContactGrains.Grains;
using ContactGrains.Grains.Automation;
using ContactGrains.Grains.Conversations;
using ContactGrains.Grains.Routing;
using ContactGrains.Silo.Agents;
using ContactGrains.Silo.Hosting;
using ContactGrains.Silo.Wire;
using Grpc.Core;
using Proto = ContactGrains.Protos.V1;

namespace ContactGrains.Silo.Supervision;

/// <summary>
/// The supervisor API: the floor (queues, agents, open conversations), a conversation's ledger,
/// taking over and sending to a queue, the automation policy with its figures, and reviews. Every
/// call needs the supervisor role. Reads fan out to a handful of grains (queues, index and review
/// partitions, intents): a supervisor's view, never on a customer's path.
/// </summary>
[BindServiceMethod(typeof(SupervisorServiceBinding), nameof(SupervisorServiceBinding.BindService))]
// Not sealed, methods virtual: grpc-dotnet binds only virtual methods declared on the type that BindService takes.
internal partial class SupervisorGrpcService(
    IGrainFactory grains,
    RoutingCatalog catalog,
    AutomationLevelsCache automationLevels,
    IntentCatalog intents,
    TimeProvider time,
    ILogger<SupervisorGrpcService> logger)
{
    private const int DefaultResults = 100;
    private const int MaxResults = 500;
    private const int MaxHistoryHours = 168;
    private static readonly TimeSpan RecentDemotions = TimeSpan.FromHours(24);

    public virtual async Task<Proto.Floor> GetFloor(Proto.GetFloorRequest request, ServerCallContext context)
    {
        AgentIdentity.RequireSupervisor(context);
        var token = context.BudgetToken();
        var keys = catalog.QueueKeys.ToList();
        var stats = Task.WhenAll(keys.Select(key => grains.Get<IQueueGrain>(key).GetStats(token)));
        var rosters = Task.WhenAll(keys.Select(async key => (Key: key, Roster: await grains.Get<IQueueGrain>(key).GetRoster())));
        var counts = Task.WhenAll(Enumerable.Range(0, IOpenConversationsGrain.Partitions).Select(p => grains.GetGrain<IOpenConversationsGrain>(p).Count()));
        var policy = grains.Get<IAutomationPolicyGrain>(AutomationPolicyGrain.Key).GetPolicy();
        await Task.WhenAll(stats, rosters, counts, policy);

        var floor = new Proto.Floor { AsOf = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(time.GetUtcNow()) };
        floor.Queues.Add(stats.Result.Select(AgentMapping.ToProto));
        floor.Agents.Add(SupervisorMapping.Agents(rosters.Result));
        var total = counts.Result.Aggregate(OwnerCounts.Zero, (sum, partition) => sum.Add(partition));
        floor.WithBot = (uint)total.Bot;
        floor.InQueues = (uint)total.Queue;
        floor.WithAgents = (uint)total.Agent;
        var since = time.GetUtcNow() - RecentDemotions;
        var demotions = policy.Result with
        {
            Audit = [.. policy.Result.Audit.Where(c => c.ChangedBy == AutomationPolicyGrain.DemotionRuleName && c.At >= since).Reverse()],
        };
        floor.RecentDemotions.Add(AgentMapping.ToProto(demotions).Audit);
        return floor;
    }

    public virtual async Task<Proto.QueueHistory> GetQueueHistory(Proto.GetQueueHistoryRequest request, ServerCallContext context)
    {
        AgentIdentity.RequireSupervisor(context);
        if (!catalog.QueueKeys.Contains(request.Queue))
        {
            throw AgentMapping.Invalid($"queue: not a queue of this cluster; use \"skill:language\", one of: {string.Join(", ", catalog.QueueKeys)}.");
        }

        if (request.Hours > MaxHistoryHours)
        {
            throw AgentMapping.Invalid($"hours: at most {MaxHistoryHours} (7 days).");
        }

        var hours = request.Hours == 0 ? 24 : (int)request.Hours;
        var history = await grains.Get<IQueueGrain>(request.Queue).GetHistory(TimeSpan.FromHours(hours), context.BudgetToken());
        return SupervisorMapping.ToProto(history);
    }

    public virtual async Task<Proto.ListConversationsResponse> ListConversations(Proto.ListConversationsRequest request, ServerCallContext context)
    {
        AgentIdentity.RequireSupervisor(context);
        OwnerKind? owner = request.Owner switch
        {
            Proto.OwnerKind.Unspecified => null,
            Proto.OwnerKind.Bot => OwnerKind.Bot,
            Proto.OwnerKind.Queue => OwnerKind.Queue,
            Proto.OwnerKind.Agent => OwnerKind.Agent,
            _ => throw AgentMapping.Invalid("owner: use OWNER_KIND_BOT, OWNER_KIND_QUEUE, OWNER_KIND_AGENT, or leave it unset for every open conversation."),
        };
        var max = Limit(request.MaxResults);
        var pages = await Task.WhenAll(Enumerable.Range(0, IOpenConversationsGrain.Partitions)
            .Select(p => grains.GetGrain<IOpenConversationsGrain>(p).List(owner, max)));
        var response = new Proto.ListConversationsResponse { Total = (uint)pages.Sum(p => p.Total) };
        response.Conversations.Add(pages.SelectMany(p => p.Conversations)
            .OrderByDescending(c => c.OwnerSince).ThenBy(c => c.ConversationId, StringComparer.Ordinal)
            .Take(max).Select(SupervisorMapping.ToProto));
        return response;
    }

    public virtual async Task<Proto.SupervisedConversation> GetConversation(Proto.SupervisorConversationRequest request, ServerCallContext context)
    {
        AgentIdentity.RequireSupervisor(context);
        AgentMapping.ThrowIfProblem(InboundValidation.CheckId(request.ConversationId, "conversation_id"));
        return await ViewAsync(request.ConversationId);
    }

    public virtual async Task<Proto.SupervisedConversation> TakeOver(Proto.TakeOverRequest request, ServerCallContext context)
    {
        var supervisor = AgentIdentity.RequireSupervisor(context);
        AgentMapping.ThrowIfProblem(InboundValidation.CheckId(request.ConversationId, "conversation_id"));
        var reason = RequireReason(request.Reason);
        await grains.Get<IAgentGrain>(supervisor).TakeOver(request.ConversationId, reason, context.BudgetToken());
        LogTookOver(supervisor, request.ConversationId);
        return await ViewAsync(request.ConversationId);
    }

    public virtual async Task<Proto.SupervisedConversation> SendToQueue(Proto.SendToQueueRequest request, ServerCallContext context)
    {
        var supervisor = AgentIdentity.RequireSupervisor(context);
        AgentMapping.ThrowIfProblem(InboundValidation.CheckId(request.ConversationId, "conversation_id"));
        var reason = RequireReason(request.Reason);
        string? skill = null, language = null;
        if (request.Queue is { } queue)
        {
            if (queue.Skill.Length > 0)
            {
                AgentMapping.ThrowIfProblem(catalog.CheckSkill(queue.Skill, "queue.skill"));
                skill = queue.Skill;
            }

            if (queue.Language.Length > 0)
            {
                AgentMapping.ThrowIfProblem(catalog.CheckLanguage(queue.Language, "queue.language"));
                language = queue.Language;
            }
        }

        await grains.Get<IConversationGrain>(request.ConversationId).SendToQueue(supervisor, skill, language, reason);
        LogSentToQueue(supervisor, request.ConversationId);
        return await ViewAsync(request.ConversationId);
    }

    public virtual async Task<Proto.AutomationPolicy> GetAutomationPolicy(Proto.GetAutomationPolicyRequest request, ServerCallContext context)
    {
        AgentIdentity.RequireSupervisor(context);
        var policy = await grains.Get<IAutomationPolicyGrain>(AutomationPolicyGrain.Key).GetPolicy();
        automationLevels.Update(policy);
        return await WithFiguresAsync(policy);
    }

    public virtual async Task<Proto.AutomationPolicy> SetAutomationLevel(Proto.SetAutomationLevelRequest request, ServerCallContext context)
    {
        var supervisor = AgentIdentity.RequireSupervisor(context);
        AgentMapping.ThrowIfProblem(InboundValidation.CheckId(request.Intent, "intent"));
        var level = AgentMapping.ToDomain(request.Level);
        var reason = RequireReason(request.Reason);
        var policy = await grains.Get<IAutomationPolicyGrain>(AutomationPolicyGrain.Key)
            .ChangeLevel(request.Intent, level, $"supervisor:{supervisor}", reason);

        // This silo answers with the new level at once; the others within their refresh interval.
        automationLevels.Update(policy);
        LogLevelSet(supervisor, request.Intent, level);
        return await WithFiguresAsync(policy);
    }

    public virtual async Task<Proto.IntentHistory> GetIntentHistory(Proto.GetIntentHistoryRequest request, ServerCallContext context)
    {
        AgentIdentity.RequireSupervisor(context);
        AgentMapping.ThrowIfProblem(InboundValidation.CheckId(request.Intent, "intent"));
        if (!intents.IntentIds.Contains(request.Intent))
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"Intent '{request.Intent}' is not an intent of the knowledge base."));
        }

        var days = await grains.Get<IIntentOutcomesGrain>(request.Intent).GetHistory();
        var history = new Proto.IntentHistory { Intent = request.Intent };
        history.Days.Add(days.Select(d => new Proto.IntentDay
        {
            Day = d.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            Bot = AgentMapping.ToProto(d.Bot),
            Human = AgentMapping.ToProto(d.Human),
        }));
        return history;
    }

    public virtual async Task<Proto.ListReviewsResponse> ListReviews(Proto.ListReviewsRequest request, ServerCallContext context)
    {
        AgentIdentity.RequireSupervisor(context);
        var max = Limit(request.MaxResults);
        var partitions = await Task.WhenAll(Enumerable.Range(0, IReviewsGrain.Partitions)
            .Select(p => grains.GetGrain<IReviewsGrain>(p).List(request.IncludeDecided, max)));
        var response = new Proto.ListReviewsResponse();
        response.Reviews.Add(partitions.SelectMany(p => p).OrderBy(r => r.ClosedAt).ThenBy(r => r.ConversationId, StringComparer.Ordinal)
            .Take(max).Select(SupervisorMapping.ToProto));
        return response;
    }

    public virtual async Task<Proto.Review> RecordReview(Proto.RecordReviewRequest request, ServerCallContext context)
    {
        var supervisor = AgentIdentity.RequireSupervisor(context);
        AgentMapping.ThrowIfProblem(InboundValidation.CheckId(request.ConversationId, "conversation_id"));
        var verdict = request.Verdict switch
        {
            Proto.ReviewVerdict.Approved => ReviewVerdict.Approved,
            Proto.ReviewVerdict.Rejected => ReviewVerdict.Rejected,
            _ => throw AgentMapping.Invalid("verdict: use REVIEW_VERDICT_APPROVED or REVIEW_VERDICT_REJECTED."),
        };
        var note = InboundText.Clean(request.Note);
        if (note.Length > InboundValidation.MaxReasonLength)
        {
            throw AgentMapping.Invalid($"note is {note.Length} characters long; the limit is {InboundValidation.MaxReasonLength}.");
        }

        var partition = Grains.Supervision.Reviews.PartitionOf(request.ConversationId);
        var review = await grains.GetGrain<IReviewsGrain>(partition).Decide(request.ConversationId, verdict, $"supervisor:{supervisor}", note);
        return SupervisorMapping.ToProto(review);
    }

    private async Task<Proto.SupervisedConversation> ViewAsync(string conversationId)
    {
        var view = await grains.Get<IConversationGrain>(conversationId).Supervise()
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Conversation '{conversationId}' was not found."));
        return SupervisorMapping.ToProto(view, view.Summary.Intent is { } intent ? automationLevels.LevelOf(intent) : null);
    }

    private async Task<Proto.AutomationPolicy> WithFiguresAsync(AutomationPolicyView policy)
    {
        // One read per intent (a few dozen).
        var figures = await Task.WhenAll(policy.Levels.Keys.Select(intent => grains.Get<IIntentOutcomesGrain>(intent).GetFigures()));
        return AgentMapping.ToProto(policy, figures.ToDictionary(f => f.IntentId, StringComparer.Ordinal));
    }

    private static string RequireReason(string reason)
    {
        var cleaned = InboundText.Clean(reason).Trim();
        if (cleaned.Length == 0)
        {
            throw AgentMapping.Invalid("reason is required: the ledger and the audit keep why a supervisor acted.");
        }

        AgentMapping.ThrowIfProblem(InboundValidation.CheckReason(cleaned));
        return cleaned;
    }

    private static int Limit(uint requested) => requested == 0 ? DefaultResults : (int)Math.Min(requested, MaxResults);

    [LoggerMessage(Level = LogLevel.Information, Message = "Supervisor {SupervisorId} took conversation {ConversationId} over")]
    private partial void LogTookOver(string supervisorId, string conversationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Supervisor {SupervisorId} sent conversation {ConversationId} to a queue")]
    private partial void LogSentToQueue(string supervisorId, string conversationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Supervisor {SupervisorId} set intent {Intent} to {Level}")]
    private partial void LogLevelSet(string supervisorId, string intent, AutomationLevel level);
}
