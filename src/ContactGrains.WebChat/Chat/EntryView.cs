using System.Globalization;
using ContactGrains.Protos.V1;
using ContactGrains.WebChat.Resources;
using ContactGrains.WebChat.Sessions;

namespace ContactGrains.WebChat.Chat;

/// <summary>
/// One timeline entry as the page draws it. Status lines are written here, in the customer's
/// language, from the entry's structured fields (position, wait, agent name), so every line the
/// page shows that is not a message comes from this app's texts.
/// </summary>
/// <param name="Id">"conversationId:sequence": the SSE event id, unique on the page across conversations.</param>
/// <param name="ConversationId">The conversation it belongs to.</param>
/// <param name="Sequence">Its place in the conversation (1, 2, 3, … with no gap).</param>
/// <param name="Time">When it happened.</param>
/// <param name="Kind">customer, bot, agent, system (a notice from the cluster) or status.</param>
/// <param name="Text">The message, or the status line.</param>
/// <param name="Status">For status entries: started, queued, agent-joined, resolved, closed, bot-resumed.</param>
/// <param name="ClientMessageId">For the customer's messages: the id the page gave it, to replace its "sending" bubble.</param>
/// <param name="AgentName">For agent-joined: the agent's name, which the page shows on the agent's messages.</param>
public sealed record EntryView(
    string Id,
    string ConversationId,
    ulong Sequence,
    DateTimeOffset Time,
    string Kind,
    string Text,
    string? Status = null,
    string? ClientMessageId = null,
    string? AgentName = null)
{
    /// <summary>The SSE event id of an entry.</summary>
    public static string EventId(string conversationId, ulong sequence) =>
        conversationId + ":" + sequence.ToString(CultureInfo.InvariantCulture);

    /// <summary>Reads an SSE event id back; false if it is not one.</summary>
    public static bool TryParseEventId(string? value, out string conversationId, out ulong sequence)
    {
        conversationId = "";
        sequence = 0;
        var colon = value?.LastIndexOf(':') ?? -1;
        if (value is null || colon <= 0 || colon > 128
            || !ulong.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out sequence))
        {
            return false;
        }

        conversationId = value[..colon];
        return true;
    }

    /// <summary>The page's view of <paramref name="entry"/>, for <paramref name="visitor"/>, in <paramref name="culture"/>'s language.</summary>
    public static EntryView From(TimelineEntry entry, VisitorSessions.Visitor visitor, CultureInfo culture)
    {
        var id = EventId(entry.ConversationId, entry.Sequence);
        var time = entry.Time?.ToDateTimeOffset() ?? DateTimeOffset.UtcNow;
        if (entry.Message is { } message)
        {
            return message.Sender switch
            {
                SenderKind.Customer => new(id, entry.ConversationId, entry.Sequence, time, "customer", message.Text,
                    ClientMessageId: visitor.ClientMessageId(message.AdapterMessageId)),
                SenderKind.Bot => new(id, entry.ConversationId, entry.Sequence, time, "bot", message.Text),
                SenderKind.Agent => new(id, entry.ConversationId, entry.Sequence, time, "agent", message.Text),
                _ => new(id, entry.ConversationId, entry.Sequence, time, "system", message.Text),
            };
        }

        var status = entry.Status ?? new StatusEvent();
        var (name, text) = status.Kind switch
        {
            StatusKind.Started => ("started", WebChatText.Get("ConversationStarted", culture)),
            StatusKind.Queued => ("queued", QueueLine(status, culture)),
            StatusKind.AgentJoined => ("agent-joined", WebChatText.Format(
                "AgentJoined", culture, string.IsNullOrWhiteSpace(status.AgentName) ? WebChatText.Get("SomeAdviser", culture) : status.AgentName)),
            StatusKind.Resolved => ("resolved", WebChatText.Get("Resolved", culture)),
            StatusKind.Closed => ("closed", WebChatText.Get("Closed", culture)),
            StatusKind.BotResumed => ("bot-resumed", WebChatText.Get("BotResumed", culture)),

            // The question and the thanks, in the customer's language, from the cluster; the page
            // shows 1-5 buttons under the question, which send the rating as a message.
            StatusKind.RatingRequested => ("rating-requested", status.Detail),
            StatusKind.RatingReceived => ("rating-received", status.Detail),

            // A status this version does not know: the cluster's own sentence, already in the customer's language.
            _ => ("other", status.Detail),
        };
        return new(id, entry.ConversationId, entry.Sequence, time, "status", text, Status: name,
            AgentName: status.Kind == StatusKind.AgentJoined && !string.IsNullOrWhiteSpace(status.AgentName) ? status.AgentName : null);
    }

    private static string QueueLine(StatusEvent status, CultureInfo culture)
    {
        var place = status.QueuePosition > 0
            ? WebChatText.Format("QueuedPosition", culture, status.QueuePosition)
            : WebChatText.Get("QueuedNoPosition", culture);
        return status.EstimatedWaitSeconds switch
        {
            0 => place,
            < 60 => place + " " + WebChatText.Get("WaitUnderMinute", culture),
            var seconds => place + " " + WebChatText.Format("WaitMinutes", culture, (seconds + 59) / 60),
        };
    }
}
