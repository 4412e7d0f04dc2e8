using System.Globalization;

namespace ContactGrains.Testing;

/// <summary>
/// Where one silo host process listens and which cluster and database it belongs to: the command-line
/// configuration it reads (see the silo's ContactGrainsOptions). With no connection string, the
/// development profile: in-memory storage, a single silo.
/// </summary>
public sealed record SiloSettings(string Name, string? ConnectionString, string ClusterId, string ServiceId)
{
    public int GrpcPort { get; init; } = FreePorts.Next();

    public int SiloPort { get; init; } = FreePorts.Next();

    public int GatewayPort { get; init; } = FreePorts.Next();

    public string Address => $"http://127.0.0.1:{GrpcPort}";

    /// <summary>More settings ("Section:Key" to value), after the defaults: a caller's own (e.g. short routing timings) win.</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();

    /// <summary>The command-line configuration the silo host reads.</summary>
    public IReadOnlyList<string> Arguments =>
    [
        .. ConnectionString is null
            ? (string[])[]
            // Test clusters on one machine: the adapters and desks use development credentials.
            : ["--ContactGrains:Storage:Provider=PostgreSql", $"--ContactGrains:Storage:ConnectionString={ConnectionString}", "--ContactGrains:Auth:DevelopmentCredentials=true"],
        $"--ContactGrains:Urls={Address}",
        "--ContactGrains:ConsoleUrls=",
        Invariant($"--ContactGrains:Cluster:SiloPort={SiloPort}"),
        Invariant($"--ContactGrains:Cluster:GatewayPort={GatewayPort}"),
        $"--ContactGrains:Cluster:ClusterId={ClusterId}",
        $"--ContactGrains:Cluster:ServiceId={ServiceId}",
        "--ContactGrains:Cluster:FastFailureDetection=true",
        "--Logging:LogLevel:Default=Warning",
        // Named, or the console provider copies its own obsolete (unset) timestamp options over the
        // formatter's and the lines below are ignored: no timestamps.
        "--Logging:Console:FormatterName=simple",
        "--Logging:Console:FormatterOptions:TimestampFormat=HH:mm:ss.fff ",
        "--Logging:Console:FormatterOptions:UseUtcTimestamp=true",
        .. Extra.Select(setting => $"--{setting.Key}={setting.Value}"),
    ];

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
