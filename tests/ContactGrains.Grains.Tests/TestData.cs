using ContactGrains.Contracts;

namespace ContactGrains.Grains.Tests;

internal static class TestData
{
    public const string Channel = "webchat";

    /// <summary>Questions the sample knowledge base must answer, with the intent each must reach.</summary>
    public static readonly (string Text, string Intent)[] Questions =
    [
        ("Where is my refund?", "refund_status"),
        ("How do I reset my password?", "password_reset"),
        ("I want to cancel my order", "order_cancellation"),
        ("Where is my parcel?", "delivery_tracking"),
        ("Can I get a copy of my invoice?", "invoice_copy"),
        ("Je voudrais changer mon adresse de livraison", "address_change"),
    ];

    public static string UniqueId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public static CustomerIdentity Customer(string id, string? language = "en") => new(id, "Test Customer", language);

    public static CustomerMessage Message(string messageId, string text) => new(Channel, messageId, text);
}
