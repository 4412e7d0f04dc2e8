namespace ContactGrains.Grains.Conversations;

/// <summary>Machine-readable reason codes written to the ownership ledger.</summary>
public static class OwnershipReasons
{
    public const string NewConversation = "new-conversation";
    public const string ClosedByAdapter = "closed-by-adapter";
    public const string Inactive = "inactive";
    public const string CustomerAskedForHuman = "customer-asked-for-human";

    // Why the bot handed over on its own (the ownership policy's reasons).
    public const string Frustration = "frustration";
    public const string SensitiveTopic = "sensitive-topic";
    public const string RepeatedFailure = "repeated-failure";
    public const string LowConfidence = "low-confidence";
    public const string CustomerPreference = "customer-preference";
    public const string RepeatContact = "repeat-contact";
    public const string Vip = "vip";

    // The intent's automation level (a supervisor's or the demotion rule's choice) says a human answers.
    public const string HumanOnlyIntent = "human-only-intent";
    public const string CopilotIntent = "copilot-intent";

    public const string OfferAccepted = "offer-accepted";
    public const string Transferred = "transferred";
    public const string Resolved = "resolved";
    public const string HandedBack = "handed-back";
    public const string AgentDisconnected = "agent-disconnected";
    public const string AgentSignedOut = "agent-signed-out";
    public const string AgentOffline = "agent-offline";

    // A supervisor's decision, with the supervisor's reason in the ledger.
    public const string SupervisorTookOver = "supervisor-took-over";
    public const string SentToQueueBySupervisor = "sent-to-queue-by-supervisor";
}
