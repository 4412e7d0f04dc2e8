using ContactGrains.Contracts;

namespace ContactGrains.Persistence.Tests;

internal static class TestIds
{
    public const string Channel = "webchat";

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public static CustomerIdentity Customer(string id) => new(id, "Test Customer", "en");

    public static CustomerMessage Message(string messageId, string text) => new(Channel, messageId, text);
}
