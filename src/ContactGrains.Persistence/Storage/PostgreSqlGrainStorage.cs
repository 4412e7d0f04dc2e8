using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Orleans.Serialization;
using Orleans.Storage;

namespace ContactGrains.Persistence.Storage;

/// <summary>
/// Grain state in PostgreSQL (table <c>contactgrains_grain_state</c>), one row per grain and state
/// name, with optimistic concurrency on its version, as Orleans' ADO.NET storage has; but the reads
/// and writes of all grains that arrive together share one round trip and one transaction
/// (<see cref="GroupCommit"/>). A write returns only once its transaction has committed.
/// </summary>
public sealed partial class PostgreSqlGrainStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private const string Columns = "service_id, state_name, grain_key";

    private const string ReadSql = """
        SELECT version, payload FROM contactgrains_grain_state
        WHERE service_id = $1 AND state_name = $2 AND grain_key = $3
        """;

    // The same read, which on a database upgraded from the ADO.NET storage copies the grain's row
    // from orleans_grain_state the first time (when this table has none), keeping its version. Of two
    // first reads at once, the second waits for the first's copy and returns it (the no-op update).
    // {0} finds the legacy row by its extension column: "= $6", or "IS NULL" for keys without one,
    // so that the unique index serves the whole lookup.
    private const string ReadOrCopyLegacySqlFormat = """
        WITH stored AS (
            SELECT version, payload FROM contactgrains_grain_state
            WHERE service_id = $1 AND state_name = $2 AND grain_key = $3
        ), copied AS (
            INSERT INTO contactgrains_grain_state AS target (service_id, state_name, grain_key, version, payload)
            SELECT $1, $2, $3, legacy.version, legacy.payloadbinary
            FROM orleans_grain_state legacy
            WHERE legacy.serviceid = $1 AND legacy.graintypestring = $2
              AND legacy.grainidn0 = $4 AND legacy.grainidn1 = $5 AND legacy.grainidextensionstring {0}
              AND NOT EXISTS (SELECT 1 FROM stored)
            ON CONFLICT (service_id, state_name, grain_key) DO UPDATE SET version = target.version
            RETURNING version, payload
        )
        SELECT version, payload FROM stored
        UNION ALL
        SELECT version, payload FROM copied
        """;

    private static readonly string ReadOrCopyLegacySql = string.Format(CultureInfo.InvariantCulture, ReadOrCopyLegacySqlFormat, "= $6");

    private static readonly string ReadOrCopyLegacyWithoutExtensionSql = string.Format(CultureInfo.InvariantCulture, ReadOrCopyLegacySqlFormat, "IS NULL");

    // A first write: exactly one of two writers that both found no row inserts it.
    private const string InsertSql = $"""
        INSERT INTO contactgrains_grain_state ({Columns}, version, payload) VALUES ($1, $2, $3, 1, $4)
        ON CONFLICT ({Columns}) DO NOTHING
        RETURNING version, NULL::bytea
        """;

    // Every later write and every clear: only over the version the writer read.
    private const string UpdateSql = """
        UPDATE contactgrains_grain_state SET version = version + 1, payload = $5, modified_on = now()
        WHERE service_id = $1 AND state_name = $2 AND grain_key = $3 AND version = $4
        RETURNING version, NULL::bytea
        """;

    private const string LegacyRowsSql = "SELECT EXISTS (SELECT 1 FROM orleans_grain_state WHERE serviceid = $1)";

    private readonly string _serviceId;
    private readonly Serializer _serializer;
    private readonly GroupCommit _groupCommit;
    private readonly ILogger _logger;
    private bool _readLegacyRows = true;

    public PostgreSqlGrainStorage(GroupCommit groupCommit, string serviceId, Serializer serializer, ILogger<PostgreSqlGrainStorage> logger)
    {
        _groupCommit = groupCommit;
        _serviceId = serviceId;
        _serializer = serializer;
        _logger = logger;
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = grainId.Key.ToString();
        var row = await _groupCommit.ExecuteAsync(new RowStatement(new RowKey(stateName, key, ""), ReadCommand(stateName, grainId, key)));
        if (row.Found && row.Payload is { } payload)
        {
            grainState.State = _serializer.Deserialize<T>(payload);
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.RecordExists = false;
        }

        // A cleared row keeps its version, so that a writer from before the clear cannot overwrite.
        grainState.ETag = row.Found ? ToETag(row.Version) : null;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        // Serialized into a pooled buffer, given back once the statement's batch has ended (and
        // Npgsql has sent it): a conversation's state is several KB on every message.
        using var payload = new PooledPayload();
        _serializer.Serialize(grainState.State, payload);
        grainState.ETag = await WriteAsync(stateName, grainId, grainState.ETag, payload.Written);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (grainState.ETag is not null)
        {
            grainState.ETag = await WriteAsync(stateName, grainId, grainState.ETag, payload: null);
        }

        grainState.State = Activator.CreateInstance<T>();
        grainState.RecordExists = false;
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PostgreSqlGrainStorage), ServiceLifecycleStage.ApplicationServices, StartAsync, _ => Task.CompletedTask);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        // Only a database upgraded from the ADO.NET storage has rows to copy; every other read
        // skips looking for them.
        await using var command = _groupCommit.DataSource.CreateCommand(LegacyRowsSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _serviceId });
        _readLegacyRows = (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
        if (_readLegacyRows)
        {
            LogReadingLegacyRows(_logger, _serviceId);
        }
    }

    private async Task<string> WriteAsync(string stateName, GrainId grainId, string? etag, ReadOnlyMemory<byte>? payload)
    {
        var key = grainId.Key.ToString();
        var command = new NpgsqlBatchCommand(etag is null ? InsertSql : UpdateSql);
        AddIdentity(command, stateName, key);
        if (etag is not null)
        {
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = ParseETag(etag, stateName, grainId) });
        }

        command.Parameters.Add(payload is { } bytes
            ? new NpgsqlParameter<ReadOnlyMemory<byte>> { NpgsqlDbType = NpgsqlDbType.Bytea, TypedValue = bytes }
            : new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bytea, Value = DBNull.Value });

        var row = await _groupCommit.ExecuteAsync(new RowStatement(new RowKey(stateName, key, ""), command));
        if (!row.Found)
        {
            throw new InconsistentStateException(
                $"{stateName} of {grainId} was changed by another writer since it was read (expected version {etag ?? "none"}).",
                storedEtag: "unknown", currentEtag: etag ?? "none");
        }

        return ToETag(row.Version);
    }

    private NpgsqlBatchCommand ReadCommand(string stateName, GrainId grainId, string key)
    {
        if (!_readLegacyRows)
        {
            var read = new NpgsqlBatchCommand(ReadSql);
            AddIdentity(read, stateName, key);
            return read;
        }

        var legacy = LegacyGrainKey.Of(grainId);
        var command = new NpgsqlBatchCommand(legacy.Extension is null ? ReadOrCopyLegacyWithoutExtensionSql : ReadOrCopyLegacySql);
        AddIdentity(command, stateName, key);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = legacy.N0 });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = legacy.N1 });
        if (legacy.Extension is { } extension)
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = extension });
        }

        return command;
    }

    private void AddIdentity(NpgsqlBatchCommand command, string stateName, string key)
    {
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _serviceId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stateName });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
    }

    private static string ToETag(long version) => version.ToString(CultureInfo.InvariantCulture);

    private static long ParseETag(string etag, string stateName, GrainId grainId) =>
        long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? version
            : throw new InconsistentStateException($"{stateName} of {grainId} carries ETag '{etag}', which this storage never issued.", "unknown", etag);

    [LoggerMessage(Level = LogLevel.Information, Message = "Service {ServiceId} has grain state from the ADO.NET storage: each grain's row is copied to contactgrains_grain_state when it is first read")]
    private static partial void LogReadingLegacyRows(ILogger logger, string serviceId);
}
