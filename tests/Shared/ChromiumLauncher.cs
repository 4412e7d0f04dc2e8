using Microsoft.Playwright;

namespace ContactGrains.Testing.Browser;

/// <summary>
/// Starts Debian's Chromium (package <c>chromium</c>) through Playwright, for the browser test
/// projects that link this file. Playwright's own browser download cannot work on these machines and
/// is never used; a machine without the package fails the tests with a sentence saying how to install
/// it, and never skips them.
/// </summary>
internal static class ChromiumLauncher
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private static readonly string[] Arguments =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    /// <param name="suite">Whose tests need it, for the message when it is missing (e.g. "The web chat's browser tests").</param>
    /// <param name="executablePath">The browser to start.</param>
    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync(string suite, string executablePath = ExecutablePath)
    {
        if (!File.Exists(executablePath))
        {
            throw new InvalidOperationException(
                $"Debian's Chromium is not installed: {executablePath} is missing. {suite} drive the machine's own " +
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
            return (playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }
}
