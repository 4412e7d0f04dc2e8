using ContactGrains.Client;
using ContactGrains.Protos.V1;

namespace ContactGrains.Cli;

/// <summary>
/// The desk's view state on top of the library's <see cref="AgentDeskState"/> (offers, assignments,
/// entries): the numbering shown to the agent, the current conversation, what was already printed,
/// and the changes the desk's own commands report themselves. Applies the connection's events.
/// </summary>
/// <remarks>One lock guards it; the event task and the command loop both go through it.</remarks>
internal sealed class DeskState(AgentConnection connection, DeskView view, AgentOptions options)
{
    private readonly Lock _gate = new();

    // The last sequence printed of each conversation (offered or the agent's).
    private readonly Dictionary<string, ulong> _shown = new(StringComparer.Ordinal);

    // The conversations the agent was told are theirs.
    private readonly HashSet<string> _announced = new(StringComparer.Ordinal);

    // Conversations being accepted or let go by a command: the command reports them, not the event.
    private readonly HashSet<string> _own = new(StringComparer.Ordinal);
    private Presence? _presence;
    private Presence? _requestedPresence;
    private bool _signedIn;
    private bool _reconnecting;

    public string? Current { get; private set; }

    /// <summary>The last characters of an id (version-7 GUIDs: the leading ones are a shared timestamp, the trailing ones random).</summary>
    internal static string Short(string id) => id.Length <= 6 ? id : id[^6..];

    /// <summary>The short id in brackets, as shown on screen (as a markup hole: it is escaped).</summary>
    internal static string Tag(string id) => $"[{Short(id)}]";

    /// <summary>
    /// The item a command argument names: empty = the first, a number = its 1-based position, else
    /// the item whose id ends with the argument (the short id printed on screen); null if none or ambiguous.
    /// </summary>
    internal static T? Pick<T>(IReadOnlyList<T> items, string argument, Func<T, string> id)
        where T : class
    {
        if (argument.Length == 0)
        {
            return items.Count > 0 ? items[0] : null;
        }

        if (uint.TryParse(argument, out var number))
        {
            return number >= 1 && number <= items.Count ? items[(int)number - 1] : null;
        }

        var matches = items.Where(i => id(i).EndsWith(argument, StringComparison.OrdinalIgnoreCase)).Take(2).ToList();
        return matches.Count == 1 ? matches[0] : null;
    }

    public List<Offer> Offers() => connection.State(s => s.Offers
        .OrderBy(o => o.ExpiresAt?.ToDateTimeOffset() ?? DateTimeOffset.MaxValue).ThenBy(o => o.OfferId, StringComparer.Ordinal).ToList());

    public List<Assignment> Conversations() => connection.State(s => s.Assignments
        .OrderBy(a => a.AssignedAt?.ToDateTimeOffset() ?? DateTimeOffset.MaxValue).ThenBy(a => a.ConversationId, StringComparer.Ordinal).ToList());

    public string StatusLine() => connection.State(s =>
        $"{DeskView.DescribePresence(s.Status?.Presence)}, {DeskView.Count(s.Offers.Count, "pending offer")}, {DeskView.Count(s.Assignments.Count, "conversation")} (capacity {options.Capacity})");

    public void List()
    {
        lock (_gate)
        {
            view.List(StatusLine(), Offers(), Conversations(), Current);
        }
    }

    /// <summary>Marks a conversation as accepted or let go by a command, until disposed: the command reports it.</summary>
    public Scope Own(string conversationId)
    {
        lock (_gate)
        {
            _own.Add(conversationId);
        }

        return new Scope(() => { lock (_gate) { _own.Remove(conversationId); } });
    }

    /// <summary>Marks a presence as requested by a command, until disposed: the command reports it.</summary>
    public Scope Requesting(Presence presence)
    {
        lock (_gate)
        {
            _requestedPresence = presence;
        }

        return new Scope(() => { lock (_gate) { _requestedPresence = null; } });
    }

    public Offer? PickOffer(string argument)
    {
        var offers = Offers();
        var offer = offers.Count == 0 ? null : Pick(offers, argument, o => o.OfferId);
        if (offer is null)
        {
            view.Line(offers.Count == 0 ? (FormattableString)$"No pending offers." : $"No offer '{argument}': give a number from 1 to {offers.Count} (see /list) or an offer's short id.");
        }

        return offer;
    }

    public string? CurrentOrExplain()
    {
        lock (_gate)
        {
            if (Current is null)
            {
                view.Line(_announced.Count > 0 ? (FormattableString)$"No current conversation: choose one with /use n (see /list)." : $"No current conversation: /accept an offer first.");
            }

            return Current;
        }
    }

    public void Use(string argument)
    {
        lock (_gate)
        {
            var conversations = Conversations();
            if (conversations.Count == 0)
            {
                view.Line($"You have no conversations: /accept an offer first.");
            }
            else if (argument.Length == 0 || Pick(conversations, argument, a => a.ConversationId) is not { } chosen)
            {
                // Unlike /accept, no default: switching to an arbitrary conversation would surprise.
                view.Line($"Usage: /use n, with n from 1 to {conversations.Count} (see /list), or a conversation's short id.");
            }
            else
            {
                Current = chosen.ConversationId;
                view.Line($"Current conversation: {Describe(chosen)}. /transcript shows it all.");
            }
        }
    }

    /// <summary>An accepted offer: the conversation becomes current, and what the customer wrote since the offer is shown.</summary>
    public void Accepted(Assignment assignment)
    {
        lock (_gate)
        {
            var id = assignment.ConversationId;
            _announced.Add(id);
            Current = id;
            view.Line($"Accepted: conversation {Describe(assignment)} is now current.");
            ShowNew(id, connection.State(s => s.EntriesOf(id)));
            ShowDraft(id, assignment.Context?.Draft);
        }
    }

    /// <summary>After a transfer, resolve or hand-back: the conversation is no longer the agent's.</summary>
    public void LetGo(string conversationId, FormattableString message)
    {
        lock (_gate)
        {
            view.Line(message);
            Forget(conversationId);
        }
    }

    public void PresenceSet(AgentStatus status, FormattableString message)
    {
        lock (_gate)
        {
            _presence = status.Presence;
            view.Line(message);
        }
    }

    public void Apply(AgentDeskEvent desktopEvent)
    {
        lock (_gate)
        {
            switch (desktopEvent)
            {
                case AgentDeskEvent.Synced synced:
                    OnSynced(synced.Sync);
                    break;
                case AgentDeskEvent.OfferReceived { Offer: var offer }:
                    var conversationId = offer.Context?.ConversationId ?? "";
                    _shown[conversationId] = Math.Max(_shown.GetValueOrDefault(conversationId), offer.Context?.LastSequence ?? 0); // the offer shows its last messages
                    view.Offer(offer, Offers().FindIndex(o => o.OfferId == offer.OfferId) + 1);
                    break;
                case AgentDeskEvent.OfferWithdrawn withdrawn:
                    view.Notice($"Offer {Tag(withdrawn.OfferId)} withdrawn: {withdrawn.Reason switch
                    {
                        WithdrawReason.TimedOut => "it timed out and went to the next agent",
                        WithdrawReason.CustomerLeft => "the customer left",
                        WithdrawReason.AgentUnavailable => "you are no longer available",
                        WithdrawReason.TakenBack => "the queue took it back and will offer it again",
                        WithdrawReason.Reassigned => "a supervisor took it or sent it to another queue",
                        _ => "no reason given",
                    }}.");
                    break;
                case AgentDeskEvent.Assigned { Assignment: var assignment }:
                    var id = assignment.ConversationId;
                    if (!_own.Contains(id) && _announced.Add(id))
                    {
                        _shown[id] = Math.Max(_shown.GetValueOrDefault(id), assignment.Context?.LastSequence ?? 0);
                        Current ??= id; // accepted on another desktop of this agent
                        view.Notice($"Assigned conversation {Describe(assignment)}{(Current == id ? " (current)" : "")}");
                        ShowDraft(id, assignment.Context?.Draft);
                    }

                    break;
                case AgentDeskEvent.EntriesReceived received:
                    ShowNew(received.ConversationId, received.Entries);
                    ShowDraft(received.ConversationId, received.Draft);
                    break;
                case AgentDeskEvent.ConversationEnded ended when !_own.Contains(ended.ConversationId) && _announced.Contains(ended.ConversationId):
                    var what = ended.Reason switch
                    {
                        ConversationEndReason.CustomerLeft => "the customer left",
                        ConversationEndReason.Resolved => "resolved",
                        ConversationEndReason.ReturnedToQueue => "returned to its queue",
                        ConversationEndReason.TakenOver => "taken over by a supervisor",
                        _ => "no longer yours",
                    };
                    view.Notice($"{Tag(ended.ConversationId)} {what}{(ended.Detail.Length > 0 ? ": " + DeskView.Clip(ended.Detail) : "")}");
                    Forget(ended.ConversationId);
                    break;
                case AgentDeskEvent.StatusChanged { Status: var status }:
                    OnStatus(status);
                    break;
                case AgentDeskEvent.ConnectionChanged { Change: var change }:
                    OnConnection(change);
                    break;
            }
        }
    }

    /// <summary>What the agent is told on leaving.</summary>
    public void SignedOut()
    {
        var (conversations, offers, grace) = connection.State(s => (s.Assignments.Count, s.Offers.Count, s.Settings.DisconnectGracePeriodSeconds));
        view.Line(conversations + offers == 0
            ? (FormattableString)$"Signed out."
            : $"Signed out with {DeskView.Count(conversations, "conversation")} and {DeskView.Count(offers, "offer")}: the server keeps them for {(grace > 0 ? $"its {grace}-s grace period" : "its grace period (30 s by default)")} in case you come back, then returns them to their queues. /offline before /quit hands them back at once.");
    }

    private void OnSynced(AgentSync sync)
    {
        var heading = !_signedIn ? $"Signed in to {connection.Address} as {connection.AgentId}" : _reconnecting ? $"Reconnected to {connection.Address}" : "Re-synced";
        var assigned = sync.Assignments.Select(a => a.ConversationId).ToHashSet(StringComparer.Ordinal);
        var offered = sync.Offers.Select(o => o.Context?.ConversationId ?? "");
        foreach (var gone in _shown.Keys.Where(k => !assigned.Contains(k) && !offered.Contains(k)).ToList())
        {
            _shown.Remove(gone);
        }

        _announced.IntersectWith(assigned);
        if (Current is null || !assigned.Contains(Current))
        {
            Current = assigned.Count == 1 ? assigned.First() : null;
        }

        _presence = sync.Status?.Presence;
        view.Line($"{heading}: {StatusLine()}.");
        view.List(null, Offers(), Conversations(), Current);

        // Conversations already on screen: show what arrived while the stream was down.
        foreach (var assignment in sync.Assignments)
        {
            var id = assignment.ConversationId;
            if (_announced.Add(id))
            {
                _shown[id] = Math.Max(_shown.GetValueOrDefault(id), assignment.Context?.LastSequence ?? 0);
            }
            else
            {
                ShowNew(id, connection.State(s => s.EntriesOf(id)));
            }
        }

        if (!_signedIn)
        {
            _signedIn = true;
            var settings = connection.State(s => s.Settings);
            if (settings.OfferTimeoutSeconds > 0)
            {
                view.Line($"Offers wait {settings.OfferTimeoutSeconds} s for your answer ({DeskView.Count((int)settings.MissedOffersBeforeAway, "missed offer")} in a row set you away). If your connection drops, your conversations stay yours for {settings.DisconnectGracePeriodSeconds} s.");
            }

            view.Line($"Type [bold]/help[/] for the commands.");
        }

        _reconnecting = false;
    }

    private void OnStatus(AgentStatus status)
    {
        var before = _presence;
        _presence = status.Presence;
        if (status.Presence == before || status.Presence == _requestedPresence)
        {
            return; // only the load changed, or the presence command reports it
        }

        // The server says why when it changed the presence itself (e.g. after missed offers).
        var why = status.Reason.Length > 0 ? $" ({status.Reason.TrimEnd('.')})" : "";
        view.Notice(status.Presence switch
        {
            Presence.Away => $"You were set away{why}: no new offers. /available to take offers again.",
            Presence.Offline => $"You were set offline{why}: no offers, and your conversations went back to their queues. /available to come back.",
            _ => $"You are now {DeskView.DescribePresence(status.Presence)}.",
        });
    }

    private void OnConnection(ConnectionStateChange change)
    {
        // A failure ends the event reader: the desk reports it with its reason.
        if (change.State == ConnectionState.Reconnecting)
        {
            _reconnecting = true;
            var what = change.Attempt == 1 ? "event stream lost" : "reconnect failed";
            view.Error($"{what} ({change.Status?.StatusCode}: {change.Status?.Detail}); reconnecting to {change.Address} (attempt {change.Attempt})…");
        }
    }

    /// <summary>Prints the entries after the last one shown (never the agent's own messages: shown when sent).</summary>
    /// <summary>The bot's draft reply, for a copilot intent: the agent sends it (/draft), edits it, or drops it (/discard).</summary>
    private void ShowDraft(string conversationId, CopilotDraft? draft)
    {
        if (draft is not null)
        {
            view.Line($"{Tag(conversationId)} [grey]bot draft ({draft.Intent}, {draft.Confidence:P0}):[/] {DeskView.Clip(draft.Text)} [grey](/draft sends it, /draft TEXT your edit, /discard drops it)[/]");
        }
    }

    private void ShowNew(string conversationId, IEnumerable<TimelineEntry> entries)
    {
        var shown = _shown.GetValueOrDefault(conversationId);
        foreach (var entry in entries.Where(e => e.Sequence > shown).OrderBy(e => e.Sequence))
        {
            if (entry.Message is not { Sender: SenderKind.Agent } message || message.SenderId != connection.AgentId)
            {
                view.Entry(conversationId, entry);
            }

            shown = entry.Sequence;
        }

        _shown[conversationId] = shown;
    }

    private void Forget(string conversationId)
    {
        _shown.Remove(conversationId);
        if (!_announced.Remove(conversationId) || Current != conversationId)
        {
            return;
        }

        // With one conversation left there is no doubt which one the next line is for.
        Current = _announced.Count == 1 ? _announced.First() : null;
        view.Line(Current is not null ? (FormattableString)$"  current conversation is now {Tag(Current)}."
            : _announced.Count > 0 ? (FormattableString)$"  no current conversation: /use n (see /list)." : $"  no conversations left.");
    }

    // The connection names a silo by its gRPC target (host:port): show the URL it was given.
    private string Describe(Assignment assignment)
    {
        var number = Conversations().FindIndex(a => a.ConversationId == assignment.ConversationId) + 1;
        var context = assignment.Context ?? new HandoffContext();
        return $"{number} {Tag(assignment.ConversationId)} ({context.Queue}, {DeskView.DescribeCustomer(context)})";
    }

    /// <summary>Undoes an <see cref="Own"/> mark.</summary>
    public sealed class Scope(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}
