using Orleans.Runtime;

namespace ContactGrains.Grains.Tests;

/// <summary>
/// A reminder table that refuses the registrations a test chooses (the database going away as a
/// reminder is stored) and passes everything else to the real table underneath.
/// </summary>
public sealed class FaultyReminderTable(IReminderTable inner) : IReminderTable
{
    private volatile Func<ReminderEntry, bool>? _failUpsert;

    /// <summary>Fails every registration of a reminder named <paramref name="reminderName"/>, whatever its grain, until <see cref="Heal"/>.</summary>
    public void FailRegistrationsOf(string reminderName) => _failUpsert = entry => entry.ReminderName == reminderName;

    public void Heal() => _failUpsert = null;

    public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken = default) => inner.StopAsync(cancellationToken);

    public Task<ReminderTableData> ReadRows(GrainId grainId) => inner.ReadRows(grainId);

    public Task<ReminderTableData> ReadRows(uint begin, uint end) => inner.ReadRows(begin, end);

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => inner.ReadRow(grainId, reminderName);

    public Task<string?> UpsertRow(ReminderEntry entry) => _failUpsert?.Invoke(entry) == true
        ? Task.FromException<string?>(new InvalidOperationException($"Injected failure registering {entry.ReminderName} of {entry.GrainId}"))
        : inner.UpsertRow(entry);

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => inner.RemoveRow(grainId, reminderName, eTag);

    public Task TestOnlyClearTable() => inner.TestOnlyClearTable();
}
