using ContactGrains.Protos.V1;
using static Microsoft.Playwright.Assertions;

namespace ContactGrains.Console.Tests;

/// <summary>The automation policy: levels with bot and human figures, promote and demote with a reason, the audit, the rating chart.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class AutomationTests(ConsoleFixture silo)
{
    // No other test talks about address changes, so its level is this test's alone.
    private const string Intent = "address_change";

    [Fact]
    public async Task Demoting_and_promoting_an_intent_in_the_console_is_audited_with_the_supervisor_and_the_reason()
    {
        var before = (await silo.Supervisor("sam").GetAutomationPolicyAsync(new GetAutomationPolicyRequest())).Levels.Single(l => l.Intent == Intent);
        Assert.Equal(AutomationLevel.Autonomous, before.Level);
        await using var console = await silo.SignedInAsync("sam");
        await console.OpenTabAsync("automation");
        var row = console.Automation.Intent(Intent);
        await Expect(row).ToHaveAttributeAsync("data-level", "AUTOMATION_LEVEL_AUTONOMOUS");
        await Expect(row.Locator("[data-action='promote']")).ToBeDisabledAsync();

        await console.Automation.DemoteAsync(Intent);
        await Expect(console.Dialog.Root.Locator("[data-change]")).ToHaveAttributeAsync("data-change", "AUTOMATION_LEVEL_AUTONOMOUS->AUTOMATION_LEVEL_SUPERVISED");
        await Expect(console.Dialog.Root.Locator($"[data-evidence='{Intent}']")).ToContainTextAsync("Average rating");
        await console.Dialog.FillReasonAsync("Address changes confuse the bot this week");
        await console.ScreenshotAsync("automation-demote.png");
        await console.Dialog.ConfirmAsync();

        await Expect(row).ToHaveAttributeAsync("data-level", "AUTOMATION_LEVEL_SUPERVISED");
        var demoted = console.Automation.AuditRows(Intent).First;
        await Expect(demoted).ToHaveAttributeAsync("data-to", "AUTOMATION_LEVEL_SUPERVISED");
        await Expect(demoted.Locator("[data-field='changed-by']")).ToHaveTextAsync("supervisor:sam");
        await Expect(demoted.Locator("[data-field='reason']")).ToHaveTextAsync("Address changes confuse the bot this week");

        await console.Automation.PromoteAsync(Intent);
        await Expect(console.Dialog.Root.Locator("[data-change]")).ToHaveAttributeAsync("data-change", "AUTOMATION_LEVEL_SUPERVISED->AUTOMATION_LEVEL_AUTONOMOUS");
        await console.Dialog.FillReasonAsync("Fixed the address answers");
        await console.Dialog.ConfirmAsync();

        await Expect(row).ToHaveAttributeAsync("data-level", "AUTOMATION_LEVEL_AUTONOMOUS");
        var promoted = console.Automation.AuditRows(Intent).First;
        await Expect(promoted).ToHaveAttributeAsync("data-to", "AUTOMATION_LEVEL_AUTONOMOUS");
        await Expect(promoted.Locator("[data-field='changed-by']")).ToHaveTextAsync("supervisor:sam");
        await Expect(promoted.Locator("[data-field='reason']")).ToHaveTextAsync("Fixed the address answers");
        // Besides the policy's first version (by configuration), exactly these two changes.
        await Expect(console.Automation.AuditRows(Intent).And(console.Page.Locator("[data-changed-by='supervisor:sam']"))).ToHaveCountAsync(2);
        var after = (await silo.Supervisor("sam").GetAutomationPolicyAsync(new GetAutomationPolicyRequest())).Audit.Where(c => c.Intent == Intent && c.ChangedBy == "supervisor:sam").ToList();
        Assert.Equal(["Address changes confuse the bot this week", "Fixed the address answers"], after.Select(c => c.Reason));
    }

    [Fact]
    public async Task An_intent_s_ratings_are_charted_per_day_bot_against_human()
    {
        var conversationId = await silo.AskAsync("Where is my parcel?", "Petra Parcel");
        var customer = silo.Customer();
        var address = new ContactGrains.Protos.V1.ConversationAddress { ConversationId = conversationId };
        await customer.CloseConversationAsync(new CloseConversationRequest { Conversation = address });
        await customer.RateConversationAsync(new RateConversationRequest { Conversation = address, Rating = 5 });
        // The rating reaches the intent's daily figures within a flush or two.
        var supervisor = silo.Supervisor("sam");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        IntentHistory history;
        while ((history = await supervisor.GetIntentHistoryAsync(new GetIntentHistoryRequest { Intent = ConsoleFixture.SupervisedIntent })).Days.All(d => d.Bot?.HasAverageRating != true))
        {
            Assert.True(DateTime.UtcNow < deadline, "The rating never reached the intent's history.");
            await Task.Delay(200);
        }

        await using var console = await silo.SignedInAsync("sam");
        await console.OpenTabAsync("automation");
        await Expect(console.Automation.Intent(ConsoleFixture.SupervisedIntent)).ToHaveAttributeAsync("data-level", "AUTOMATION_LEVEL_SUPERVISED");
        await console.Automation.SelectAsync(ConsoleFixture.SupervisedIntent);

        var chart = console.Automation.HistoryChart(ConsoleFixture.SupervisedIntent);
        await Expect(chart).ToBeVisibleAsync();
        await console.ScreenshotAsync("automation.png");
        var botDays = history.Days.Count(d => d.Bot?.HasAverageRating == true);
        await Expect(chart.Locator("svg [data-point='bot']")).ToHaveCountAsync(botDays);
        await Expect(chart.Locator("svg [data-point='human']")).ToHaveCountAsync(history.Days.Count(d => d.Human?.HasAverageRating == true));
        await console.ScreenshotAsync("automation.png");
    }
}
