using ContactGrains.Protos.V1;
using static Microsoft.Playwright.Assertions;

namespace ContactGrains.Console.Tests;

/// <summary>Open conversations, the ledger of why each is where it is, and the supervisor's take-over and send-to-queue.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConversationsTests(ConsoleFixture silo)
{
    [Fact]
    public async Task The_ledger_shows_why_the_bot_handed_a_conversation_to_a_queue()
    {
        var conversationId = await silo.AskAsync("I want to speak to a human", "Harriet Handover");
        var stored = await silo.Supervisor("sam").GetConversationAsync(new SupervisorConversationRequest { ConversationId = conversationId });
        var handover = stored.Ledger[^1];
        Assert.Equal(OwnerKind.Bot, handover.From.Kind);

        await using var console = await silo.SignedInAsync("sam");
        await console.OpenTabAsync("conversations");
        await console.Conversations.FilterAsync("In queues");
        var row = console.Conversations.Row(conversationId);
        await Expect(row).ToHaveAttributeAsync("data-owner-kind", "OWNER_KIND_QUEUE");
        await Expect(row).ToContainTextAsync("Harriet Handover");
        await Expect(row).ToContainTextAsync(handover.ReasonCode);
        await console.Conversations.FilterAsync("With the bot");
        await Expect(row).ToHaveCountAsync(0);
        await console.Conversations.FilterAsync("In queues");

        await console.Conversations.OpenAsync(conversationId);

        var ledger = console.Conversations.LedgerEntries(conversationId);
        await Expect(ledger).ToHaveCountAsync(stored.Ledger.Count);
        // Newest first: the hand-over, with its sentence and every reason code.
        await Expect(ledger.First).ToHaveAttributeAsync("data-reason-code", handover.ReasonCode);
        await Expect(ledger.First).ToContainTextAsync($"Bot → Queue {handover.To.Id}");
        await Expect(ledger.First).ToContainTextAsync(handover.Reason);
        foreach (var code in handover.ReasonCodes)
        {
            await Expect(ledger.First).ToContainTextAsync(code);
        }

        await Expect(console.Conversations.Detail(conversationId).Locator("[data-entry='customer']").First).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("I want to speak to a human$"));
        await console.ScreenshotAsync("conversations-ledger.png");
    }

    [Fact]
    public async Task Taking_a_conversation_over_in_the_console_makes_the_supervisor_its_owner_and_the_bot_falls_silent()
    {
        var supervisorId = ConsoleFixture.Unique("sup");
        // The supervisor answers from an agent desk, which must exist before a take-over; away, so it gets no offers.
        await using var desk = await silo.DeskAsync(supervisorId, "Sam Supervisor", ["billing"], Presence.Away, ConsoleFixture.SupervisorToken(supervisorId));
        var conversationId = await silo.AskAsync("How do I get a copy of my invoice?", "Ingrid Invoice");

        await using var console = await silo.SignedInAsync(supervisorId);
        await console.OpenTabAsync("conversations");
        await console.Conversations.FilterAsync("With the bot");
        await Expect(console.Conversations.Row(conversationId)).ToHaveAttributeAsync("data-owner-kind", "OWNER_KIND_BOT");
        await console.Conversations.OpenAsync(conversationId);
        var detail = console.Conversations.Detail(conversationId);
        await Expect(detail).ToHaveAttributeAsync("data-owner-kind", "OWNER_KIND_BOT");

        await console.Conversations.TakeOverAsync(conversationId);
        await console.Dialog.ConfirmAsync();
        await Expect(console.Dialog.Message).ToHaveTextAsync("A reason is required: the ledger keeps why a supervisor acted.");
        await console.Dialog.FillReasonAsync("Checking the bot's invoice answers live");
        await console.ScreenshotAsync("conversations-take-over.png");
        await console.Dialog.ConfirmAsync();

        await Expect(console.Dialog.Root).ToHaveCountAsync(0);
        await Expect(detail).ToHaveAttributeAsync("data-owner-kind", "OWNER_KIND_AGENT");
        await Expect(detail).ToHaveAttributeAsync("data-owner-id", supervisorId);
        var ledger = console.Conversations.LedgerEntries(conversationId);
        await Expect(ledger.First).ToHaveAttributeAsync("data-reason-code", "supervisor-took-over");
        await Expect(ledger.First).ToContainTextAsync("Checking the bot's invoice answers live");

        var entries = await silo.SayAsync(conversationId, "Thanks, and for last month too?");
        Assert.DoesNotContain(entries, e => e.Message?.Sender == SenderKind.Bot);
        await Expect(detail.Locator("[data-entry='customer']").Last).ToContainTextAsync("Thanks, and for last month too?");
        await Expect(detail.Locator("[data-entries] li").Last).ToHaveAttributeAsync("data-entry", "customer");
        var view = await silo.Supervisor(supervisorId).GetConversationAsync(new SupervisorConversationRequest { ConversationId = conversationId });
        Assert.Equal((OwnerKind.Agent, supervisorId), (view.Summary.Owner.Kind, view.Summary.Owner.Id));
    }

    [Fact]
    public async Task A_refused_take_over_shows_the_api_s_reason()
    {
        // This supervisor never opened an agent desk: the API refuses, and says why.
        var conversationId = await silo.AskAsync("How do I get a copy of my invoice?", "Rita Refused");
        await using var console = await silo.SignedInAsync("nodesk");
        await console.Page.GotoAsync($"/console/#conversations/{conversationId}");

        await console.Conversations.TakeOverAsync(conversationId);
        await console.Dialog.FillReasonAsync("Trying without a desk");
        await console.Dialog.ConfirmAsync();

        await Expect(console.Dialog.Message).ToContainTextAsync("Supervisor 'nodesk' has no agent desk yet");
        await Expect(console.Conversations.Detail(conversationId)).ToHaveAttributeAsync("data-owner-kind", "OWNER_KIND_BOT");
    }

    [Fact]
    public async Task Sending_a_conversation_to_a_queue_from_the_console_keeps_the_reason_in_its_ledger()
    {
        var conversationId = await silo.AskAsync("How do I get a copy of my invoice?", "Quentin Queue");
        await using var console = await silo.SignedInAsync("sam");
        await console.Page.GotoAsync($"/console/#conversations/{conversationId}");

        await console.Conversations.SendToQueueAsync(conversationId);
        await console.Dialog.SelectQueueAsync("billing:en");
        await console.Dialog.FillReasonAsync("Invoice questions this week need a human check");
        await console.Dialog.ConfirmAsync();

        var detail = console.Conversations.Detail(conversationId);
        await Expect(detail).ToHaveAttributeAsync("data-owner-kind", "OWNER_KIND_QUEUE");
        await Expect(detail).ToHaveAttributeAsync("data-owner-id", "billing:en");
        var ledger = console.Conversations.LedgerEntries(conversationId);
        await Expect(ledger.First).ToHaveAttributeAsync("data-reason-code", "sent-to-queue-by-supervisor");
        await Expect(ledger.First).ToContainTextAsync("Bot → Queue billing:en");
        await Expect(ledger.First).ToContainTextAsync("Invoice questions this week need a human check");
        await Expect(console.Conversations.Row(conversationId)).ToHaveAttributeAsync("data-owner-kind", "OWNER_KIND_QUEUE");
        await console.ScreenshotAsync("conversations-sent-to-queue.png");
    }
}
