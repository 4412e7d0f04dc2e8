using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace ContactGrains.Persistence;

/// <summary>One schema change: database/migrations/NNNN_name.sql.</summary>
public sealed record Migration(int Version, string Name, string Sql)
{
    /// <summary>Detects a migration edited after it was applied (a change must be a new migration).</summary>
    public string Checksum { get; } = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));

    public override string ToString() => $"{Version:D4}_{Name}";
}

/// <summary>
/// Applies the schema migrations shipped in this assembly: each not yet applied, in order, in its
/// own transaction, recorded in <see cref="HistoryTable"/>. Safe to run again (it applies nothing)
/// and from several silos at once (an advisory lock lets one migrate at a time).
/// </summary>
public static class SchemaMigrator
{
    public const string HistoryTable = "contactgrains_schema_migrations";

    // Any constant works; it only has to be the same for every migrator of this schema.
    private const long LockKey = 0x436F6E7461637447; // "ContactG"

    /// <summary>Every migration this build knows, in order.</summary>
    public static IReadOnlyList<Migration> Migrations { get; } = LoadMigrations();

    /// <summary>The version a database must be at for this build to run on it.</summary>
    public static int RequiredVersion => Migrations.Count == 0 ? 0 : Migrations[^1].Version;

    /// <summary>Applies the missing migrations; returns the names of those it applied.</summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await ExecuteAsync(connection, $"SELECT pg_advisory_lock({LockKey})", cancellationToken);
        try
        {
            await ExecuteAsync(connection, $"""
                CREATE TABLE IF NOT EXISTS {HistoryTable} (
                    version    int PRIMARY KEY,
                    name       text NOT NULL,
                    checksum   text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, cancellationToken);
            var applied = await ReadHistoryAsync(connection, cancellationToken);
            var done = new List<string>();
            foreach (var migration in Migrations)
            {
                if (applied.TryGetValue(migration.Version, out var checksum))
                {
                    if (checksum != migration.Checksum)
                    {
                        throw new SchemaException(
                            $"Migration {migration} was changed after it was applied to this database. " +
                            "Applied migrations are never edited: put the change in a new migration.");
                    }

                    continue;
                }

                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await ExecuteAsync(connection, migration.Sql, cancellationToken, transaction);
                await using (var record = new NpgsqlCommand($"INSERT INTO {HistoryTable} (version, name, checksum) VALUES (@version, @name, @checksum)", connection, transaction))
                {
                    record.Parameters.AddWithValue("version", migration.Version);
                    record.Parameters.AddWithValue("name", migration.Name);
                    record.Parameters.AddWithValue("checksum", migration.Checksum);
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                done.Add(migration.ToString());
            }

            return done;
        }
        finally
        {
            await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None);
        }
    }

    /// <summary>The highest applied version, 0 for a database never migrated.</summary>
    public static async Task<int> CurrentVersionAsync(NpgsqlConnection connection, CancellationToken cancellationToken = default)
    {
        await using var exists = new NpgsqlCommand("SELECT to_regclass(@table) IS NOT NULL", connection);
        exists.Parameters.AddWithValue("table", HistoryTable);
        if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
        {
            return 0;
        }

        await using var max = new NpgsqlCommand($"SELECT coalesce(max(version), 0) FROM {HistoryTable}", connection);
        return (int)(await max.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<Dictionary<int, string>> ReadHistoryAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var history = new Dictionary<int, string>();
        await using var command = new NpgsqlCommand($"SELECT version, checksum FROM {HistoryTable}", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            history[reader.GetInt32(0)] = reader.GetString(1);
        }

        return history;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static List<Migration> LoadMigrations()
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("migrations/", StringComparison.Ordinal)))
        {
            var file = resource["migrations/".Length..^".sql".Length];
            var separator = file.IndexOf('_', StringComparison.Ordinal);
            if (separator != 4 || !int.TryParse(file.AsSpan(0, 4), out var version))
            {
                throw new SchemaException($"Migration file '{file}.sql' must be named NNNN_name.sql (four digits, an underscore, a name).");
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            migrations.Add(new Migration(version, file[(separator + 1)..], reader.ReadToEnd()));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new SchemaException($"Migrations must be numbered 0001, 0002, … without gaps or repeats; found {migrations[i]} at position {i + 1}.");
            }
        }

        return migrations;
    }
}

/// <summary>The database schema cannot be used as it is; the message says what to do.</summary>
public sealed class SchemaException(string message) : Exception(message);
