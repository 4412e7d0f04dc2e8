using ContactGrains.Protos.V1;

namespace ContactGrains.Client;

/// <summary>
/// What an agent desktop knows, rebuilt from the events of its stream: status, pending offers,
/// assignments, and every entry of each assigned conversation, in sequence. Pure and single-threaded;
/// <see cref="AgentConnection"/> keeps one behind a lock.
/// </summary>
public sealed class AgentDeskState
{
    // Ordered: a Dictionary reuses a removed offer's slot, so its order is not the order of arrival.
    private readonly OrderedDictionary<string, Offer> _offers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Assignment> _assignments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedList<ulong, TimelineEntry>> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CopilotDraft> _drafts = new(StringComparer.Ordinal);

    /// <summary>The agent's latest status (null before the first sync).</summary>
    public AgentStatus? Status { get; private set; }

    /// <summary>The server's routing timings, from the latest sync.</summary>
    public AgentSettings Settings { get; private set; } = new();

    /// <summary>Offers waiting for an answer, oldest first.</summary>
    public IReadOnlyList<Offer> Offers => [.. _offers.Values];

    /// <summary>The agent's conversations.</summary>
    public IReadOnlyList<Assignment> Assignments => [.. _assignments.Values];

    /// <summary>The offer with this id, if pending.</summary>
    public Offer? FindOffer(string offerId) => _offers.GetValueOrDefault(offerId);

    /// <summary>The assignment of this conversation, if the agent has it.</summary>
    public Assignment? FindAssignment(string conversationId) => _assignments.GetValueOrDefault(conversationId);

    /// <summary>The entries known of a conversation (from offers, assignments, pushes and the agent's own messages), by sequence.</summary>
    public IReadOnlyList<TimelineEntry> EntriesOf(string conversationId) =>
        _entries.TryGetValue(conversationId, out var entries) ? [.. entries.Values] : [];

    /// <summary>The bot's current draft reply in a conversation of a copilot intent, if any.</summary>
    public CopilotDraft? DraftOf(string conversationId) => _drafts.GetValueOrDefault(conversationId);

    /// <summary>A newer draft from the server (it replaces the previous one).</summary>
    public void Apply(string conversationId, CopilotDraft draft) => _drafts[conversationId] = draft;

    /// <summary>The draft was used or discarded.</summary>
    public void ForgetDraft(string conversationId, string draftId)
    {
        if (_drafts.TryGetValue(conversationId, out var draft) && draft.DraftId == draftId)
        {
            _drafts.Remove(conversationId);
        }
    }

    /// <summary>The last sequence known of a conversation with no gap before it (0: none).</summary>
    public ulong ContiguousSequence(string conversationId)
    {
        if (!_entries.TryGetValue(conversationId, out var entries) || entries.Count == 0)
        {
            return 0;
        }

        // Entries from a handoff context start at some sequence, not 1: contiguous from the first known.
        var last = entries.Keys[0];
        foreach (var sequence in entries.Keys)
        {
            if (sequence > last + 1)
            {
                break;
            }

            last = sequence;
        }

        return last;
    }

    /// <summary>Replaces everything with a sync's state.</summary>
    public void Apply(AgentSync sync)
    {
        Status = sync.Status;
        if (sync.Settings is not null)
        {
            Settings = sync.Settings;
        }

        _offers.Clear();
        foreach (var offer in sync.Offers)
        {
            _offers[offer.OfferId] = offer;
            Learn(offer.Context);
        }

        var kept = sync.Assignments.Select(a => a.ConversationId).Concat(sync.Offers.Select(o => o.Context?.ConversationId ?? "")).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _entries.Keys.Where(id => !kept.Contains(id)).ToList())
        {
            _entries.Remove(gone);
        }

        _drafts.Clear();

        _assignments.Clear();
        foreach (var assignment in sync.Assignments)
        {
            _assignments[assignment.ConversationId] = assignment;
            Learn(assignment.Context);
        }
    }

    /// <summary>A new offer.</summary>
    public void Apply(Offer offer)
    {
        _offers[offer.OfferId] = offer;
        Learn(offer.Context);
    }

    /// <summary>An offer was withdrawn; returns whether it was pending.</summary>
    public bool Withdraw(string offerId)
    {
        if (!_offers.Remove(offerId, out var offer))
        {
            return false;
        }

        if (offer.Context is { } context && !_assignments.ContainsKey(context.ConversationId))
        {
            _entries.Remove(context.ConversationId);
        }

        return true;
    }

    /// <summary>A conversation was assigned (its offer, if pending, is answered by that).</summary>
    public void Apply(Assignment assignment)
    {
        foreach (var answered in _offers.Where(o => o.Value.Context?.ConversationId == assignment.ConversationId).Select(o => o.Key).ToList())
        {
            _offers.Remove(answered);
        }

        _assignments[assignment.ConversationId] = assignment;
        Learn(assignment.Context);
    }

    /// <summary>Adds entries of a conversation; returns those that were new, in sequence.</summary>
    public IReadOnlyList<TimelineEntry> Add(string conversationId, IEnumerable<TimelineEntry> entries)
    {
        if (!_entries.TryGetValue(conversationId, out var known))
        {
            _entries[conversationId] = known = [];
        }

        var added = new List<TimelineEntry>();
        foreach (var entry in entries)
        {
            if (known.TryAdd(entry.Sequence, entry))
            {
                added.Add(entry);
            }
        }

        added.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
        return added;
    }

    /// <summary>A conversation left the agent; returns whether the agent had it.</summary>
    public bool End(string conversationId)
    {
        _entries.Remove(conversationId);
        _drafts.Remove(conversationId);
        return _assignments.Remove(conversationId);
    }

    /// <summary>The agent's status changed.</summary>
    public void Apply(AgentStatus status) => Status = status;

    /// <summary>The state as a sync, for a desktop that must redraw everything.</summary>
    public AgentSync ToSync()
    {
        var sync = new AgentSync { Status = Status, Settings = Settings };
        sync.Offers.Add(_offers.Values);
        sync.Assignments.Add(_assignments.Values);
        return sync;
    }

    private void Learn(HandoffContext? context)
    {
        if (context is not null)
        {
            Add(context.ConversationId, context.LastEntries);
            if (context.Draft is { } draft)
            {
                _drafts[context.ConversationId] = draft;
            }
        }
    }
}
