namespace ContactGrains.Testing;

/// <summary>
/// Where the repository's built programs are, seen from a running build inside it: the repository root
/// (the folder of ContactGrains.sln) and the configuration (Debug/Release) of the running assembly.
/// Used to start the silo host and other programs as separate processes.
/// </summary>
public static class RepositoryBuild
{
    private static string? _root;
    private static string? _configuration;

    /// <summary>The repository's root; throws, saying why, when the running build is not inside one.</summary>
    public static string Root => _root ??= FindRoot();

    /// <summary>The build configuration of the running assembly: the folder after "bin" in its path.</summary>
    public static string Configuration => _configuration ??= FindConfiguration();

    /// <summary>The dotnet host running this process (the CLI sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>The built dll of the project in <paramref name="projectDirectory"/> (relative to the root, e.g. "src/ContactGrains.Silo").</summary>
    public static string DllPath(string projectDirectory, string assemblyName) =>
        Path.Combine(Root, projectDirectory, "bin", Configuration, "net10.0", assemblyName + ".dll");

    /// <summary>The built dll, or a failure that says how to build it (<paramref name="why"/>: who needs it).</summary>
    public static string RequireDll(string projectDirectory, string assemblyName, string why)
    {
        var path = DllPath(projectDirectory, assemblyName);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"{assemblyName} was not found at {path}. {why}; build it first (dotnet build {projectDirectory} -c {Configuration}).");
        }

        return path;
    }

    /// <summary>
    /// Copies a built program (the whole output folder of <paramref name="dll"/>) to <paramref name="directory"/>
    /// and returns the copy's dll. Processes run from the copy: a build while they run (another terminal,
    /// an IDE) rewrites the dlls they have mapped, which crashes them.
    /// </summary>
    public static string CopyOutput(string dll, string directory)
    {
        var source = Path.GetDirectoryName(dll)!;
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(directory, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return Path.Combine(directory, Path.GetFileName(dll));
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ContactGrains.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No ContactGrains.sln above {AppContext.BaseDirectory}: this must run from a build inside the repository.");
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
