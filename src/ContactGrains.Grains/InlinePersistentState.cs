using System.Collections.Concurrent;
using System.Diagnostics;
using ContactGrains.Grains.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Metadata;
using Orleans.Storage;

namespace ContactGrains.Grains;

/// <summary>
/// The grains' <see cref="IPersistentState{TState}"/>: in a grain that handles one call at a time,
/// each read, write or clear starts at once when none is under way, and otherwise waits for the one
/// before it. Orleans' own implementation (10.x) always yields to the activation's scheduler before
/// it starts an operation, so a write to storage that completes at once (the development profile's
/// memory) still costs every message an asynchronous hop through each awaiting method of the call:
/// allocated continuations and state machines, and a scheduler work item. The guarantees are
/// Orleans': one operation at a time per state, in the order asked, and a write asked for while
/// another is under way joins the next write not started yet.
/// </summary>
/// <remarks>
/// A reentrant grain (the queue) keeps Orleans' yield: the calls that interleave while its write
/// waits for its turn change the state too, and that one write stores them all, where starting at
/// once would copy and store a large state once per call.
/// Every member runs on the activation's scheduler (grain code and its continuations), one at a
/// time, so the fields need no lock. A failure is logged and, unless it is an
/// <see cref="OrleansException"/> already, wrapped in one, as Orleans does. The state does not
/// take part in live activation migration: a migrated activation reads its state from storage.
/// </remarks>
public sealed partial class InlinePersistentState<TState> : IPersistentState<TState>, ILifecycleObserver
{
    private readonly string _stateName;
    private readonly IGrainContext _grain;
    private readonly IGrainStorage _storage;
    private readonly ILogger _logger;
    private readonly ContactGrainsMetrics _metrics;
    private readonly GrainState<TState> _grainState;
    private readonly bool _joinInterleavedCalls;
    private bool _loaded;

    // The last operation asked for, and the write queued behind one under way that has not started
    // (later writes join it); _queuedWriteNumber tells a queued write whether it is still that one.
    private Task _tail = Task.CompletedTask;
    private Operation _tailOperation;
    private Task? _queuedWrite;
    private long _queuedWriteNumber;

    public InlinePersistentState(
        string stateName, IGrainContext grain, IGrainStorage storage, ILogger logger, ContactGrainsMetrics metrics, bool joinInterleavedCalls)
    {
        _stateName = stateName;
        _grain = grain;
        _storage = storage;
        _logger = logger;
        _metrics = metrics;
        _joinInterleavedCalls = joinInterleavedCalls;
        _grainState = new GrainState<TState>(Activator.CreateInstance<TState>());
        grain.ObservableLifecycle.Subscribe($"{nameof(InlinePersistentState<TState>)}:{stateName}", GrainLifecycleStage.SetupState, this);
    }

    public TState State
    {
        get => _grainState.State!;
        set => _grainState.State = value;
    }

    public string? Etag => _grainState.ETag;

    public bool RecordExists => _loaded
        ? _grainState.RecordExists
        : throw new InvalidOperationException($"State {_stateName} of {_grain.GrainId} has not been read yet.");

    public Task ReadStateAsync() => Schedule(Operation.Read);

    public Task WriteStateAsync() => _queuedWrite ?? Schedule(Operation.Write);

    public Task ClearStateAsync() => Schedule(Operation.Clear);

    Task ILifecycleObserver.OnStart(CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested ? Task.CompletedTask : ReadStateAsync();

    Task ILifecycleObserver.OnStop(CancellationToken cancellationToken) => Task.CompletedTask;

    private Task Schedule(Operation operation)
    {
        if (_tail.IsCompleted && !_joinInterleavedCalls)
        {
            // Nothing under way: run now (a storage call that completes at once completes this too).
            _queuedWrite = null;
            _tailOperation = operation;
            return _tail = RunAsync(operation);
        }

        var number = ++_queuedWriteNumber;
        var queued = RunAfterAsync(_tail.IsCompleted ? null : _tail, _tailOperation, operation, number);
        _queuedWrite = operation == Operation.Write ? queued : null;
        _tailOperation = operation;
        return _tail = queued;
    }

    // predecessor null: nothing under way, but a reentrant grain's operation waits for the calls
    // already queued on the activation (they may ask for a write too, and join this one).
    private async Task RunAfterAsync(Task? predecessor, Operation predecessorOperation, Operation operation, long number)
    {
        // The predecessor's failure is its own caller's to hear; this operation runs regardless.
        await (predecessor ?? Task.CompletedTask).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext
            | (predecessor is null ? ConfigureAwaitOptions.ForceYielding : ConfigureAwaitOptions.None));
        if (_queuedWriteNumber == number)
        {
            // Started: a write asked for from now on must store what changes after this point.
            _queuedWrite = null;
        }

        if (predecessor is { IsCompletedSuccessfully: true }
            && (operation == Operation.Read || (operation == Operation.Clear && predecessorOperation == Operation.Clear)))
        {
            // As Orleans does: the state in memory is what the operation just before stored (or
            // read, or cleared), so a read after it has nothing to add, nor a clear after a clear.
            // A reload after a failed write that the queued write then stored keeps that state.
            _loaded = true;
            return;
        }

        await RunAsync(operation);
    }

    private async Task RunAsync(Operation operation)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            switch (operation)
            {
                case Operation.Read:
                    await _storage.ReadStateAsync(_stateName, _grain.GrainId, _grainState);
                    _loaded = true;
                    break;
                case Operation.Write:
                    await _storage.WriteStateAsync(_stateName, _grain.GrainId, _grainState);
                    break;
                default:
                    await _storage.ClearStateAsync(_stateName, _grain.GrainId, _grainState);
                    break;
            }

            _metrics.StorageOperation(_stateName, OperationName(operation), failed: false, Stopwatch.GetElapsedTime(started));
        }
        catch (Exception failure)
        {
            _metrics.StorageOperation(_stateName, OperationName(operation), failed: true, Stopwatch.GetElapsedTime(started));
            LogStorageFailed(_logger, failure, operation, _stateName, _grain.GrainId);
            if (failure is OrleansException)
            {
                throw;
            }

            throw new OrleansException($"Error from grain storage during {operation} of {_stateName} for grain {_grain.GrainId}: {failure.Message}", failure);
        }
    }

    private static string OperationName(Operation operation) => operation switch
    {
        Operation.Read => "read",
        Operation.Write => "write",
        _ => "clear",
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Grain storage failed: {Operation} of {StateName} for grain {GrainId}")]
    private static partial void LogStorageFailed(ILogger logger, Exception exception, Operation operation, string stateName, GrainId grainId);

    private enum Operation
    {
        Read,
        Write,
        Clear,
    }
}

/// <summary>Creates <see cref="InlinePersistentState{TState}"/> for <c>[PersistentState]</c> parameters and for grains that create states themselves.</summary>
public sealed class InlinePersistentStateFactory(ILoggerFactory loggers, ContactGrainsMetrics metrics, GrainClassMap grainClasses) : IPersistentStateFactory
{
    private readonly ConcurrentDictionary<GrainType, bool> _reentrant = new();

    public IPersistentState<TState> Create<TState>(IGrainContext context, IPersistentStateConfiguration config)
    {
        var storage = (string.IsNullOrWhiteSpace(config.StorageName)
                ? context.ActivationServices.GetService<IGrainStorage>()
                : context.ActivationServices.GetKeyedService<IGrainStorage>(config.StorageName))
            ?? throw new BadProviderConfigException(
                $"No grain storage named '{config.StorageName}' is registered for {context.GrainId.Type} (state {config.StateName}).");
        var reentrant = _reentrant.GetOrAdd(context.GrainId.Type, type =>
            grainClasses.TryGetGrainClass(type, out var grainClass) && grainClass.IsDefined(typeof(ReentrantAttribute), inherit: true));
        return new InlinePersistentState<TState>(config.StateName, context, storage, loggers.CreateLogger("ContactGrains.Grains.GrainStorage"), metrics, reentrant);
    }
}
