using ContactGrains.Testing.Browser;
using Microsoft.Playwright;

namespace ContactGrains.WebChat.Tests.Browser;

/// <summary>
/// Debian's Chromium (package <c>chromium</c>), driven through Playwright (<see cref="ChromiumLauncher"/>). Playwright's own browser
/// download cannot work on these machines and is never used; a machine without the package fails
/// the tests with a sentence saying how to install it, and never skips them.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    public const string ExecutablePath = ChromiumLauncher.ExecutablePath;

    private readonly IPlaywright _playwright;

    private Chromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static async Task<Chromium> LaunchAsync(string executablePath = ExecutablePath)
    {
        var (playwright, browser) = await ChromiumLauncher.LaunchAsync("The web chat's browser tests", executablePath);
        return new Chromium(playwright, browser);
    }

    /// <summary>A fresh browser profile (no cookies) whose pages open <paramref name="baseUrl"/>, with the given language preference.</summary>
    public async Task<ChatPage> OpenChatAsync(string baseUrl, string locale = "en-GB", string path = "/")
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl,
            Locale = locale,
            ViewportSize = new ViewportSize { Width = 1024, Height = 820 },
            TimezoneId = "Europe/Paris",
        });
        var page = await context.NewPageAsync();
        var chat = new ChatPage(context, page);
        await chat.GotoAsync(path);
        return chat;
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}
