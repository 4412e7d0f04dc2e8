using Npgsql;

namespace ContactGrains.Persistence.Tests;

/// <summary>A grain that only registers a reminder and reports its ticks, for the reminder tests.</summary>
[Alias("cg.tests.IReminderProbeGrain")]
public interface IReminderProbeGrain : IGrainWithStringKey
{
    [Alias("Start")]
    Task Start(string reminderName, TimeSpan period);
}

public sealed class ReminderProbeGrain(TickLog ticks) : Grain, IReminderProbeGrain, IRemindable
{
    public async Task Start(string reminderName, TimeSpan period) =>
        await this.RegisterOrUpdateReminder(reminderName, dueTime: period, period: period);

    public Task ReceiveReminder(string reminderName, TickStatus status) =>
        ticks.RecordAsync(this.GetPrimaryKeyString(), reminderName);
}

/// <summary>
/// Where the probe writes its ticks: a table of the test database, outside any grain and any
/// cluster, labelled with the cluster that delivered the tick. It survives every restart, and the
/// test reads it without calling (and so activating) the grain.
/// </summary>
public sealed class TickLog(string connectionString, string clusterLabel)
{
    public const string CreateTable = """
        CREATE TABLE IF NOT EXISTS test_reminder_ticks (
            grain    text NOT NULL,
            reminder text NOT NULL,
            cluster  text NOT NULL,
            at       timestamptz NOT NULL DEFAULT now())
        """;

    public async Task RecordAsync(string grain, string reminder)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("INSERT INTO test_reminder_ticks (grain, reminder, cluster) VALUES (@grain, @reminder, @cluster)", connection);
        command.Parameters.AddWithValue("grain", grain);
        command.Parameters.AddWithValue("reminder", reminder);
        command.Parameters.AddWithValue("cluster", clusterLabel);
        await command.ExecuteNonQueryAsync();
    }

    public static Task<long> CountAsync(string connectionString, string grain, string reminder, string clusterLabel) =>
        Sql.ScalarAsync<long>(connectionString,
            "SELECT count(*) FROM test_reminder_ticks WHERE grain = @grain AND reminder = @reminder AND cluster = @cluster",
            ("grain", grain), ("reminder", reminder), ("cluster", clusterLabel));
}
