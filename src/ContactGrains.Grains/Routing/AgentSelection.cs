using ContactGrains.Contracts;

namespace ContactGrains.Grains.Routing;

/// <summary>The rings of bullseye routing, innermost first: a conversation widens outwards as it waits.</summary>
public enum RoutingRing
{
    /// <summary>The agent a transfer named: alone, for one offer timeout.</summary>
    NamedAgent = 0,

    /// <summary>The queue's agents proficient in its skill (at least the preferred proficiency).</summary>
    Proficient = 1,

    /// <summary>The queue's agents at any proficiency.</summary>
    AnyProficiency = 2,

    /// <summary>Agents of the other skills' queues in the same language.</summary>
    OtherQueues = 3,
}

/// <summary>An agent a conversation may be offered to, and from which ring.</summary>
public sealed record Candidate(string AgentId, RoutingRing Ring);

/// <summary>
/// Who gets offered a waiting conversation: pure rules, so they can be tested as a table. Among
/// available agents with free capacity on the conversation's channel, in the widest ring its wait
/// allows: inner rings first, then the lowest load ratio, then the longest idle.
/// </summary>
public static class AgentSelection
{
    /// <summary>The widest ring a conversation that has waited <paramref name="waited"/> may use.</summary>
    public static RoutingRing WidestRing(TimeSpan waited, RoutingOptions options) =>
        waited >= options.WidenToOtherQueuesAfter ? RoutingRing.OtherQueues
        : waited >= options.WidenToAnyProficiencyAfter ? RoutingRing.AnyProficiency
        : RoutingRing.Proficient;

    /// <summary>True while a transfer's named agent has the conversation to itself.</summary>
    public static bool IsReservedForNamedAgent(WaitingConversation waiting, DateTimeOffset now, RoutingOptions options) =>
        waiting.PreferredAgentId is { } named
        && !waiting.PassedBy.ContainsKey(named)
        && now - waiting.EnqueuedAt < options.OfferTimeout;

    /// <summary>Candidates in the order they should be offered the conversation; empty when nobody can take it now.</summary>
    public static IReadOnlyList<Candidate> Rank(
        WaitingConversation waiting,
        DateTimeOffset now,
        IEnumerable<RosterEntry> ownRoster,
        IEnumerable<RosterEntry> otherQueuesRoster,
        RoutingOptions options)
    {
        if (IsReservedForNamedAgent(waiting, now, options))
        {
            // The named agent may not serve this queue, so it may not be on its roster: the agent decides.
            return [new Candidate(waiting.PreferredAgentId!, RoutingRing.NamedAgent)];
        }

        var widest = WidestRing(now - waiting.WaitingSince, options);
        var ranked = new List<(RosterEntry Agent, RoutingRing Ring)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var agent in ownRoster)
        {
            seen.Add(agent.AgentId);
            var ring = agent.Proficiency >= options.PreferredProficiency ? RoutingRing.Proficient : RoutingRing.AnyProficiency;
            if (ring <= widest && CanTake(agent, waiting, now, options))
            {
                ranked.Add((agent, ring));
            }
        }

        if (widest >= RoutingRing.OtherQueues)
        {
            foreach (var agent in otherQueuesRoster)
            {
                if (seen.Add(agent.AgentId) && CanTake(agent, waiting, now, options))
                {
                    ranked.Add((agent, RoutingRing.OtherQueues));
                }
            }
        }

        return ranked
            .OrderBy(c => c.Ring)
            .ThenBy(c => c.Agent.LoadRatioOn(waiting.Channel))
            .ThenBy(c => c.Agent.IdleSince)
            .ThenBy(c => c.Agent.AgentId, StringComparer.Ordinal)
            .Select(c => new Candidate(c.Agent.AgentId, c.Ring))
            .ToList();
    }

    /// <summary>
    /// The first of <see cref="Rank"/>'s candidates, or null when nobody can take the conversation
    /// now: one scan of the rosters, without building and sorting the whole list. A routing pass asks
    /// this for every waiting conversation against every agent of the queue.
    /// </summary>
    public static Candidate? Best(
        WaitingConversation waiting,
        DateTimeOffset now,
        IEnumerable<RosterEntry> ownRoster,
        IEnumerable<RosterEntry> otherQueuesRoster,
        RoutingOptions options)
    {
        if (IsReservedForNamedAgent(waiting, now, options))
        {
            return new Candidate(waiting.PreferredAgentId!, RoutingRing.NamedAgent);
        }

        var widest = WidestRing(now - waiting.WaitingSince, options);

        // Only a conversation that reached the other queues needs to know who is on its own roster.
        var seen = widest >= RoutingRing.OtherQueues ? new HashSet<string>(StringComparer.Ordinal) : null;
        RosterEntry? best = null;
        var bestRing = RoutingRing.OtherQueues;
        foreach (var agent in ownRoster)
        {
            seen?.Add(agent.AgentId);
            var ring = agent.Proficiency >= options.PreferredProficiency ? RoutingRing.Proficient : RoutingRing.AnyProficiency;
            if (ring <= widest && CanTake(agent, waiting, now, options) && (best is null || Before(agent, ring, best, bestRing, waiting.Channel)))
            {
                (best, bestRing) = (agent, ring);
            }
        }

        if (seen is not null)
        {
            foreach (var agent in otherQueuesRoster)
            {
                if (seen.Add(agent.AgentId) && CanTake(agent, waiting, now, options)
                    && (best is null || Before(agent, RoutingRing.OtherQueues, best, bestRing, waiting.Channel)))
                {
                    (best, bestRing) = (agent, RoutingRing.OtherQueues);
                }
            }
        }

        return best is null ? null : new Candidate(best.AgentId, bestRing);
    }

    // Rank's order: inner ring, then lower load on the channel, then idle longer, then the agent id.
    private static bool Before(RosterEntry agent, RoutingRing ring, RosterEntry other, RoutingRing otherRing, string channel)
    {
        if (ring != otherRing)
        {
            return ring < otherRing;
        }

        var load = agent.LoadRatioOn(channel).CompareTo(other.LoadRatioOn(channel));
        if (load != 0)
        {
            return load < 0;
        }

        var idle = agent.IdleSince.CompareTo(other.IdleSince);
        return idle != 0 ? idle < 0 : string.CompareOrdinal(agent.AgentId, other.AgentId) < 0;
    }

    private static bool CanTake(RosterEntry agent, WaitingConversation waiting, DateTimeOffset now, RoutingOptions options) =>
        agent.Presence == AgentPresence.Available
        && agent.Connected
        && agent.FreeOn(waiting.Channel) > 0
        && !(waiting.PassedBy.TryGetValue(agent.AgentId, out var passedAt) && now - passedAt < options.ReofferAfter);
}
