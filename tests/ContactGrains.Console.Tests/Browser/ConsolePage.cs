using Microsoft.Playwright;

namespace ContactGrains.Console.Tests.Browser;

/// <summary>The console in a browser tab: signing in, moving between screens, and each screen's page object.</summary>
public sealed class ConsolePage(IBrowserContext context, IPage page) : IAsyncDisposable
{
    /// <summary>Generous: a 2-core machine runs the silo, the browser and the tests at once.</summary>
    public const float PatienceMilliseconds = 60_000;

    public IPage Page { get; } = page;

    public ILocator SignInScreen => Page.Locator("[data-screen='signin']");

    public ILocator SignInMessage => Page.Locator("[data-signin-message]");

    public ILocator SignedInAs => Page.Locator("[data-who]");

    public FloorScreen Floor => new(Page);

    public ConversationsScreen Conversations => new(Page);

    public AutomationScreen Automation => new(Page);

    public ReviewsScreen Reviews => new(Page);

    /// <summary>The open confirmation dialog.</summary>
    public ConfirmDialog Dialog => new(Page);

    public async Task SignInAsync(string token)
    {
        await Page.Locator("[data-token-input]").FillAsync(token);
        await Page.Locator("[data-signin-submit]").ClickAsync();
    }

    public Task SignOutAsync() => Page.Locator("[data-sign-out]").ClickAsync();

    /// <summary>Follows the tab's link, as a supervisor clicking it would.</summary>
    public Task OpenTabAsync(string screen) => Page.Locator($"[data-tab='{screen}']").ClickAsync();

    public Task ScreenshotAsync(string name) =>
        Page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshots.PathFor(name), FullPage = true });

    public async ValueTask DisposeAsync() => await context.DisposeAsync();
}

public sealed class FloorScreen(IPage page)
{
    public ILocator Root => page.Locator("[data-screen='floor']");

    public Task WaitForAsync() => Root.Locator("[data-queue]").First.WaitForAsync();

    public ILocator Queue(string queue) => page.Locator($"[data-queue='{queue}']");

    public ILocator Agent(string agentId) => page.Locator($"[data-agent='{agentId}']");

    public ILocator Count(string name) => page.Locator($"[data-count='{name}'] .value");

    public Task SelectQueueAsync(string queue) => Queue(queue).Locator("button").ClickAsync();

    public ILocator HistoryChart => page.Locator("[data-chart='queue-history']");
}

public sealed class ConversationsScreen(IPage page)
{
    public ILocator Root => page.Locator("[data-screen='conversations']");

    public ILocator Row(string conversationId) => page.Locator($"[data-conversation='{conversationId}']");

    public ILocator Detail(string conversationId) => page.Locator($"[data-conversation-detail='{conversationId}']");

    public ILocator LedgerEntries(string conversationId) => Detail(conversationId).Locator("[data-ledger-entry]");

    public Task FilterAsync(string label) => Root.Locator("[data-owner-filter] button", new LocatorLocatorOptions { HasText = label }).ClickAsync();

    public Task OpenAsync(string conversationId) => Row(conversationId).Locator("button").ClickAsync();

    public Task TakeOverAsync(string conversationId) => Detail(conversationId).Locator("[data-action='take-over']").ClickAsync();

    public Task SendToQueueAsync(string conversationId) => Detail(conversationId).Locator("[data-action='send-to-queue']").ClickAsync();
}

public sealed class AutomationScreen(IPage page)
{
    public ILocator Root => page.Locator("[data-screen='automation']");

    public ILocator Intent(string intent) => page.Locator($"[data-intents] [data-intent='{intent}']");

    public ILocator AuditRows(string intent) => page.Locator($"[data-audit] [data-audit-row][data-intent='{intent}']");

    public Task DemoteAsync(string intent) => Intent(intent).Locator("[data-action='demote']").ClickAsync();

    public Task PromoteAsync(string intent) => Intent(intent).Locator("[data-action='promote']").ClickAsync();

    public Task SelectAsync(string intent) => Intent(intent).Locator(".row-button").ClickAsync();

    public ILocator HistoryChart(string intent) => page.Locator($"[data-intent-chart] [data-chart='intent-history'][data-intent='{intent}']");
}

public sealed class ReviewsScreen(IPage page)
{
    public ILocator Root => page.Locator("[data-screen='reviews']");

    public ILocator Row(string conversationId) => page.Locator($"[data-review='{conversationId}']");

    public Task ShowDecidedAsync() => page.Locator("[data-include-decided]").CheckAsync();

    public Task ApproveAsync(string conversationId) => Row(conversationId).Locator("[data-action='approve']").ClickAsync();
}

public sealed class ConfirmDialog(IPage page)
{
    public ILocator Root => page.Locator("dialog[data-dialog][open]");

    public ILocator Message => Root.Locator("[data-dialog-message]");

    public Task FillReasonAsync(string reason) => Root.Locator("[data-reason]").FillAsync(reason);

    public Task FillNoteAsync(string note) => Root.Locator("[data-review-note]").FillAsync(note);

    public Task SelectQueueAsync(string queue) => Root.Locator("[data-queue-select]").SelectOptionAsync(queue);

    public Task ConfirmAsync() => Root.Locator("[data-dialog-confirm]").ClickAsync();
}
