using Microsoft.Playwright;

namespace ContactGrains.Console.Tests.Browser;

/// <summary>
/// Debian's Chromium (package <c>chromium</c>), driven through Playwright; Playwright's own browser
/// download is never used. A machine without the package fails the tests with how to install it.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private static readonly string[] Arguments =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private Chromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    public static async Task<Chromium> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"Debian's Chromium is not installed: {ExecutablePath} is missing. The console's browser tests drive the machine's own " +
                "Chromium through Playwright: install it with 'apt-get install -y chromium' (as root) and run the tests again.");
        }

        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                Args = Arguments,
                Timeout = 60_000,
            });
            return new Chromium(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
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
