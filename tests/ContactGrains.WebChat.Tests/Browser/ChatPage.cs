using System.Text.Json;
using Microsoft.Playwright;

namespace ContactGrains.WebChat.Tests.Browser;

/// <summary>One entry as the page shows it (read from the DOM the customer sees).</summary>
/// <param name="Id">"conversationId:sequence".</param>
/// <param name="Sequence">The entry's place in its conversation.</param>
/// <param name="Kind">customer, bot, agent, system or status.</param>
/// <param name="Status">For status lines: queued, agent-joined, …; empty otherwise.</param>
/// <param name="Text">What the customer reads.</param>
public sealed record PageEntry(string Id, ulong Sequence, string Kind, string Status, string Text)
{
    public string ConversationId => Id[..Id.LastIndexOf(':')];
}

/// <summary>The chat page in a browser tab: what a customer does (type, send, reload) and reads.</summary>
public sealed class ChatPage(IBrowserContext context, IPage page) : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public IPage Page { get; } = page;

    public IBrowserContext Context { get; } = context;

    /// <summary>Opens the page and waits until its event stream is live.</summary>
    public async Task GotoAsync(string path = "/")
    {
        await Page.GotoAsync(path);
        await WaitOnlineAsync();
    }

    /// <summary>Reloads the page (the browser keeps its session cookie) and waits until it is live again.</summary>
    public async Task ReloadAsync()
    {
        await Page.ReloadAsync();
        await WaitOnlineAsync();
    }

    public Task WaitOnlineAsync() =>
        Page.Locator("#status[data-state='online']").WaitForAsync(new LocatorWaitForOptions { Timeout = (float)Patience.TotalMilliseconds });

    /// <summary>Types into the message box and presses Enter, as a customer would.</summary>
    public async Task TypeAndSendAsync(string text)
    {
        await Page.Locator("#message").FillAsync(text);
        await Page.Locator("#message").PressAsync("Enter");
    }

    /// <summary>Every timeline entry on the page, top to bottom (the welcome line and unsent bubbles are not entries).</summary>
    public async Task<IReadOnlyList<PageEntry>> EntriesAsync()
    {
        var json = await Page.EvaluateAsync<string>(
            """
            () => JSON.stringify(Array.from(document.querySelectorAll('#log [data-entry-id]')).map(e => ({
              id: e.dataset.entryId,
              sequence: Number(e.dataset.sequence),
              kind: e.dataset.kind,
              status: e.dataset.status || '',
              text: (e.querySelector('.bubble, .notice-text') || e).textContent.trim(),
            })))
            """);
        return JsonSerializer.Deserialize<List<PageEntry>>(json, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
    }

    /// <summary>Waits until the page shows an entry matching <paramref name="match"/> and returns it; on timeout, fails listing what the page shows.</summary>
    public async Task<PageEntry> WaitForEntryAsync(Func<PageEntry, bool> match, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        IReadOnlyList<PageEntry> entries;
        do
        {
            entries = await EntriesAsync();
            if (entries.LastOrDefault(match) is { } found)
            {
                return found;
            }

            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);

        throw new Xunit.Sdk.XunitException(
            $"The page did not show {what} within {Patience.TotalSeconds:0} s. It shows:\n" + string.Join("\n", entries.Select(e => $"  {e.Id} {e.Kind} {e.Status} {e.Text}")));
    }

    /// <summary>Text of one element, e.g. the header.</summary>
    public async Task<string> TextOfAsync(string selector) => ((await Page.Locator(selector).First.TextContentAsync()) ?? "").Trim();

    public async Task ScreenshotAsync(string name) =>
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshots.PathFor(name), Animations = ScreenshotAnimations.Disabled });

    public async ValueTask DisposeAsync() => await Context.DisposeAsync();
}
