using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Storage;

namespace ContactGrains.Grains;

/// <summary>
/// Grain storage for the single-silo development profile: each state is kept as a deep copy (Orleans'
/// generated copiers) in this process, with ETags checked as a database would. Orleans' memory
/// provider serializes every write and sends it to one of its storage grains, which cost about a
/// quarter of the silo's CPU per message; a silo that is alone in its cluster needs neither.
/// Not durable, and not shared between silos: a multi-silo cluster uses PostgreSQL.
/// </summary>
public sealed class InProcessGrainStorage(DeepCopier copier) : IGrainStorage
{
    private readonly ConcurrentDictionary<(string StateName, GrainId GrainId), Stored> _states = new();
    private long _lastETag;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_states.TryGetValue((stateName, grainId), out var stored))
        {
            // A copy: the grain changes its state in place before writing, and a failed commit must
            // be able to read back what was stored.
            grainState.State = copier.Copy((T)stored.State);
            grainState.ETag = stored.ETag;
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
        }

        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = (stateName, grainId);
        var replacement = new Stored(copier.Copy(grainState.State)!, NextETag());
        if (grainState.ETag is null)
        {
            if (!_states.TryAdd(key, replacement))
            {
                throw Conflict(key, grainState.ETag);
            }
        }
        else if (!_states.TryGetValue(key, out var current) || current.ETag != grainState.ETag || !_states.TryUpdate(key, replacement, current))
        {
            throw Conflict(key, grainState.ETag);
        }

        grainState.ETag = replacement.ETag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = (stateName, grainId);
        if (_states.TryGetValue(key, out var current))
        {
            if (current.ETag != grainState.ETag || !_states.TryRemove(KeyValuePair.Create(key, current)))
            {
                throw Conflict(key, grainState.ETag);
            }
        }

        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private string NextETag() => Interlocked.Increment(ref _lastETag).ToString(CultureInfo.InvariantCulture);

    private InconsistentStateException Conflict((string StateName, GrainId GrainId) key, string? expected) =>
        new($"{key.StateName} of {key.GrainId} was changed by another activation (expected ETag {expected ?? "none"}).",
            _states.TryGetValue(key, out var stored) ? stored.ETag : "none", expected ?? "none");

    private sealed record Stored(object State, string ETag);
}

public static class InProcessGrainStorageExtensions
{
    /// <summary>
    /// Registers <see cref="InProcessGrainStorage"/> as the grain storage named <paramref name="name"/>,
    /// and a conversation id seed of this process: the storage forgets every thread when the process
    /// ends, so without it the threads' next conversations would get the ids handed out before, and a
    /// client still holding one (a browser's last event id) would take a new conversation for the old.
    /// </summary>
    public static ISiloBuilder AddContactGrainsInProcessStorage(this ISiloBuilder silo, string name = StorageNames.Default)
    {
        var seed = Guid.NewGuid().ToString("N");
        return silo.ConfigureServices(services => services
            .AddGrainStorage(name, (provider, _) => new InProcessGrainStorage(provider.GetRequiredService<DeepCopier>()))
            .Configure<Conversations.ConversationIdOptions>(ids => ids.Seed = seed));
    }
}
