using System.Diagnostics;
using System.Runtime.InteropServices;
using Npgsql;

namespace ContactGrains.Testing;

/// <summary>
/// A throwaway PostgreSQL server started from the machine's binaries: a fresh data directory in a
/// temp folder, a free loopback port, trust authentication, no fsync (the tests stop the server,
/// never the machine, so only synchronous commit matters for durability, and it stays on). Runs as the 'postgres' user when the tests run as root, because
/// PostgreSQL refuses to run as root. Missing binaries fail loudly: tests never skip.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _binDirectory;
    private readonly string _root;
    private readonly bool _asPostgresUser;

    private PostgresServer(string binDirectory, string root, int port, bool asPostgresUser)
    {
        _binDirectory = binDirectory;
        _root = root;
        Port = port;
        _asPostgresUser = asPostgresUser;
    }

    public int Port { get; }

    private string DataDirectory => Path.Combine(_root, "data");

    /// <summary>Connection string for <paramref name="database"/> on this server.</summary>
    public string ConnectionString(string database = "postgres") =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = "postgres",
            Database = database,
            Pooling = true,
            Timeout = 5,
        }.ConnectionString;

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = FindBinaries() ?? throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH nor under /usr/lib/postgresql/*/bin. " +
            "The persistence and cluster tests start their own throwaway PostgreSQL and cannot run without them: " +
            "install PostgreSQL 15 (Debian: apt-get install postgresql) and run the tests again.");
        var asPostgresUser = geteuid() == 0;
        var root = Directory.CreateTempSubdirectory("contactgrains-pg-").FullName;
        if (asPostgresUser)
        {
            await RunAsync("chown", ["postgres", root]);
        }

        var server = new PostgresServer(bin, root, FreePorts.Next(), asPostgresUser);
        await server.RunPostgresToolAsync("initdb", ["-D", server.DataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
        await server.StartServerAsync();
        return server;
    }

    /// <summary>Creates a database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>Stops the server abruptly (as a crash would) and starts it again on the same port.</summary>
    public async Task RestartAsync(TimeSpan downtime)
    {
        await StopServerAsync("immediate");
        NpgsqlConnection.ClearAllPools();
        await Task.Delay(downtime);
        await StartServerAsync();
    }

    public Task StopAsync() => StopServerAsync("immediate");

    public Task StartAgainAsync() => StartServerAsync();

    private Task StartServerAsync() => RunPostgresToolAsync("pg_ctl",
    [
        "-D", DataDirectory, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "60",
        // fsync off is safe here: tests stop the server, never the machine under it. Commits stay
        // synchronous, so an acknowledged write survives an immediate stop, as in production.
        "-o", $"-p {Port} -h 127.0.0.1 -k {_root} -c fsync=off -c full_page_writes=off -c max_connections=300",
        "start",
    ]);

    private Task StopServerAsync(string mode) => RunPostgresToolAsync("pg_ctl", ["-D", DataDirectory, "-m", mode, "-w", "stop"]);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopServerAsync("immediate");
        }
        catch (InvalidOperationException)
        {
            // Already stopped (a test stopped it, or it never started).
        }

        NpgsqlConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }

    private Task RunPostgresToolAsync(string tool, IReadOnlyList<string> arguments)
    {
        var path = Path.Combine(_binDirectory, tool);
        return _asPostgresUser
            ? RunAsync("runuser", ["-u", "postgres", "--", path, .. arguments])
            : RunAsync(path, arguments);
    }

    private static async Task RunAsync(string fileName, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{fileName} {string.Join(' ', arguments)}' failed with exit code {process.ExitCode}:\n{await output}\n{await error}");
        }
    }

    private static string? FindBinaries()
    {
        static bool HasTools(string directory) =>
            File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl")) && File.Exists(Path.Combine(directory, "postgres"));

        // Debian's /usr/bin wrappers are not the real tools; prefer the versioned directory.
        var versioned = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => d, StringComparer.Ordinal).Select(d => Path.Combine(d, "bin"))
            : [];
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        return versioned.Concat(onPath).FirstOrDefault(HasTools);
    }

    [DllImport("libc", SetLastError = false)]
    private static extern uint geteuid();
}
