using ContactGrains.Protos.V1;

namespace ContactGrains.Client;

/// <summary>Why a conversation left the agent.</summary>
public enum ConversationEndReason
{
    /// <summary>The customer (or their adapter) closed it, or it closed for inactivity.</summary>
    CustomerLeft,

    /// <summary>Resolved by this agent (on this desktop or another).</summary>
    Resolved,

    /// <summary>Back to a queue: the agent went offline or lost its connection for too long, or a supervisor sent it there.</summary>
    ReturnedToQueue,

    /// <summary>This desktop transferred it.</summary>
    Transferred,

    /// <summary>This desktop handed it back to the bot.</summary>
    HandedBack,

    /// <summary>A supervisor took it over.</summary>
    TakenOver,
}

/// <summary>
/// What an <see cref="AgentConnection"/> tells its desktop, in order. A <see cref="Synced"/> replaces
/// everything the desktop shows; it comes first, after every reconnection, when the server detected a
/// lost event, and when the desktop read too slowly to be given every event.
/// </summary>
public abstract record AgentDeskEvent
{
    private AgentDeskEvent()
    {
    }

    /// <summary>The agent's whole state: status, offers, assignments and the server's timings.</summary>
    public sealed record Synced(AgentSync Sync) : AgentDeskEvent;

    /// <summary>A conversation is offered: accept before it expires, or decline.</summary>
    public sealed record OfferReceived(Offer Offer) : AgentDeskEvent;

    /// <summary>An offer is gone (timed out, the customer left, the agent became unavailable).</summary>
    public sealed record OfferWithdrawn(string OfferId, WithdrawReason Reason) : AgentDeskEvent;

    /// <summary>A conversation is now the agent's (an accepted offer, from any of its desktops).</summary>
    public sealed record Assigned(Assignment Assignment) : AgentDeskEvent;

    /// <summary>
    /// New entries of one of the agent's conversations, in sequence with no gap and no duplicate, with
    /// the bot's new draft reply when the conversation's intent is at the copilot level.
    /// </summary>
    public sealed record EntriesReceived(string ConversationId, IReadOnlyList<TimelineEntry> Entries, CopilotDraft? Draft = null) : AgentDeskEvent;

    /// <summary>A conversation left the agent.</summary>
    public sealed record ConversationEnded(string ConversationId, ConversationEndReason Reason, string Detail) : AgentDeskEvent;

    /// <summary>The agent's presence or load changed (e.g. set away after missed offers).</summary>
    public sealed record StatusChanged(AgentStatus Status) : AgentDeskEvent;

    /// <summary>The connection's stream broke, came back, or gave up.</summary>
    public sealed record ConnectionChanged(ConnectionStateChange Change) : AgentDeskEvent;
}
