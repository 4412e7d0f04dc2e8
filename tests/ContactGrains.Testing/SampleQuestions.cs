namespace ContactGrains.Testing;

/// <summary>Questions the shipped knowledge base must answer, with the intent each must reach.</summary>
public static class SampleQuestions
{
    public static readonly (string Text, string Intent)[] All =
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
