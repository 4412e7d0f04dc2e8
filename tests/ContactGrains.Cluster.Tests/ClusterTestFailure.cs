namespace ContactGrains.Cluster.Tests;

/// <summary>A cluster test failed: the message carries what the adapter saw and the tail of every silo's log.</summary>
internal sealed class ClusterTestFailure(string message, Exception inner) : Exception(message, inner)
{
    /// <summary>Runs a test body; any failure (assertion or otherwise) is rethrown with the cluster's diagnostics.</summary>
    public static async Task WithDiagnosticsAsync(SiloCluster cluster, TestAdapter? adapter, Func<Task> body)
    {
        try
        {
            await body();
        }
        catch (Exception ex)
        {
            cluster.KeepLogs = true;
            var events = adapter is null ? "" : $"\n\nAdapter events:\n{string.Join('\n', adapter.Events)}";
            throw new ClusterTestFailure($"{ex.GetType().Name}: {ex.Message}{events}\n\nSilo logs (kept in {cluster.LogDirectory}):\n{cluster.Diagnostics()}", ex);
        }
    }
}
