namespace ContactGrains.Cluster.Tests;

/// <summary>A cluster test failed: the message carries what the test's clients saw and the tail of every silo's log.</summary>
internal sealed class ClusterTestFailure(string message, Exception inner) : Exception(message, inner)
{
    /// <summary>Runs a test body; any failure (assertion or otherwise) is rethrown with the cluster's diagnostics.</summary>
    public static Task WithDiagnosticsAsync(SiloCluster cluster, TestAdapter? adapter, Func<Task> body) =>
        WithDiagnosticsAsync(cluster, () => adapter is null ? "" : $"Adapter events:\n{string.Join('\n', adapter.Events)}", body);

    /// <summary>The same, with <paramref name="events"/> saying what the test's clients (adapters, desktops) saw.</summary>
    public static async Task WithDiagnosticsAsync(SiloCluster cluster, Func<string> events, Func<Task> body)
    {
        try
        {
            await body();
        }
        catch (Exception ex)
        {
            cluster.KeepLogs = true;
            var seen = events() is { Length: > 0 } text ? $"\n\n{text}" : "";
            throw new ClusterTestFailure($"{ex.GetType().Name}: {ex.Message}{seen}\n\nSilo logs (kept in {cluster.LogDirectory}):\n{cluster.Diagnostics()}", ex);
        }
    }
}
