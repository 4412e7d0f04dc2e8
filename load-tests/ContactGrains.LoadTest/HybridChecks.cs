using System.Collections.Concurrent;

namespace ContactGrains.LoadTest;

/// <summary>What a <c>hybrid</c> run saw happen to a conversation, from a desk or from the customer's side.</summary>
internal enum HybridEventKind
{
    /// <summary>An offer reached an agent's stream: from here the agent holds one of its slots.</summary>
    Offered,

    /// <summary>The agent's accept succeeded.</summary>
    Accepted,

    /// <summary>The agent stopped counting the conversation against its capacity (just before resolving, or the offer went away).</summary>
    Released,

    /// <summary>The customer's stream carried the first agent reply.</summary>
    Answered,

    /// <summary>The agent's resolve succeeded.</summary>
    Resolved,

    /// <summary>The customer's stream carried a QUEUED entry: the bot handed the conversation over.</summary>
    Queued,
}

/// <param name="Kind">What happened.</param>
/// <param name="ConversationId">The cluster's conversation id.</param>
/// <param name="Agent">The agent concerned (desk events), else null.</param>
internal sealed record HybridEvent(HybridEventKind Kind, string ConversationId, string? Agent = null);

/// <summary>A conversation the run started: its id, its plan and what it said.</summary>
internal sealed record StartedConversation(string ConversationId, string Thread, bool NeedsHuman, string Deciding);

/// <summary>The events of one run, in the order they were recorded (per agent, the order the desk saw them).</summary>
internal sealed class HybridRecorder
{
    private readonly ConcurrentQueue<HybridEvent> _events = new();
    private readonly ConcurrentDictionary<string, StartedConversation> _started = new(StringComparer.Ordinal);

    public void Record(HybridEventKind kind, string conversationId, string? agent = null) => _events.Enqueue(new HybridEvent(kind, conversationId, agent));

    public void Started(StartedConversation conversation) => _started[conversation.ConversationId] = conversation;

    public bool IsKnown(string conversationId) => _started.ContainsKey(conversationId);

    public IReadOnlyList<HybridEvent> Events => [.. _events];

    public IReadOnlyList<StartedConversation> Conversations => [.. _started.Values];
}

/// <summary>
/// The checks of a <c>hybrid</c> run, over what was recorded: pure, so each rule is tested on a table.
/// Every human-needing conversation was offered, accepted exactly once, answered (the customer saw an
/// agent's reply) and resolved exactly once; no agent held more than its capacity at once; no routine
/// conversation was handed over.
/// </summary>
internal static class HybridChecks
{
    /// <param name="conversations">Every conversation the run started.</param>
    /// <param name="events">What the desks and the customers' streams saw, in order.</param>
    /// <param name="capacity">Conversations an agent may hold at once.</param>
    /// <param name="finished">
    /// The conversations whose customer saw the end (null: all of them). A run stopped at its time limit
    /// checks the human-needing conversations still in flight only in <see cref="Unfinished"/>: they
    /// are not wrong, only unfinished. Capacity and false handoffs are checked for every conversation.
    /// </param>
    public static List<string> Verify(
        IReadOnlyList<StartedConversation> conversations, IReadOnlyList<HybridEvent> events, int capacity, IReadOnlySet<string>? finished = null)
    {
        var problems = new List<string>();

        // Capacity: per agent, the conversations held between an offer's arrival and their release.
        foreach (var agent in events.Where(e => e.Agent is not null).GroupBy(e => e.Agent!, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var held = new HashSet<string>(StringComparer.Ordinal);
            var most = 0;
            foreach (var e in agent)
            {
                if (e.Kind == HybridEventKind.Offered)
                {
                    held.Add(e.ConversationId);
                    most = Math.Max(most, held.Count);
                }
                else if (e.Kind == HybridEventKind.Released)
                {
                    held.Remove(e.ConversationId);
                }
            }

            if (most > capacity)
            {
                problems.Add($"agent {agent.Key} held {most} conversations at once (capacity {capacity})");
            }
        }

        var byConversation = events.ToLookup(e => e.ConversationId, StringComparer.Ordinal);
        foreach (var conversation in conversations.OrderBy(c => c.Thread, StringComparer.Ordinal))
        {
            var seen = byConversation[conversation.ConversationId].ToList();
            int Count(HybridEventKind kind) => seen.Count(e => e.Kind == kind);
            var name = $"{conversation.Thread} (\"{conversation.Deciding}\")";
            if (!conversation.NeedsHuman)
            {
                if (Count(HybridEventKind.Queued) > 0 || Count(HybridEventKind.Offered) > 0)
                {
                    problems.Add($"routine conversation {name} was handed over to a human");
                }

                continue;
            }

            if (finished is not null && !finished.Contains(conversation.ConversationId))
            {
                continue;
            }

            if (Count(HybridEventKind.Offered) == 0)
            {
                problems.Add($"{name} was never offered to an agent");
                continue;
            }

            var accepted = seen.Where(e => e.Kind == HybridEventKind.Accepted).Select(e => e.Agent).ToList();
            if (accepted.Count == 0)
            {
                problems.Add($"{name} was offered but never accepted");
                continue;
            }

            if (accepted.Count > 1)
            {
                problems.Add($"{name} was accepted {accepted.Count} times ({string.Join(", ", accepted)})");
            }

            if (Count(HybridEventKind.Answered) == 0)
            {
                problems.Add($"{name}: the customer never saw an agent's reply");
            }

            var resolved = Count(HybridEventKind.Resolved);
            if (resolved != 1)
            {
                problems.Add(resolved == 0 ? $"{name} was never resolved" : $"{name} was resolved {resolved} times");
            }
        }

        return problems;
    }

    /// <summary>
    /// Where the unfinished conversations of a run stopped at its time limit had got to, e.g. "3 routine;
    /// 5 human-needing: 2 not offered yet, 1 offered, 2 accepted" (accepted: not yet answered or resolved).
    /// </summary>
    public static string Unfinished(IReadOnlyList<StartedConversation> conversations, IReadOnlyList<HybridEvent> events, IReadOnlySet<string> finished)
    {
        var open = conversations.Where(c => !finished.Contains(c.ConversationId)).ToList();
        var kinds = events.ToLookup(e => e.ConversationId, e => e.Kind, StringComparer.Ordinal);
        var human = open.Where(c => c.NeedsHuman).Select(c => kinds[c.ConversationId].ToHashSet()).ToList();
        var stages = new (string Name, int Count)[]
        {
            ("not offered yet", human.Count(k => !k.Contains(HybridEventKind.Offered))),
            ("offered", human.Count(k => k.Contains(HybridEventKind.Offered) && !k.Contains(HybridEventKind.Accepted))),
            ("accepted", human.Count(k => k.Contains(HybridEventKind.Accepted))),
        };
        var detail = human.Count == 0 ? "" : ": " + string.Join(", ", stages.Where(s => s.Count > 0).Select(s => $"{s.Count} {s.Name}"));
        return $"{open.Count(c => !c.NeedsHuman)} routine; {human.Count} human-needing{detail}";
    }
}
