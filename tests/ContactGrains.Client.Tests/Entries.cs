using ContactGrains.Protos.V1;

namespace ContactGrains.Client.Tests;

/// <summary>Timeline entries for tests: a customer message, or the CLOSED status that ends a conversation.</summary>
internal static class Entries
{
    public static TimelineEntry Message(string conversationId, ulong sequence) => new()
    {
        ConversationId = conversationId,
        Sequence = sequence,
        Message = new ChatMessage { Sender = SenderKind.Customer, Text = $"message {sequence}" },
    };

    public static TimelineEntry Closed(string conversationId, ulong sequence) => new()
    {
        ConversationId = conversationId,
        Sequence = sequence,
        Status = new StatusEvent { Kind = StatusKind.Closed },
    };

    public static IEnumerable<ulong> Range(ulong first, ulong last)
    {
        for (var sequence = first; sequence <= last; sequence++)
        {
            yield return sequence;
        }
    }
}
