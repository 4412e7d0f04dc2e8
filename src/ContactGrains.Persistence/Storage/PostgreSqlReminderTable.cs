using System.Globalization;
using Npgsql;

namespace ContactGrains.Persistence.Storage;

/// <summary>
/// Orleans' reminder table in <c>orleans_reminders</c> (migration 0001), with the ADO.NET reminder
/// provider's row format and semantics, but its changes sent through <see cref="GroupCommit"/>: every
/// new conversation registers an inactivity reminder, and one transaction each would cost more
/// than the conversation's messages. Reads (a grain's reminders, a silo's slice of the ring) go on
/// their own; they are rare.
/// </summary>
public sealed class PostgreSqlReminderTable(GroupCommit groupCommit, string serviceId) : IReminderTable
{
    private const string Columns = "grainid, remindername, starttime, period, version";

    // The new version differs from every earlier version of the row, so a removal holding an older
    // ETag fails.
    private const string UpsertSql = """
        INSERT INTO orleans_reminders AS r (serviceid, grainid, remindername, starttime, period, grainhash, version)
        VALUES ($1, $2, $3, $4, $5, $6, 0)
        ON CONFLICT (serviceid, grainid, remindername) DO UPDATE
        SET starttime = excluded.starttime, period = excluded.period, grainhash = excluded.grainhash, version = r.version + 1
        RETURNING version::int8, NULL::bytea
        """;

    private const string RemoveSql = """
        DELETE FROM orleans_reminders
        WHERE serviceid = $1 AND grainid = $2 AND remindername = $3 AND version = $4
        RETURNING version::int8, NULL::bytea
        """;

    public async Task<string?> UpsertRow(ReminderEntry entry)
    {
        var grainId = entry.GrainId.ToString();
        var command = new NpgsqlBatchCommand(UpsertSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = serviceId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grainId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entry.ReminderName });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = AsUtc(entry.StartAt) });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)entry.Period.TotalMilliseconds });
        // Signed, as the ADO.NET provider stores it: the range reads below rely on it.
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = unchecked((int)entry.GrainId.GetUniformHashCode()) });
        var row = await groupCommit.ExecuteAsync(new RowStatement(new RowKey(ReminderRows, grainId, entry.ReminderName), command));
        return row.Version.ToString(CultureInfo.InvariantCulture);
    }

    public async Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag)
    {
        if (!int.TryParse(eTag, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            return false;
        }

        var key = grainId.ToString();
        var command = new NpgsqlBatchCommand(RemoveSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = serviceId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reminderName });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = version });
        var row = await groupCommit.ExecuteAsync(new RowStatement(new RowKey(ReminderRows, key, reminderName), command));
        return row.Found;
    }

    public async Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName)
    {
        var rows = await ReadAsync(
            $"SELECT {Columns} FROM orleans_reminders WHERE serviceid = $1 AND grainid = $2 AND remindername = $3",
            grainId.ToString(), reminderName);
        return rows.Reminders.SingleOrDefault();
    }

    public Task<ReminderTableData> ReadRows(GrainId grainId) =>
        ReadAsync($"SELECT {Columns} FROM orleans_reminders WHERE serviceid = $1 AND grainid = $2", grainId.ToString());

    /// <summary>
    /// The reminders whose grain hash is in the ring range (begin, end]. The hashes are stored as
    /// signed integers; read as such, a range that does not wrap in unsigned order wraps in signed
    /// order and the other way round, so the comparison is chosen on the signed values. begin = end
    /// is the whole ring.
    /// </summary>
    public Task<ReminderTableData> ReadRows(uint begin, uint end)
    {
        var (signedBegin, signedEnd) = (unchecked((int)begin), unchecked((int)end));
        var condition = signedBegin < signedEnd ? "grainhash > $2 AND grainhash <= $3" : "(grainhash > $2 OR grainhash <= $3)";
        return ReadAsync($"SELECT {Columns} FROM orleans_reminders WHERE serviceid = $1 AND {condition}", signedBegin, signedEnd);
    }

    public async Task TestOnlyClearTable()
    {
        await using var command = groupCommit.DataSource.CreateCommand("DELETE FROM orleans_reminders WHERE serviceid = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = serviceId });
        await command.ExecuteNonQueryAsync();
    }

    private async Task<ReminderTableData> ReadAsync(string sql, params object[] values)
    {
        await using var command = groupCommit.DataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = serviceId });
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        var entries = new List<ReminderEntry>();
        await using var rows = await command.ExecuteReaderAsync();
        while (await rows.ReadAsync())
        {
            entries.Add(new ReminderEntry
            {
                GrainId = GrainId.Parse(rows.GetString(0)),
                ReminderName = rows.GetString(1),
                StartAt = DateTime.SpecifyKind(rows.GetDateTime(2), DateTimeKind.Utc),
                Period = TimeSpan.FromMilliseconds(rows.GetInt64(3)),
                ETag = rows.GetInt32(4).ToString(CultureInfo.InvariantCulture),
            });
        }

        return new ReminderTableData(entries);
    }

    // Reminder rows and grain state rows never share a key: their order keys only need to be distinct.
    // Orders reminder rows apart from grain state rows (state names never start with this character).
    private const string ReminderRows = "\u0001reminder";

    private static DateTime AsUtc(DateTime time) => time.Kind switch
    {
        DateTimeKind.Utc => time,
        DateTimeKind.Local => time.ToUniversalTime(),
        _ => DateTime.SpecifyKind(time, DateTimeKind.Utc),
    };
}
