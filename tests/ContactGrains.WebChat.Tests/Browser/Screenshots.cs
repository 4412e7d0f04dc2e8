namespace ContactGrains.WebChat.Tests.Browser;

/// <summary>
/// Where screenshots go: the test output's <c>screenshots/</c> folder on every run (so a failure can
/// be looked at), and <c>docs/images/</c> of the repository when CONTACTGRAINS_UPDATE_SCREENSHOTS=1,
/// to refresh the pictures the README shows without every test run changing tracked files.
/// </summary>
public static class Screenshots
{
    public const string UpdateVariable = "CONTACTGRAINS_UPDATE_SCREENSHOTS";

    public static string PathFor(string name)
    {
        var folder = Environment.GetEnvironmentVariable(UpdateVariable) == "1"
            ? Path.Combine(RepositoryRoot(), "docs", "images")
            : Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, name);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ContactGrains.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"{UpdateVariable}=1 but no ContactGrains.sln above {AppContext.BaseDirectory}: run the tests from the repository.");
    }
}
