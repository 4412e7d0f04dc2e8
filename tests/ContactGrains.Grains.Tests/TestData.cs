using ContactGrains.Contracts;

namespace ContactGrains.Grains.Tests;

internal static class TestData
{
    public const string Channel = "webchat";

    public static readonly (string Text, string Intent)[] Questions = ContactGrains.Testing.SampleQuestions.All;

    public static string UniqueId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public static CustomerIdentity Customer(string id, string? language = "en") => new(id, "Test Customer", language);

    public static CustomerMessage Message(string messageId, string text) => new(Channel, messageId, text);
}
