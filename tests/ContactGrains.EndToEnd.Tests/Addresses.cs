using ContactGrains.Protos.V1;

namespace ContactGrains.EndToEnd.Tests;

internal static class Addresses
{
    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public static ConversationAddress Thread(string threadId) => new() { ExternalThreadId = threadId };

    public static ConversationAddress Conversation(string conversationId) => new() { ConversationId = conversationId };

    public static CustomerIdentity Customer(string id, string language = "en") =>
        new() { ExternalCustomerId = id, DisplayName = "Ada", Language = language };

    /// <summary>Questions the shipped knowledge base must answer, with the intent each must reach.</summary>
    public static readonly (string Text, string Intent)[] Questions =
    [
        ("Where is my refund?", "refund_status"),
        ("How do I reset my password?", "password_reset"),
        ("I want to cancel my order", "order_cancellation"),
        ("Where is my parcel?", "delivery_tracking"),
        ("Can I get a copy of my invoice?", "invoice_copy"),
        ("Je voudrais changer mon adresse de livraison", "address_change"),
        ("Quand dois-je payer ma facture ?", "payment_due_date"),
    ];
}
