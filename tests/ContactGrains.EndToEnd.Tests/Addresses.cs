using ContactGrains.Protos.V1;

namespace ContactGrains.EndToEnd.Tests;

internal static class Addresses
{
    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public static ConversationAddress Thread(string threadId) => new() { ExternalThreadId = threadId };

    public static ConversationAddress Conversation(string conversationId) => new() { ConversationId = conversationId };

    public static CustomerIdentity Customer(string id, string language = "en") =>
        new() { ExternalCustomerId = id, DisplayName = "Ada", Language = language };

    public static readonly (string Text, string Intent)[] Questions = ContactGrains.Testing.SampleQuestions.All;
}
