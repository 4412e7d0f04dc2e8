using Microsoft.Playwright;

namespace ContactGrains.WebChat.Tests.Browser;

/// <summary>
/// Debian's Chromium (package <c>chromium</c>), driven through Playwright. Playwright's own browser
/// download cannot work on these machines and is never used; a machine without the package fails
/// the tests with a sentence saying how to install it, and never skips them.
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

    private Chromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static async Task<Chromium> LaunchAsync(string executablePath = ExecutablePath)
    {
        if (!File.Exists(executablePath))
        {
            throw new InvalidOperationException(
                $"Debian's Chromium is not installed: {executablePath} is missing. The web chat's browser tests drive the machine's own " +
                "Chromium through Playwright (Playwright's browser download is not used): install it with " +
                "'apt-get install -y chromium' (as root; .ci/run does this) and run the tests again.");
        }

        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = executablePath,
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
