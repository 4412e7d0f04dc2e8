namespace ContactGrains.Cluster.Tests;

/// <summary>Where the built silo host is: the same configuration (Debug/Release) these tests were built in.</summary>
internal static class SiloBinary
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The build configuration of this test assembly: the folder after "bin" in its path.</summary>
    public static string Configuration { get; } = FindConfiguration();

    public static string DllPath => Path.Combine(RepositoryRoot, "src", "ContactGrains.Silo", "bin", Configuration, "net10.0", "ContactGrains.Silo.dll");

    /// <summary>The silo dll, or a failure that says how to build it.</summary>
    public static string Require()
    {
        var path = DllPath;
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"The silo host was not found at {path}. The cluster tests start it as separate processes; " +
                $"build it first (dotnet build src/ContactGrains.Silo -c {Configuration}) or run them with dotnet test, " +
                "which builds it through this project's reference.");
        }

        return path;
    }

    /// <summary>
    /// Copies the built silo (its whole output folder) to <paramref name="directory"/> and returns the
    /// copy's dll. Silos run from the copy: a build of the silo while they run (another terminal, an
    /// IDE) rewrites the dlls they have mapped, which crashes every silo at once.
    /// </summary>
    public static string CopyTo(string directory)
    {
        var source = Path.GetDirectoryName(Require())!;
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(directory, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return Path.Combine(directory, Path.GetFileName(DllPath));
    }

    /// <summary>The dotnet host running these tests (the CLI sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ContactGrains.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No ContactGrains.sln above {AppContext.BaseDirectory}: the cluster tests must run from a build inside the repository.");
    }

    private static string FindConfiguration()
    {
        var segments = AppContext.BaseDirectory.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        var bin = Array.LastIndexOf(segments, "bin");
        if (bin < 0 || bin + 1 >= segments.Length)
        {
            throw new InvalidOperationException($"Cannot tell the build configuration from {AppContext.BaseDirectory} (expected …/bin/<Configuration>/net10.0/).");
        }

        return segments[bin + 1];
    }
}
