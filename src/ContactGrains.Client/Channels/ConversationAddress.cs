namespace ContactGrains.Protos.V1;

/// <summary>Shorthands for the two ways to address a conversation.</summary>
public sealed partial class ConversationAddress
{
    /// <summary>The conversation ContactGrains gave this id.</summary>
    public static ConversationAddress ForId(string conversationId) => new() { ConversationId = conversationId };

    /// <summary>The conversation of the adapter's own thread id on the calling channel.</summary>
    public static ConversationAddress ForThread(string externalThreadId) => new() { ExternalThreadId = externalThreadId };
}
