using Orleans.Serialization;
using Orleans.Storage;

namespace ContactGrains.Grains.Tests;

/// <summary>
/// Grain storage that fails the writes (and reads) a test chooses (the database going away at the
/// worst moment) and passes everything else to the real storage underneath.
/// </summary>
public sealed class FaultyGrainStorage(IGrainStorage inner, DeepCopier copier) : IGrainStorage
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, GrainId), int> _writes = new();
    private volatile HeldWrite? _held;
    private volatile WriteRule? _failWrite;
    private volatile Func<string, GrainId, bool>? _failRead;
    private int _injectedWriteFailures;
    private GrainId _lastFailedGrain;
    private int _readsAfterLastFailure;

    /// <summary>How a chosen write fails.</summary>
    public enum WriteFault
    {
        /// <summary>The write never reaches the database.</summary>
        Lost = 0,

        /// <summary>The write is stored, but its reply is lost: the caller hears a failure and keeps the old ETag.</summary>
        LandedButReplyLost = 1,
    }

    /// <summary>Writes refused (or whose reply was dropped) so far: lets a test wait for a failure in a timer or a one-way call.</summary>
    public int InjectedWriteFailures => Volatile.Read(ref _injectedWriteFailures);

    /// <summary>
    /// Fails every write of a state named <paramref name="stateName"/> (or one of its partitions,
    /// <c>name-N</c>, as a queue stores its waiting list) for <paramref name="grainId"/> until <see cref="Heal"/>.
    /// </summary>
    public void FailWritesOf(string stateName, GrainId grainId) => FailWhen((name, id) => IsStateOrPartition(name, stateName) && id == grainId, WriteFault.Lost);

    /// <summary>
    /// Fails only the <paramref name="nth"/> write (counted from now, 1 = the next one) of a state named
    /// <paramref name="stateName"/> for <paramref name="grainId"/>; the writes before and after it succeed.
    /// </summary>
    public void FailWrite(string stateName, GrainId grainId, int nth = 1, WriteFault fault = WriteFault.Lost)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nth, 1);
        var seen = 0;
        FailWhen((name, id) => IsStateOrPartition(name, stateName) && id == grainId && Interlocked.Increment(ref seen) == nth, fault);
    }

    /// <summary>Fails every read of a state named <paramref name="stateName"/> for <paramref name="grainId"/> until <see cref="Heal"/> (an activation cannot reload).</summary>
    public void FailReadsOf(string stateName, GrainId grainId) => _failRead = (name, id) => name == stateName && id == grainId;

    /// <summary>
    /// Reads of the grain whose write failed last, since that failure: its reload. A reentrant grain
    /// (the queue) may answer other calls between a failure and its reload, so a test that waits for
    /// an unheard failure waits for this too.
    /// </summary>
    public int ReadsAfterLastInjectedFailure => Volatile.Read(ref _readsAfterLastFailure);

    /// <summary>Writes of the state named <paramref name="stateName"/> (exactly) for <paramref name="grainId"/> that reached this storage so far, held, failed or stored.</summary>
    public int WritesOf(string stateName, GrainId grainId) => _writes.GetValueOrDefault((stateName, grainId));

    /// <summary>
    /// Holds the next write of the state named <paramref name="stateName"/> (exactly) for
    /// <paramref name="grainId"/> until the test releases it: a write in flight for as long as the
    /// test needs.
    /// </summary>
    public HeldWrite HoldNextWrite(string stateName, GrainId grainId) => _held = new HeldWrite(stateName, grainId);

    public void Heal()
    {
        _failWrite = null;
        _failRead = null;
    }

    /// <summary>What the storage underneath holds, read past any injected fault.</summary>
    public async Task<IGrainState<T>> ReadStoredAsync<T>(string stateName, GrainId grainId)
        where T : new()
    {
        var stored = new GrainState<T>(new T());
        await inner.ReadStateAsync(stateName, grainId, stored);
        return stored;
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_failRead?.Invoke(stateName, grainId) == true)
        {
            throw new IOException($"Injected failure reading {stateName} of {grainId}.");
        }

        await inner.ReadStateAsync(stateName, grainId, grainState);
        if (grainId == _lastFailedGrain)
        {
            Interlocked.Increment(ref _readsAfterLastFailure);
        }
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        _writes.AddOrUpdate((stateName, grainId), 1, (_, count) => count + 1);
        if (_held is { } held && held.StateName == stateName && held.GrainId == grainId && Interlocked.CompareExchange(ref _held, null, held) == held)
        {
            // What a database write sends is the state as it was when the write began (PostgreSQL's
            // storage serializes it first), not the changes made while it was held.
            var sent = new GrainState<T>(copier.Copy(grainState.State), grainState.ETag) { RecordExists = grainState.RecordExists };
            held.Reach();
            if (!await held.Outcome)
            {
                NoteFailure(grainId);
                throw new IOException($"Injected failure writing {stateName} of {grainId} (held, then failed).");
            }

            await inner.WriteStateAsync(stateName, grainId, sent);
            (grainState.ETag, grainState.RecordExists) = (sent.ETag, sent.RecordExists);
            return;
        }

        var rule = _failWrite;
        if (rule?.Matches(stateName, grainId) != true)
        {
            await inner.WriteStateAsync(stateName, grainId, grainState);
            return;
        }

        NoteFailure(grainId);
        if (rule.Fault == WriteFault.LandedButReplyLost)
        {
            // A copy, so the caller's state keeps its old ETag as if the reply never came.
            await inner.WriteStateAsync(stateName, grainId, new GrainState<T>(grainState.State, grainState.ETag) { RecordExists = grainState.RecordExists });
            throw new IOException($"Injected failure writing {stateName} of {grainId} (stored, reply lost).");
        }

        throw new IOException($"Injected failure writing {stateName} of {grainId}.");
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, grainId, grainState);

    private void NoteFailure(GrainId grainId)
    {
        _lastFailedGrain = grainId;
        Volatile.Write(ref _readsAfterLastFailure, 0);
        Interlocked.Increment(ref _injectedWriteFailures);
    }

    private static bool IsStateOrPartition(string name, string stateName) =>
        name == stateName
        || (name.Length > stateName.Length + 1 && name.StartsWith(stateName + "-", StringComparison.Ordinal) && name[(stateName.Length + 1)..].All(char.IsAsciiDigit));

    private void FailWhen(Func<string, GrainId, bool> match, WriteFault fault) => _failWrite = new WriteRule(match, fault);

    /// <summary>A write held in flight (<see cref="HoldNextWrite"/>).</summary>
    public sealed class HeldWrite(string stateName, GrainId grainId)
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<bool> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string StateName { get; } = stateName;

        public GrainId GrainId { get; } = grainId;

        /// <summary>Completes when the write has reached the storage and is held there.</summary>
        public Task Reached => _reached.Task;

        internal Task<bool> Outcome => _outcome.Task;

        /// <summary>Lets the write go on to the storage underneath with the state it was sent with, or fails it as if the database refused it.</summary>
        public void Release(bool fail = false) => _outcome.TrySetResult(!fail);

        internal void Reach() => _reached.TrySetResult();
    }

    private sealed record WriteRule(Func<string, GrainId, bool> Matches, WriteFault Fault);
}
