using ContactGrains.Testing.Browser;
using Microsoft.Playwright;

namespace ContactGrains.Console.Tests.Browser;

/// <summary>
/// Debian's Chromium (package <c>chromium</c>), driven through Playwright (<see cref="ChromiumLauncher"/>).
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private Chromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    public static async Task<Chromium> LaunchAsync()
    {
        var (playwright, browser) = await ChromiumLauncher.LaunchAsync("The console's browser tests");
        return new Chromium(playwright, browser);
    }

    /// <summary>A fresh browser profile (empty session storage) on the console at <paramref name="consoleAddress"/>.</summary>
    public async Task<ConsolePage> OpenConsoleAsync(string consoleAddress)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = consoleAddress,
            Locale = "en-GB",
            TimezoneId = "Europe/Paris",
            // A supervisor's desk screen: wide enough for the tables and the detail panes side by side.
            ViewportSize = new ViewportSize { Width = 1440, Height = 900 },
        });
        context.SetDefaultTimeout(ConsolePage.PatienceMilliseconds);
        var page = await context.NewPageAsync();
        var console = new ConsolePage(context, page);
        await page.GotoAsync("/console/");
        return console;
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
