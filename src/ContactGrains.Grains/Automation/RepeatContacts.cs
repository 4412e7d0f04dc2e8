using ContactGrains.Contracts;

namespace ContactGrains.Grains.Automation;

/// <summary>
/// Whether a conversation is a repeat contact: the same customer, about the same intent, within
/// the window (7 days by default) after an earlier conversation. The earlier conversation's outcome
/// is the one that counts it (the bot or the human did not settle the matter).
/// </summary>
public static class RepeatContacts
{
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(7);

    /// <summary>
    /// The most recent earlier contact about <paramref name="intent"/> within <paramref name="window"/>
    /// before <paramref name="now"/>, other than <paramref name="conversationId"/> itself; null when none.
    /// </summary>
    public static IntentContact? FindEarlier(IEnumerable<IntentContact> earlier, string intent, string conversationId, DateTimeOffset now, TimeSpan window)
    {
        IntentContact? found = null;
        foreach (var contact in earlier)
        {
            if (contact.IntentId == intent && contact.ConversationId != conversationId && contact.At <= now && now - contact.At <= window
                && (found is null || contact.At > found.At))
            {
                found = contact;
            }
        }

        return found;
    }

    /// <summary>Open conversations asked for their answered intents when another starts: the newest few are enough.</summary>
    public const int OpenConversationsAsked = 3;

    /// <summary>
    /// The customer's other conversations that have not closed (as far as the customer knows) and
    /// started within <paramref name="window"/> before <paramref name="now"/>, newest first, at most
    /// <see cref="OpenConversationsAsked"/>: the customer records a conversation's intents only when
    /// it closes, so a new conversation asks these for theirs.
    /// </summary>
    public static IReadOnlyList<string> OpenEarlier(IEnumerable<ContactRecord> contacts, string conversationId, DateTimeOffset now, TimeSpan window) =>
        [.. contacts
            .Where(c => c.ClosedAt is null && c.ConversationId != conversationId && c.StartedAt <= now && now - c.StartedAt <= window)
            .OrderByDescending(c => c.StartedAt)
            .Take(OpenConversationsAsked)
            .Select(c => c.ConversationId)];
}
