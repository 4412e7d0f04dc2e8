using Microsoft.Extensions.Logging;

namespace ContactGrains.Grains;

/// <summary>
/// The one rule for every grain that stores state: a change exists only once it is stored. A grain
/// applies a change and writes it in one commit; if anything in between fails (the change itself,
/// or the write), the activation reloads what storage holds before the caller hears of the failure,
/// and if even that read fails, it deactivates so that the next call starts from storage. An
/// activation therefore never acts on a change that was not stored: a thread never hands out a
/// conversation its stored row does not name, a retried message is never taken for a duplicate of
/// one that was lost, and a write that did reach the database before its reply was lost is seen
/// (with its new ETag) instead of being overwritten.
/// </summary>
public static partial class StoredState
{
    /// <summary>Applies <paramref name="change"/> to the state and stores it; on failure, see <see cref="StoredState"/>.</summary>
    public static async Task CommitAsync<T>(this IPersistentState<T> state, IGrainBase grain, ILogger logger, Func<Task> change)
    {
        try
        {
            await change();
            await state.WriteStateAsync();
        }
        catch (Exception failure)
        {
            await ReloadAsync(state, grain, logger, failure);
            throw;
        }
    }

    /// <inheritdoc cref="CommitAsync{T}(IPersistentState{T}, IGrainBase, ILogger, Func{Task})"/>
    public static Task CommitAsync<T>(this IPersistentState<T> state, IGrainBase grain, ILogger logger, Action change) =>
        state.CommitAsync(grain, logger, () =>
        {
            change();
            return Task.CompletedTask;
        });

    /// <summary>
    /// Stores changes already applied to the state (where they had to be applied one by one, between
    /// calls to other grains); on failure, see <see cref="StoredState"/>.
    /// </summary>
    public static Task CommitAsync<T>(this IPersistentState<T> state, IGrainBase grain, ILogger logger) =>
        state.CommitAsync(grain, logger, () => Task.CompletedTask);

    /// <summary>
    /// After <paramref name="failure"/>: reloads what storage holds, or deactivates if even that read
    /// fails (see <see cref="StoredState"/>). False when the activation is ending instead.
    /// </summary>
    public static async Task<bool> ReloadAsync<T>(IPersistentState<T> state, IGrainBase grain, ILogger logger, Exception failure)
    {
        LogCommitFailed(logger, failure, grain.GrainContext.GrainId);
        try
        {
            await state.ReadStateAsync();
            return true;
        }
        catch (Exception reloadFailure)
        {
            // Cannot tell what is stored: a fresh activation reads it before doing anything else.
            LogReloadFailed(logger, reloadFailure, grain.GrainContext.GrainId);
            grain.DeactivateOnIdle();
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{GrainId}: a change could not be stored; the activation reloads what is")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, GrainId grainId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{GrainId}: reloading the stored state failed too; the activation ends so the next call reads storage afresh")]
    private static partial void LogReloadFailed(ILogger logger, Exception exception, GrainId grainId);
}
