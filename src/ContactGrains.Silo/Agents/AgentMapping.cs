using System.Collections.Immutable;
using ContactGrains.Contracts;
using ContactGrains.Grains.Conversations;
using ContactGrains.Grains.Routing;
using ContactGrains.Silo.Channels;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Proto = ContactGrains.Protos.V1;

namespace ContactGrains.Silo.Agents;

/// <summary>The one place where agent API messages and domain types are translated and checked.</summary>
internal static class AgentMapping
{
    private const int MaxCapacity = 100;

    /// <summary>The profile a desktop sent, checked against the routing catalog; null when it sent none.</summary>
    public static AgentProfile? ToDomain(Proto.AgentProfile? profile, RoutingCatalog catalog, RoutingOptions options)
    {
        if (profile is null)
        {
            return null;
        }

        var displayName = Channels.ChannelMapping.CleanName(profile.DisplayName);
        if (displayName is null || displayName.Length > InboundValidation.MaxNameLength)
        {
            throw Invalid($"profile.display_name is required, up to {InboundValidation.MaxNameLength} characters, with at least one visible character.");
        }

        if (profile.Skills.Count == 0)
        {
            throw Invalid($"profile.skills needs at least one skill; known skills: {string.Join(", ", catalog.Skills)}.");
        }

        var skills = ImmutableArray.CreateBuilder<SkillLevel>(profile.Skills.Count);
        foreach (var skill in profile.Skills)
        {
            ThrowIfProblem(catalog.CheckSkill(skill.Skill, "profile.skills.skill"));
            if (skill.Proficiency is < 1 or > 5)
            {
                throw Invalid($"profile.skills: proficiency in '{skill.Skill}' is {skill.Proficiency}; use 1 (novice) to 5 (expert).");
            }

            if (skills.Any(s => s.Skill == skill.Skill))
            {
                throw Invalid($"profile.skills lists '{skill.Skill}' twice.");
            }

            skills.Add(new SkillLevel(skill.Skill, (int)skill.Proficiency));
        }

        if (profile.Languages.Count == 0)
        {
            throw Invalid($"profile.languages needs at least one language; supported: {string.Join(", ", catalog.Languages)}.");
        }

        foreach (var language in profile.Languages)
        {
            ThrowIfProblem(catalog.CheckLanguage(language, "profile.languages"));
        }

        var capacity = ImmutableDictionary.CreateBuilder<string, int>(StringComparer.Ordinal);
        foreach (var channel in profile.Capacity)
        {
            ThrowIfProblem(RoutingCatalog.CheckToken(channel.Channel, "profile.capacity.channel", 32));
            if (channel.MaxConversations > MaxCapacity || !capacity.TryAdd(channel.Channel, (int)channel.MaxConversations))
            {
                throw Invalid($"profile.capacity for '{channel.Channel}' must appear once, with at most {MaxCapacity} conversations.");
            }
        }

        if (profile.DefaultCapacity > MaxCapacity)
        {
            throw Invalid($"profile.default_capacity is {profile.DefaultCapacity}; the limit is {MaxCapacity}.");
        }

        var defaultCapacity = profile.DefaultCapacity == 0 ? options.DefaultCapacity : (int)profile.DefaultCapacity;
        return new AgentProfile(displayName, skills.ToImmutable(), [.. profile.Languages.Distinct()], defaultCapacity, capacity.ToImmutable());
    }

    public static Proto.AgentProfile ToProto(AgentProfile profile)
    {
        var proto = new Proto.AgentProfile { DisplayName = profile.DisplayName, DefaultCapacity = (uint)profile.DefaultCapacity };
        proto.Skills.Add(profile.Skills.Select(s => new Proto.SkillLevel { Skill = s.Skill, Proficiency = (uint)s.Proficiency }));
        proto.Languages.Add(profile.Languages);
        proto.Capacity.Add(profile.CapacityByChannel.OrderBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => new Proto.ChannelCapacity { Channel = c.Key, MaxConversations = (uint)c.Value }));
        return proto;
    }

    public static AutomationLevel ToDomain(Proto.AutomationLevel level) => level switch
    {
        Proto.AutomationLevel.HumanOnly => AutomationLevel.HumanOnly,
        Proto.AutomationLevel.Copilot => AutomationLevel.Copilot,
        Proto.AutomationLevel.Supervised => AutomationLevel.Supervised,
        Proto.AutomationLevel.Autonomous => AutomationLevel.Autonomous,
        _ => throw Invalid($"level {(int)level} is not a level: use AUTOMATION_LEVEL_HUMAN_ONLY, _COPILOT, _SUPERVISED or _AUTONOMOUS."),
    };

    public static Proto.AutomationPolicy ToProto(AutomationPolicyView policy, IReadOnlyDictionary<string, IntentFiguresView>? figures = null)
    {
        var proto = new Proto.AutomationPolicy { Version = (uint)policy.Version };
        proto.Levels.Add(policy.Levels.Select(l => new Proto.IntentLevel
        {
            Intent = l.Key,
            Level = (Proto.AutomationLevel)(int)l.Value,
            Bot = figures?.GetValueOrDefault(l.Key) is { } f ? ToProto(f.Bot) : null,
            Human = figures?.GetValueOrDefault(l.Key) is { } g ? ToProto(g.Human) : null,
        }));
        proto.Audit.Add(policy.Audit.Select(c => new Proto.LevelChange
        {
            Time = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(c.At),
            Intent = c.IntentId,
            From = c.From is { } from ? (Proto.AutomationLevel)(int)from : Proto.AutomationLevel.Unspecified,
            To = (Proto.AutomationLevel)(int)c.To,
            ChangedBy = c.ChangedBy,
            Reason = c.Reason,
        }));
        return proto;
    }

    public static Proto.SideFigures ToProto(SideFigures side)
    {
        var proto = new Proto.SideFigures { Conversations = (uint)side.Conversations, Rated = (uint)side.Rated };
        if (side.AverageRating is { } rating)
        {
            proto.AverageRating = rating;
        }

        if (side.RepeatContactRate is { } repeats)
        {
            proto.RepeatContactRate = repeats;
        }

        if (side.EscalationRate is { } escalations)
        {
            proto.EscalationRate = escalations;
        }

        proto.Drafts = (uint)side.Drafts;
        if (side.DraftAcceptance is { } acceptance)
        {
            proto.DraftAcceptance = acceptance;
        }

        proto.Reviewed = (uint)side.Reviewed;
        if (side.ReviewApproval is { } approval)
        {
            proto.ReviewApproval = approval;
        }

        return proto;
    }

    public static AgentPresence ToDomain(Proto.Presence presence) => presence switch
    {
        Proto.Presence.Offline => AgentPresence.Offline,
        Proto.Presence.Available => AgentPresence.Available,
        Proto.Presence.Away => AgentPresence.Away,
        _ => throw Invalid($"presence {(int)presence} is not a presence: use PRESENCE_AVAILABLE, PRESENCE_AWAY or PRESENCE_OFFLINE."),
    };

    public static Proto.AgentEvent ToProto(AgentSync sync, RoutingOptions options)
    {
        var proto = new Proto.AgentSync { Status = ToProto(sync.Status), Settings = ToProto(options) };
        proto.Offers.Add(sync.Offers.Select(ToProto));
        proto.Assignments.Add(sync.Assignments.Select(ToProto));
        return new Proto.AgentEvent { Sync = proto };
    }

    public static Proto.AgentSettings ToProto(RoutingOptions options) => new()
    {
        OfferTimeoutSeconds = WholeSeconds(options.OfferTimeout),
        MissedOffersBeforeAway = (uint)options.MissedOffersBeforeAway,
        DisconnectGracePeriodSeconds = WholeSeconds(options.DisconnectGracePeriod),
    };

    // Rounded down: a desktop that trusts the figure acts in time.
    private static uint WholeSeconds(TimeSpan duration) => (uint)Math.Max(0, Math.Floor(duration.TotalSeconds));

    public static Proto.AgentEvent ToProto(AgentEvent agentEvent)
    {
        if (agentEvent.Offer is { } offer)
        {
            return new Proto.AgentEvent { Offer = ToProto(offer) };
        }

        if (agentEvent.WithdrawnOfferId is { } withdrawn)
        {
            return new Proto.AgentEvent
            {
                OfferWithdrawn = new Proto.OfferWithdrawn { OfferId = withdrawn, Reason = (Proto.WithdrawReason)agentEvent.WithdrawReason },
            };
        }

        if (agentEvent.Assigned is { } assigned)
        {
            return new Proto.AgentEvent { Assigned = ToProto(assigned) };
        }

        if (agentEvent.Notice != default)
        {
            return new Proto.AgentEvent
            {
                Notice = new Proto.Notice
                {
                    ConversationId = agentEvent.ConversationId ?? "",
                    Kind = (Proto.NoticeKind)agentEvent.Notice,
                    Detail = agentEvent.Detail ?? "",
                },
            };
        }

        if (!agentEvent.Entries.IsDefaultOrEmpty)
        {
            var entries = new Proto.ConversationEntries { ConversationId = agentEvent.ConversationId ?? "", Draft = agentEvent.Draft is { } draft ? ToProto(draft) : null };
            entries.Entries.Add(agentEvent.Entries.Select(ChannelMapping.ToProto));
            return new Proto.AgentEvent { Entries = entries };
        }

        if (agentEvent.Status is { } status)
        {
            var proto = ToProto(status);
            proto.Reason = agentEvent.Detail ?? "";
            return new Proto.AgentEvent { Status = proto };
        }

        throw new InvalidOperationException("An agent event without a body.");
    }

    public static Proto.Presence ToProto(AgentPresence presence) => presence switch
    {
        AgentPresence.Available => Proto.Presence.Available,
        AgentPresence.Away => Proto.Presence.Away,
        _ => Proto.Presence.Offline,
    };

    public static Proto.AgentStatus ToProto(AgentStatus status) => new()
    {
        AgentId = status.AgentId,
        DisplayName = status.DisplayName ?? "",
        Presence = ToProto(status.Presence),
        Connected = status.Connected,
        Assignments = (uint)status.Assignments,
        PendingOffers = (uint)status.PendingOffers,
        IdleSince = Timestamp.FromDateTimeOffset(status.IdleSince),
    };

    public static Proto.Offer ToProto(OfferView offer) => new()
    {
        OfferId = offer.OfferId,
        Queue = offer.QueueKey,
        Priority = offer.Priority,
        WaitingSince = Timestamp.FromDateTimeOffset(offer.WaitingSince),
        ExpiresAt = Timestamp.FromDateTimeOffset(offer.ExpiresAt),
        ExpiresInSeconds = (uint)Math.Max(0, Math.Round((offer.ExpiresAt - DateTimeOffset.UtcNow).TotalSeconds)),
        Context = ToProto(offer.Context),
    };

    public static Proto.Assignment ToProto(AssignmentView assignment) => new()
    {
        ConversationId = assignment.ConversationId,
        AssignedAt = Timestamp.FromDateTimeOffset(assignment.AssignedAt),
        Context = ToProto(assignment.Context),
    };

    public static Proto.CopilotDraft ToProto(CopilotDraft draft) => new()
    {
        DraftId = draft.DraftId,
        InReplyToSequence = (ulong)draft.InReplyToSequence,
        Text = draft.Text,
        Intent = draft.Intent,
        Confidence = draft.Confidence,
    };

    public static Proto.HandoffContext ToProto(HandoffContext context)
    {
        var proto = new Proto.HandoffContext
        {
            ConversationId = context.ConversationId,
            Channel = context.Channel,
            CustomerId = context.CustomerKey,
            CustomerName = context.CustomerName ?? "",
            Language = context.Language ?? "",
            CustomerTier = context.CustomerTier == CustomerTier.Vip ? Proto.CustomerTier.Vip : Proto.CustomerTier.Standard,
            PreviousContacts = (uint)context.PreviousContacts,
            Queue = context.QueueKey,
            HandoffReasonCode = context.HandoffReasonCode,
            HandoffReason = context.HandoffReason,
            BotSummary = context.BotSummary,
            LastSequence = (ulong)context.LastSequence,
        };
        proto.LastEntries.Add(context.LastEntries.Select(ChannelMapping.ToProto));
        proto.Draft = context.Draft is { } draft ? ToProto(draft) : null;
        if (context.HandoffReasonCode.Length > 0)
        {
            proto.HandoffReasonCodes.Add(context.HandoffReasonCodes.IsDefaultOrEmpty ? [context.HandoffReasonCode] : context.HandoffReasonCodes);
        }

        if (context.HandoffSignals is { } signals)
        {
            proto.HandoffSignals.Add(signals);
        }

        return proto;
    }

    public static Proto.QueueStats ToProto(QueueStats stats)
    {
        var (skill, language) = GrainKeys.SplitQueue(stats.QueueKey);
        var proto = new Proto.QueueStats
        {
            Queue = stats.QueueKey,
            Skill = skill,
            Language = language,
            Waiting = (uint)stats.Waiting,
            LongestWaitSeconds = (uint)Math.Round(stats.LongestWait.TotalSeconds),
            EstimatedWaitSeconds = (uint)Math.Round(stats.EstimatedWait?.TotalSeconds ?? 0),
            HasEstimate = stats.EstimatedWait is not null,
            AgentsAvailable = (uint)stats.AgentsAvailable,
            AgentsBusy = (uint)stats.AgentsBusy,
            ServiceLevelThresholdSeconds = (uint)Math.Round(stats.ServiceLevelThreshold.TotalSeconds),
            Answered = (uint)stats.Answered,
            Abandoned = (uint)stats.Abandoned,
        };
        if (stats.ServiceLevel is { } serviceLevel)
        {
            proto.ServiceLevel = serviceLevel;
        }

        return proto;
    }

    public static void ThrowIfProblem(string? problem)
    {
        if (problem is not null)
        {
            throw Invalid(problem);
        }
    }

    public static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}
