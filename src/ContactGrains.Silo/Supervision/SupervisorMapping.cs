using System.Collections.Immutable;
using ContactGrains.Contracts;
using ContactGrains.Silo.Agents;
using ContactGrains.Silo.Channels;
using Google.Protobuf.WellKnownTypes;
using Proto = ContactGrains.Protos.V1;

namespace ContactGrains.Silo.Supervision;

/// <summary>Converts between the supervisor API's messages and the grains' types.</summary>
internal static class SupervisorMapping
{
    /// <summary>
    /// The agents the queues know, one entry each (the most recent announcement wins), with the
    /// queues each serves. Queues forget agents that stop announcing, so signed-out agents drop off.
    /// </summary>
    public static IEnumerable<Proto.AgentOnFloor> Agents(IEnumerable<(string Key, ImmutableArray<RosterEntry> Roster)> rosters)
    {
        var latest = new Dictionary<string, RosterEntry>(StringComparer.Ordinal);
        var queues = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var (key, roster) in rosters)
        {
            foreach (var entry in roster)
            {
                if (!latest.TryGetValue(entry.AgentId, out var known) || known.Version < entry.Version)
                {
                    latest[entry.AgentId] = entry;
                }

                if (!queues.TryGetValue(entry.AgentId, out var served))
                {
                    queues[entry.AgentId] = served = new SortedSet<string>(StringComparer.Ordinal);
                }

                served.Add(key);
            }
        }

        return latest.Values.OrderBy(e => e.DisplayName, StringComparer.OrdinalIgnoreCase).ThenBy(e => e.AgentId, StringComparer.Ordinal).Select(entry =>
        {
            var channels = entry.CapacityByChannel.Keys.Concat(entry.UsedByChannel.Keys).Distinct(StringComparer.Ordinal).ToList();
            var proto = new Proto.AgentOnFloor
            {
                AgentId = entry.AgentId,
                DisplayName = entry.DisplayName,
                Presence = AgentMapping.ToProto(entry.Presence),
                Connected = entry.Connected,
                Conversations = (uint)entry.UsedByChannel.Values.Sum(),
                Capacity = (uint)(channels.Count == 0 ? entry.DefaultCapacity : channels.Sum(entry.CapacityFor)),
                IdleSince = Timestamp.FromDateTimeOffset(entry.IdleSince),
            };
            proto.Queues.Add(queues[entry.AgentId]);
            return proto;
        });
    }

    public static Proto.QueueHistory ToProto(QueueHistoryView history)
    {
        var proto = new Proto.QueueHistory
        {
            Queue = history.QueueKey,
            IntervalMinutes = (uint)history.Interval.TotalMinutes,
            ServiceLevelThresholdSeconds = (uint)history.ServiceLevelThreshold.TotalSeconds,
        };
        proto.Intervals.Add(history.Intervals.Select(i =>
        {
            var interval = new Proto.QueueInterval
            {
                Start = Timestamp.FromDateTimeOffset(i.Start),
                Answered = (uint)i.Answered,
                Abandoned = (uint)i.Abandoned,
                AverageWaitSeconds = (uint)i.AverageWaitSeconds,
                LongestWaitSeconds = (uint)i.LongestWaitSeconds,
            };
            if (i.ServiceLevel is { } level)
            {
                interval.ServiceLevel = level;
            }

            return interval;
        }));
        return proto;
    }

    public static Proto.ConversationSummary ToProto(OpenConversation conversation) => new()
    {
        ConversationId = conversation.ConversationId,
        Channel = conversation.Channel,
        CustomerName = conversation.CustomerName ?? "",
        Language = conversation.Language ?? "",
        Intent = conversation.Intent ?? "",
        Owner = ChannelMapping.ToProto(conversation.Owner),
        OwnerSince = Timestamp.FromDateTimeOffset(conversation.OwnerSince),
        ReasonCode = conversation.ReasonCode,
        StartedAt = Timestamp.FromDateTimeOffset(conversation.StartedAt),
    };

    public static Proto.SupervisedConversation ToProto(SupervisionView view, AutomationLevel? level)
    {
        var proto = new Proto.SupervisedConversation
        {
            Summary = ToProto(view.Summary),
            Status = view.Status == ConversationStatus.Closed ? Proto.ConversationStatus.Closed : Proto.ConversationStatus.Open,
            IntentLevel = level is { } known ? (Proto.AutomationLevel)(int)known : Proto.AutomationLevel.Unspecified,
        };
        proto.Ledger.Add(view.Ledger.Select(ChannelMapping.ToProto));
        proto.LastEntries.Add(view.LastEntries.Select(ChannelMapping.ToProto));
        return proto;
    }

    public static Proto.Review ToProto(ReviewItem review)
    {
        var proto = new Proto.Review
        {
            ConversationId = review.ConversationId,
            Intent = review.Intent,
            Channel = review.Channel,
            ClosedAt = Timestamp.FromDateTimeOffset(review.ClosedAt),
            Verdict = review.Verdict is { } verdict ? (Proto.ReviewVerdict)(int)verdict : Proto.ReviewVerdict.Unspecified,
            ReviewedBy = review.ReviewedBy ?? "",
            Note = review.Note ?? "",
        };
        if (review.ReviewedAt is { } at)
        {
            proto.ReviewedAt = Timestamp.FromDateTimeOffset(at);
        }

        return proto;
    }
}
