using System.Net.Sockets;
using Npgsql;

namespace ContactGrains.Persistence;

/// <summary>
/// Checks, before a silo starts, that its PostgreSQL database can be used: the connection string
/// parses, the server answers, and the schema is at the version this build needs. Each problem
/// becomes one sentence a person can act on, instead of a stack trace deep in the first grain call.
/// </summary>
public static class DatabaseReadiness
{
    /// <summary>Returns what is wrong, or null when the database is ready.</summary>
    public static async Task<string?> CheckAsync(string? connectionString, string migrateCommand, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return "No PostgreSQL connection string: set ContactGrains:Storage:ConnectionString (e.g. \"Host=127.0.0.1;Port=5432;Database=contactgrains;Username=contactgrains;Password=…\").";
        }

        NpgsqlConnectionStringBuilder parsed;
        try
        {
            parsed = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            return $"The PostgreSQL connection string is malformed: {ex.Message}";
        }

        var where = $"{parsed.Host ?? "(no host)"}:{parsed.Port}/{parsed.Database ?? "(default database)"}";
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            var version = await SchemaMigrator.CurrentVersionAsync(connection, cancellationToken);
            if (version < SchemaMigrator.RequiredVersion)
            {
                return version == 0
                    ? $"The database {where} has no ContactGrains schema. Create it with: {migrateCommand}"
                    : $"The database {where} is at schema version {version}; this build needs {SchemaMigrator.RequiredVersion}. Upgrade it with: {migrateCommand}";
            }

            if (version > SchemaMigrator.RequiredVersion)
            {
                return $"The database {where} is at schema version {version}, newer than this build knows ({SchemaMigrator.RequiredVersion}): run a newer ContactGrains build.";
            }

            return null;
        }
        catch (NpgsqlException ex) when (ex.InnerException is SocketException or TimeoutException || ex is { IsTransient: true })
        {
            return $"Cannot reach PostgreSQL at {where}: {ex.InnerException?.Message ?? ex.Message}. Is the server running and the host and port right?";
        }
        catch (PostgresException ex)
        {
            return $"PostgreSQL at {where} refused the connection: {ex.MessageText} ({ex.SqlState}).";
        }
        catch (NpgsqlException ex)
        {
            return $"Cannot use PostgreSQL at {where}: {ex.Message}";
        }
    }
}
