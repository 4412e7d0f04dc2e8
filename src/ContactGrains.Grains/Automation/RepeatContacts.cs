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
}
