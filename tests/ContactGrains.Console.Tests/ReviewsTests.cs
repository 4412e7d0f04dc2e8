using ContactGrains.Protos.V1;
using static Microsoft.Playwright.Assertions;

namespace ContactGrains.Console.Tests;

/// <summary>Reviews of supervised conversations: waiting ones listed, approved from the console, then shown as decided.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ReviewsTests(ConsoleFixture silo)
{
    [Fact]
    public async Task A_supervisor_approves_a_flagged_conversation_from_the_console()
    {
        var conversationId = await silo.AskAsync("Where is my parcel?", "Rosa Review");
        await silo.Customer().CloseConversationAsync(new CloseConversationRequest { Conversation = new ContactGrains.Protos.V1.ConversationAddress { ConversationId = conversationId } });

        await using var console = await silo.SignedInAsync("rita");
        await console.OpenTabAsync("reviews");
        var row = console.Reviews.Row(conversationId);
        await Expect(row).ToHaveAttributeAsync("data-verdict", "REVIEW_VERDICT_UNSPECIFIED");
        await Expect(row).ToContainTextAsync(ConsoleFixture.SupervisedIntent);
        await console.ScreenshotAsync("reviews.png");

        await console.Reviews.ApproveAsync(conversationId);
        await console.Dialog.FillNoteAsync("Right tracking answer");
        await console.Dialog.ConfirmAsync();

        await Expect(row).ToHaveCountAsync(0);
        await console.Reviews.ShowDecidedAsync();
        await Expect(row).ToHaveAttributeAsync("data-verdict", "REVIEW_VERDICT_APPROVED");
        await Expect(row).ToContainTextAsync("supervisor:rita");
        await Expect(row).ToContainTextAsync("Right tracking answer");
        var stored = (await silo.Supervisor("rita").ListReviewsAsync(new ListReviewsRequest { IncludeDecided = true, MaxResults = 500 })).Reviews.Single(r => r.ConversationId == conversationId);
        Assert.Equal((ReviewVerdict.Approved, "supervisor:rita", "Right tracking answer"), (stored.Verdict, stored.ReviewedBy, stored.Note));

        // The link opens the conversation, closed, with its ledger.
        await row.Locator($"[data-open-conversation='{conversationId}']").ClickAsync();
        await Expect(console.Conversations.Detail(conversationId)).ToContainTextAsync("Closed");
        await Expect(console.Conversations.LedgerEntries(conversationId).First).ToHaveAttributeAsync("data-reason-code", "closed-by-adapter");
    }
}
