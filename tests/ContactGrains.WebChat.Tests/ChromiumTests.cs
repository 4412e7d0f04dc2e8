using ContactGrains.WebChat.Tests.Browser;

namespace ContactGrains.WebChat.Tests;

public sealed class ChromiumTests
{
    [Fact]
    public async Task A_machine_without_Debians_Chromium_fails_with_how_to_install_it()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Chromium.LaunchAsync("/nonexistent/chromium"));
        Assert.Contains("/nonexistent/chromium is missing", error.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install -y chromium", error.Message, StringComparison.Ordinal);
    }
}
