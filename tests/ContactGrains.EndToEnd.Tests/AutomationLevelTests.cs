using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// Supervisors set each intent's automation level over gRPC; below supervised a human answers the
/// intent (the next conversation about it goes to a queue with the level as its reason), promotion
/// goes one step at a time, and the audit keeps who, when and why. On a silo of its own: levels are
/// cluster-wide, and other tests ask about refunds.
/// </summary>
public sealed class AutomationLevelTests(AutomationLevelTests.Fixture silo) : IClassFixture<AutomationLevelTests.Fixture>
{
    private const string Refunds = "refund_status";

    [Fact]
    public async Task A_supervisor_takes_an_intent_from_the_bot_and_gives_it_back_step_by_step_with_an_audit()
    {
        var supervisor = AgentClient.CreateSupervisor(silo.Channel, DevelopmentCredentials.AgentToken("sam", AccessTokens.SupervisorRole));

        // Autonomous at first: the bot answers.
        Assert.Equal(AutomationLevel.Autonomous, Level(await supervisor.GetAutomationPolicyAsync(new GetAutomationPolicyRequest()), Refunds));
        Assert.Null(await HandoffReasonAsync("Where is my refund?"));

        // Ratings fell: a supervisor makes it human-only. The next customer goes to a human at once.
        var demoted = await supervisor.SetAutomationLevelAsync(new SetAutomationLevelRequest { Intent = Refunds, Level = AutomationLevel.HumanOnly, Reason = "Refund answers rated 2.1 this week" });
        Assert.Equal(AutomationLevel.HumanOnly, Level(demoted, Refunds));
        Assert.Equal("human-only-intent", await HandoffReasonAsync("Where is my refund?"));

        // Back up: never more than a step at a time.
        var jump = await Assert.ThrowsAsync<RpcException>(() => supervisor.SetAutomationLevelAsync(
            new SetAutomationLevelRequest { Intent = Refunds, Level = AutomationLevel.Autonomous, Reason = "fixed" }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, jump.StatusCode);
        Assert.Equal("Promote one step at a time: from human-only, the next level is copilot.", jump.Status.Detail);

        await supervisor.SetAutomationLevelAsync(new SetAutomationLevelRequest { Intent = Refunds, Level = AutomationLevel.Copilot, Reason = "New refund article written" });
        Assert.Equal("copilot-intent", await HandoffReasonAsync("Where is my refund?"));
        await supervisor.SetAutomationLevelAsync(new SetAutomationLevelRequest { Intent = Refunds, Level = AutomationLevel.Supervised, Reason = "Drafts accepted unchanged 9 times in 10" });
        Assert.Null(await HandoffReasonAsync("Where is my refund?"));
        var restored = await supervisor.SetAutomationLevelAsync(new SetAutomationLevelRequest { Intent = Refunds, Level = AutomationLevel.Autonomous, Reason = "Reviews all fine" });

        // The audit: who, why, from what to what, in order; each change a new version.
        var changes = restored.Audit.Where(c => c.Intent == Refunds && c.ChangedBy != "configuration").ToList();
        Assert.Equal(
            [
                (AutomationLevel.Autonomous, AutomationLevel.HumanOnly, "Refund answers rated 2.1 this week"),
                (AutomationLevel.HumanOnly, AutomationLevel.Copilot, "New refund article written"),
                (AutomationLevel.Copilot, AutomationLevel.Supervised, "Drafts accepted unchanged 9 times in 10"),
                (AutomationLevel.Supervised, AutomationLevel.Autonomous, "Reviews all fine"),
            ],
            changes.Select(c => (c.From, c.To, c.Reason)));
        Assert.All(changes, c => Assert.Equal("supervisor:sam", c.ChangedBy));
        Assert.Equal(demoted.Version + 3, restored.Version);
    }

    [Fact]
    public async Task Only_supervisors_see_or_change_levels_and_a_configured_human_only_intent_stays_so()
    {
        var agent = AgentClient.CreateSupervisor(silo.Channel, DevelopmentCredentials.AgentToken("ann"));
        var supervisor = AgentClient.CreateSupervisor(silo.Channel, DevelopmentCredentials.AgentToken("sam", AccessTokens.SupervisorRole));

        var read = await Assert.ThrowsAsync<RpcException>(() => agent.GetAutomationPolicyAsync(new GetAutomationPolicyRequest()).ResponseAsync);
        var write = await Assert.ThrowsAsync<RpcException>(() => agent.SetAutomationLevelAsync(
            new SetAutomationLevelRequest { Intent = Refunds, Level = AutomationLevel.HumanOnly, Reason = "mine" }).ResponseAsync);
        var configured = await Assert.ThrowsAsync<RpcException>(() => supervisor.SetAutomationLevelAsync(
            new SetAutomationLevelRequest { Intent = "suspicious_transaction", Level = AutomationLevel.Copilot, Reason = "try" }).ResponseAsync);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => supervisor.SetAutomationLevelAsync(
            new SetAutomationLevelRequest { Intent = "astrology", Level = AutomationLevel.HumanOnly, Reason = "try" }).ResponseAsync);
        var noReason = await Assert.ThrowsAsync<RpcException>(() => supervisor.SetAutomationLevelAsync(
            new SetAutomationLevelRequest { Intent = "delivery_tracking", Level = AutomationLevel.Supervised, Reason = " " }).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, read.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, write.StatusCode);
        Assert.Equal(StatusCode.FailedPrecondition, configured.StatusCode);
        Assert.Equal("Intent 'suspicious_transaction' is human-only by configuration (ContactGrains:Ownership:HumanOnlyIntents): it cannot be automated from here.", configured.Status.Detail);
        Assert.Equal(StatusCode.InvalidArgument, unknown.StatusCode);
        Assert.Equal("Intent 'astrology' is not in the bot's knowledge base.", unknown.Status.Detail);
        Assert.Equal((StatusCode.InvalidArgument, "reason is required: the ledger and the audit keep why a supervisor acted."), (noReason.StatusCode, noReason.Status.Detail));
        Assert.Equal(AutomationLevel.HumanOnly, Level(await supervisor.GetAutomationPolicyAsync(new GetAutomationPolicyRequest()), "suspicious_transaction"));
    }

    /// <summary>A new conversation's first message: the main reason it was handed to a human, or null when the bot kept it.</summary>
    private async Task<string?> HandoffReasonAsync(string text)
    {
        var channel = silo.Client();
        var sent = await channel.SendMessageAsync(new SendMessageRequest
        {
            Message = new InboundMessage { MessageId = Addresses.Unique("m"), Conversation = Addresses.Thread(Addresses.Unique("auto")), Customer = Addresses.Customer(Addresses.Unique("c")), Text = text },
        });
        var view = await channel.GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(sent.Ack.ConversationId) });
        return view.Owner.Kind == OwnerKind.Queue ? view.Ledger[^1].ReasonCode : null;
    }

    private static AutomationLevel Level(AutomationPolicy policy, string intent) => policy.Levels.Single(l => l.Intent == intent).Level;

    public sealed class Fixture : SiloFixture;
}
