namespace ContactGrains.Cluster.Tests;

/// <summary>Where the built silo host is: the same configuration (Debug/Release) these tests were built in.</summary>
internal static class SiloBinary
{
    private const string Project = "src/ContactGrains.Silo";
    private const string Assembly = "ContactGrains.Silo";

    public static string DllPath => RepositoryBuild.DllPath(Project, Assembly);

    /// <summary>The silo dll, or a failure that says how to build it.</summary>
    public static string Require() => RepositoryBuild.RequireDll(Project, Assembly,
        "The cluster tests start it as separate processes (dotnet test builds it through this project's reference)");

    /// <summary>
    /// Copies the built silo (its whole output folder) to <paramref name="directory"/> and returns the
    /// copy's dll. Silos run from the copy: a build of the silo while they run (another terminal, an
    /// IDE) rewrites the dlls they have mapped, which crashes every silo at once.
    /// </summary>
    public static string CopyTo(string directory) => RepositoryBuild.CopyOutput(Require(), directory);

    /// <summary>The dotnet host running these tests (the CLI sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    public static string DotnetHost => RepositoryBuild.DotnetHost;
}
