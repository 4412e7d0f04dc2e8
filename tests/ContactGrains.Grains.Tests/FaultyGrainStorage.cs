using Orleans.Storage;

namespace ContactGrains.Grains.Tests;

/// <summary>
/// Grain storage that fails the writes a test chooses (the database going away at the worst
/// moment) and passes everything else to the real storage underneath.
/// </summary>
public sealed class FaultyGrainStorage(IGrainStorage inner) : IGrainStorage
{
    private volatile Func<string, GrainId, bool>? _failWrite;

    /// <summary>Fails every write of a state named <paramref name="stateName"/> for <paramref name="grainId"/> until <see cref="Heal"/>.</summary>
    public void FailWritesOf(string stateName, GrainId grainId) =>
        _failWrite = (name, id) => name == stateName && id == grainId;

    public void Heal() => _failWrite = null;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        _failWrite?.Invoke(stateName, grainId) == true
            ? throw new IOException($"Injected failure writing {stateName} of {grainId}.")
            : inner.WriteStateAsync(stateName, grainId, grainState);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, grainId, grainState);
}
