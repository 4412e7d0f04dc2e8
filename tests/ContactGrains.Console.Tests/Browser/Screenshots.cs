namespace ContactGrains.Console.Tests.Browser;

/// <summary>Where screenshots go: the test output's <c>screenshots/</c> folder, so each screen can be looked at after a run.</summary>
public static class Screenshots
{
    public static string PathFor(string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, name);
    }
}
