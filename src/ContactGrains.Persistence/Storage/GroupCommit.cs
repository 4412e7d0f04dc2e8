using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ContactGrains.Persistence.Storage;

/// <summary>How <see cref="GroupCommit"/> sends statements to PostgreSQL.</summary>
public sealed class GroupCommitOptions
{
    /// <summary>
    /// Batches that may be in flight at once, each on its own connection. While they are, new
    /// statements gather into the next batch; more loops mean smaller batches and more transactions.
    /// </summary>
    public int Loops { get; set; } = 2;

    /// <summary>The most statements in one batch.</summary>
    public int MaxBatch { get; set; } = 256;

    /// <summary>What is wrong with these settings, in one sentence, or null.</summary>
    public string? Validate() =>
        Loops is < 1 or > 64 ? $"ContactGrains:Storage:GroupCommit:Loops must be between 1 and 64 (it is {Loops}): batches in flight at once, each on its own connection."
        : MaxBatch is < 1 or > 10_000 ? $"ContactGrains:Storage:GroupCommit:MaxBatch must be between 1 and 10000 (it is {MaxBatch}): the most statements in one transaction."
        : null;
}

/// <summary>What one statement found: the row's version and payload, or nothing.</summary>
internal readonly record struct RowResult(bool Found, long Version, byte[]? Payload);

/// <summary>
/// Names the row a statement locks, in parts compared one after the other (ordinal), so that no key
/// string is built per statement: <see cref="Table"/> tells the tables apart, then the row's own key.
/// </summary>
internal readonly record struct RowKey(string Table, string First, string Second) : IComparable<RowKey>
{
    public int CompareTo(RowKey other)
    {
        var order = string.CompareOrdinal(Table, other.Table);
        if (order == 0)
        {
            order = string.CompareOrdinal(First, other.First);
        }

        return order != 0 ? order : string.CompareOrdinal(Second, other.Second);
    }
}

/// <summary>
/// One statement on one grain's row, waiting for its batch. Every statement returns at most one row
/// of (version, payload); <see cref="Key"/> orders the statements of a batch.
/// </summary>
internal sealed class RowStatement(RowKey key, NpgsqlBatchCommand command)
{
    private readonly TaskCompletionSource<RowResult> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RowKey Key { get; } = key;

    public NpgsqlBatchCommand Command { get; } = command;

    public Task<RowResult> Result => _result.Task;

    public void Complete(RowResult result) => _result.TrySetResult(result);

    public void Fail(Exception failure) => _result.TrySetException(failure);
}

/// <summary>
/// Group commit: the statements that arrive while earlier ones are on their way to PostgreSQL are
/// sent together, as one batch, in one round trip and one transaction (Npgsql runs a batch without
/// an explicit transaction as one implicit transaction). Nothing waits for a batch to fill: a lone
/// statement is sent at once; under load, batches grow by themselves while
/// <see cref="GroupCommitOptions.Loops"/> batches are in flight. Grain state
/// (<see cref="PostgreSqlGrainStorage"/>) and reminders (<see cref="PostgreSqlReminderTable"/>)
/// share it, so a message's state write and a new conversation's reminder can share a commit.
/// </summary>
/// <remarks>
/// A statement's caller hears of its result only after the whole batch has committed, so a write
/// acknowledged to a grain is stored. If the batch fails (the server is gone, a timeout), every
/// statement in it fails with that exception: normally nothing of it is stored, and where the commit
/// did happen but its reply was lost, the grains' reloads (<c>StoredState</c>) find what it stored. The statements of a batch
/// run in key order, so two batches in flight at once always lock shared rows in the same order and
/// cannot deadlock each other.
/// </remarks>
public sealed partial class GroupCommit : ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly int _maxBatch;
    private readonly ILogger _logger;
    private readonly Channel<RowStatement> _pending = Channel.CreateUnbounded<RowStatement>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Task[] _loops;
    private long _batches;
    private long _statements;

    public GroupCommit(string connectionString, GroupCommitOptions options, ILogger<GroupCommit> logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Loops, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatch, 1);
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        // The same few statements all day: prepared once per connection, PostgreSQL parses and plans them once.
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 16;
        }

        _dataSource = builder.Build();
        _maxBatch = options.MaxBatch;
        _logger = logger;
        _loops = [.. Enumerable.Range(0, options.Loops).Select(_ => Task.Run(RunAsync))];
    }

    /// <summary>For statements that return many rows (reminder ranges) and go on their own.</summary>
    internal NpgsqlDataSource DataSource => _dataSource;

    /// <summary>Batches and statements sent so far: statements per batch is the grouping achieved.</summary>
    public (long Batches, long Statements) Counts => (Interlocked.Read(ref _batches), Interlocked.Read(ref _statements));

    /// <summary>Queues <paramref name="statement"/> for the next batch; its <see cref="RowStatement.Result"/> says how it ended.</summary>
    internal Task<RowResult> ExecuteAsync(RowStatement statement)
    {
        if (!_pending.Writer.TryWrite(statement))
        {
            statement.Fail(new ObjectDisposedException(nameof(GroupCommit), "The grain storage has stopped: the silo is shutting down."));
        }

        return statement.Result;
    }

    /// <summary>
    /// Stops after the grains and the reminder service (a later stage stops earlier), sending what is
    /// still queued first.
    /// </summary>
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(GroupCommit), ServiceLifecycleStage.RuntimeStorageServices, _ => Task.CompletedTask, _ => StopAsync());

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _dataSource.DisposeAsync();
    }

    private async Task StopAsync()
    {
        _pending.Writer.TryComplete();
        await Task.WhenAll(_loops);
    }

    private async Task RunAsync()
    {
        var batch = new List<RowStatement>(_maxBatch);
        var reader = _pending.Reader;
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _maxBatch && reader.TryRead(out var statement))
            {
                batch.Add(statement);
            }

            if (batch.Count > 0)
            {
                await SendAsync(batch);
            }
        }
    }

    private async Task SendAsync(List<RowStatement> batch)
    {
        batch.Sort(static (a, b) => a.Key.CompareTo(b.Key));
        try
        {
            var results = await ExecuteAsync(batch);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Complete(results[i]);
            }
        }
        catch (PostgresException refused) when (batch.Count > 1)
        {
            // PostgreSQL refused a statement (a value it cannot store, say): the whole transaction
            // rolled back, so nothing of the batch is stored. Each statement goes again on its own, so
            // that only the one at fault fails, not the grains that shared its batch.
            LogBatchRefused(_logger, refused, batch.Count);
            foreach (var statement in batch)
            {
                await SendAsync([statement]);
            }
        }
        catch (Exception failure)
        {
            LogBatchFailed(_logger, failure, batch.Count);
            foreach (var statement in batch)
            {
                statement.Fail(failure);
            }
        }
    }

    private async Task<RowResult[]> ExecuteAsync(List<RowStatement> batch)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _statements, batch.Count);
        var results = new RowResult[batch.Count];
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var command = new NpgsqlBatch(connection);
        foreach (var statement in batch)
        {
            command.BatchCommands.Add(statement.Command);
        }

        try
        {
            // Disposing the reader reads up to the end of the batch: its commit, or the error that
            // rolled it back.
            await using (var rows = await command.ExecuteReaderAsync())
            {
                var index = 0;
                do
                {
                    if (await rows.ReadAsync())
                    {
                        results[index] = new RowResult(true, rows.GetInt64(0), await rows.IsDBNullAsync(1) ? null : rows.GetFieldValue<byte[]>(1));
                    }

                    index++;
                }
                while (await rows.NextResultAsync());
            }

            return results;
        }
        finally
        {
            // A statement of a refused batch is sent again in a batch of its own.
            command.BatchCommands.Clear();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL refused a statement in a batch of {Count}; each is sent again on its own")]
    private static partial void LogBatchRefused(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} grain state statements failed; each of their grains hears of it")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count);
}
