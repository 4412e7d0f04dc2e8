using ContactGrains.Console.Tests.Browser;
using static Microsoft.Playwright.Assertions;

namespace ContactGrains.Console.Tests;

/// <summary>Signing in with a pasted token: refused without the supervisor role, accepted with it.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class SignInTests(ConsoleFixture silo)
{
    [Fact]
    public async Task An_agent_only_token_is_refused_and_a_supervisor_token_opens_the_floor()
    {
        await using var console = await silo.OpenConsoleAsync();
        await Expect(console.SignInScreen).ToBeVisibleAsync();

        await console.SignInAsync(ConsoleFixture.AgentToken("agnes"));
        await Expect(console.SignInMessage).ToHaveTextAsync(
            "This call needs the 'supervisor' role; the token of 'agnes' does not have it. The console needs a supervisor's token.");
        await console.ScreenshotAsync("signin-refused.png");

        await console.SignInAsync("not-a-token");
        await Expect(console.SignInMessage).ToHaveTextAsync("The silo refused the token: The bearer token is not a well-formed JWT.");

        await console.SignInAsync(ConsoleFixture.SupervisorToken("sam"));
        await console.Floor.WaitForAsync();
        await Expect(console.SignInScreen).ToBeHiddenAsync();
        await Expect(console.SignedInAs).ToHaveTextAsync("Signed in as sam");

        await console.SignOutAsync();
        await Expect(console.SignInScreen).ToBeVisibleAsync();
        await Expect(console.SignInMessage).ToHaveTextAsync("Signed out.");
    }

    [Fact]
    public async Task An_unreachable_silo_is_said_so_on_sign_in()
    {
        await using var console = await silo.OpenConsoleAsync();
        await console.Page.RouteAsync("**/api/v1/**", route => route.AbortAsync());

        await console.SignInAsync(ConsoleFixture.SupervisorToken("sam"));

        await Expect(console.SignInMessage).ToContainTextAsync("The silo is unreachable");
        await Expect(console.SignInScreen).ToBeVisibleAsync();
    }
}
