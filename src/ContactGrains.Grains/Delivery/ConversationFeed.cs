using System.Collections.Immutable;
using System.Threading.Channels;
using ContactGrains.Contracts;
using Microsoft.Extensions.Logging;

namespace ContactGrains.Grains.Delivery;

/// <summary>
/// Delivers the timeline entries of many conversations to one adapter connection: per conversation in
/// sequence order, with no gap and no duplicate. Entries reach it from grain responses (posted by the
/// connection) and from grain pushes (through <see cref="Reference"/>, from any silo). Pushes can arrive
/// out of order, or be dropped when the connection is too far behind; either way the feed notices the
/// gap and reads the missing entries back from the conversation grain, which is the source of truth.
/// </summary>
/// <remarks>
/// One pump task owns all cursor state, so nothing here needs a lock; producers only enqueue.
/// </remarks>
public sealed partial class ConversationFeed : IConversationObserver, IAsyncDisposable
{
    /// <summary>Entries held in memory before pushes are dropped and read back later instead.</summary>
    public const int DefaultMaxQueuedEntries = 10_000;

    // Conversations one connection remembers before it forgets those that are closed.
    private const int MaxCursors = 100_000;

    // Pushes held for a conversation whose start on this connection is not known yet.
    private const int MaxHeldPerConversation = 1_000;

    private static readonly TimeSpan GapRetryDelay = TimeSpan.FromSeconds(1);

    private readonly IGrainFactory _grains;
    private readonly string _channel;
    private readonly Func<TimelineEntry, CancellationToken, ValueTask> _emit;
    private readonly ILogger _logger;
    private readonly int _maxQueuedEntries;
    private readonly Channel<FeedCommand> _inbox = Channel.CreateUnbounded<FeedCommand>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, Cursor> _cursors = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _pump;
    private int _queuedEntries;
    private int _disposed;

    /// <param name="grains">Grain factory of the silo the connection lives on.</param>
    /// <param name="channel">The connection's channel; reads are made on its behalf.</param>
    /// <param name="emit">Writes one entry to the connection; may wait (backpressure), must not be called concurrently.</param>
    /// <param name="logger">Where gaps and failures are reported.</param>
    /// <param name="maxQueuedEntries">Entries buffered before pushes are dropped and read back instead.</param>
    public ConversationFeed(
        IGrainFactory grains,
        string channel,
        Func<TimelineEntry, CancellationToken, ValueTask> emit,
        ILogger logger,
        int maxQueuedEntries = DefaultMaxQueuedEntries)
    {
        _grains = grains;
        _channel = channel;
        _emit = emit;
        _logger = logger;
        _maxQueuedEntries = maxQueuedEntries;
        Reference = grains.CreateObjectReference<IConversationObserver>(this);
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>The reference grains push to. Valid while this feed is alive.</summary>
    public IConversationObserver Reference { get; }

    /// <summary>Completes when the feed stops: faulted if writing to the connection or reading a grain failed.</summary>
    public Task Completion => _pump;

    /// <summary>
    /// Entries a grain call returned on this connection. If the conversation is new to this
    /// connection, delivery starts after <paramref name="startAfter"/>; the feed makes sure
    /// everything up to <paramref name="knownLast"/> is delivered.
    /// </summary>
    public void Post(string conversationId, long startAfter, ImmutableArray<TimelineEntry> entries, long knownLast) =>
        Enqueue(new FeedCommand(conversationId, startAfter, Restart: false, entries, knownLast));

    /// <summary>The adapter asked to resume: deliver again everything after <paramref name="afterSequence"/>.</summary>
    public void Restart(string conversationId, long afterSequence, ImmutableArray<TimelineEntry> entries, long knownLast) =>
        Enqueue(new FeedCommand(conversationId, afterSequence, Restart: true, entries, knownLast));

    /// <summary>Stops accepting work and waits until everything queued so far was delivered.</summary>
    public async Task DrainAsync()
    {
        _inbox.Writer.TryComplete();
        await _pump.ConfigureAwait(false);
    }

    Task IConversationObserver.OnEntries(string conversationId, ImmutableArray<TimelineEntry> entries)
    {
        // Called by the Orleans runtime: enqueue and return, never block a runtime thread.
        if (!entries.IsEmpty)
        {
            Enqueue(new FeedCommand(conversationId, StartAfter: null, Restart: false, entries, entries[^1].Sequence));
        }

        return Task.CompletedTask;
    }

    private void Enqueue(FeedCommand command)
    {
        var count = command.Entries.Length;
        if (count > 0 && Interlocked.Add(ref _queuedEntries, count) > _maxQueuedEntries)
        {
            // The connection is far behind: keep only what to fetch, not the entries themselves.
            Interlocked.Add(ref _queuedEntries, -count);
            command = command with { Entries = [] };
        }

        if (!_inbox.Writer.TryWrite(command))
        {
            LogDroppedAfterStop(_channel, command.ConversationId);
        }
    }

    private async Task PumpAsync()
    {
        await foreach (var command in _inbox.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
        {
            Interlocked.Add(ref _queuedEntries, -command.Entries.Length);
            await ApplyAsync(command).ConfigureAwait(false);
        }
    }

    private async Task ApplyAsync(FeedCommand command)
    {
        if (!_cursors.TryGetValue(command.ConversationId, out var cursor))
        {
            EvictClosedCursorsIfFull();
            cursor = new Cursor();
            _cursors[command.ConversationId] = cursor;
        }

        if (command.StartAfter is { } startAfter && (!cursor.Started || command.Restart))
        {
            cursor.Delivered = startAfter;
            cursor.KnownLast = Math.Max(cursor.KnownLast, startAfter);
            cursor.Started = true;
        }

        foreach (var entry in command.Entries)
        {
            if (!cursor.Started || entry.Sequence > cursor.Delivered)
            {
                cursor.Pending.TryAdd(entry.Sequence, entry);
            }
        }

        cursor.KnownLast = Math.Max(cursor.KnownLast, command.KnownLast);
        if (!cursor.Started)
        {
            // A push overtook the response (or resume) that says where this connection starts:
            // hold it until then, so nothing goes out early or out of order.
            if (cursor.Pending.Count > MaxHeldPerConversation)
            {
                LogHeldTooMany(_channel, command.ConversationId);
                cursor.Pending.Clear();
            }

            return;
        }

        try
        {
            await DeliverAsync(command.ConversationId, cursor).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not ChannelClosedException)
        {
            // Reading the gap back failed (a silo or the database is unavailable). Keep the cursor
            // and try again shortly; the stream itself is fine.
            LogGapReadFailed(ex, _channel, command.ConversationId);
            _ = RetryLaterAsync(command.ConversationId);
        }
    }

    private async Task RetryLaterAsync(string conversationId)
    {
        try
        {
            await Task.Delay(GapRetryDelay, _stopping.Token).ConfigureAwait(false);
            Enqueue(new FeedCommand(conversationId, StartAfter: null, Restart: false, [], KnownLast: 0));
        }
        catch (OperationCanceledException)
        {
            // The connection ended.
        }
    }

    private async Task DeliverAsync(string conversationId, Cursor cursor)
    {
        while (true)
        {
            while (cursor.Pending.Remove(cursor.Delivered + 1, out var next))
            {
                await _emit(next, _stopping.Token).ConfigureAwait(false);
                cursor.Delivered = next.Sequence;
                cursor.Closed |= next.Status?.Kind == StatusKind.Closed;
            }

            if (cursor.Delivered >= cursor.KnownLast)
            {
                cursor.Pending.Clear();
                return;
            }

            // A gap: an entry was pushed out of order, dropped, or produced while this connection
            // was not the conversation's target. Read it back from the grain.
            LogGap(_channel, conversationId, cursor.Delivered + 1, cursor.KnownLast);
            var page = await _grains.Get<IConversationGrain>(conversationId)
                .GetTimeline(_channel, cursor.Delivered, ConversationLimits.MaxPageSize).ConfigureAwait(false);
            if (page.Rejection is not null || page.Entries.IsEmpty)
            {
                // The grain knows less than we were told; never spin on a gap that cannot be filled.
                LogUnfillableGap(_channel, conversationId, cursor.Delivered, page.LastSequence);
                cursor.KnownLast = cursor.Delivered;
                continue;
            }

            foreach (var entry in page.Entries)
            {
                cursor.Pending.TryAdd(entry.Sequence, entry);
            }
        }
    }

    private void EvictClosedCursorsIfFull()
    {
        if (_cursors.Count < MaxCursors)
        {
            return;
        }

        // Closed conversations only get resends and resumes; forgetting them costs at most a re-read.
        foreach (var closed in _cursors.Where(c => c.Value.Closed).Select(c => c.Key).ToList())
        {
            _cursors.Remove(closed);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _inbox.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _pump.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            // Stopping is the expected way out of the pump.
        }
        catch (Exception ex)
        {
            LogPumpFailed(ex, _channel);
        }

        _grains.DeleteObjectReference<IConversationObserver>(Reference);
        _stopping.Dispose();
    }

    private readonly record struct FeedCommand(
        string ConversationId, long? StartAfter, bool Restart, ImmutableArray<TimelineEntry> Entries, long KnownLast);

    private sealed class Cursor
    {
        /// <summary>False until a response or resume says where this connection starts.</summary>
        public bool Started;

        /// <summary>Last sequence written to the connection.</summary>
        public long Delivered;

        /// <summary>Highest sequence this connection is known to be owed.</summary>
        public long KnownLast;

        /// <summary>The conversation's close was delivered; kept so a late resend does not replay it.</summary>
        public bool Closed;

        public readonly Dictionary<long, TimelineEntry> Pending = [];
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Feed {Channel}: conversation {ConversationId} has a gap from {From} to {To}; reading it back")]
    private partial void LogGap(string channel, string conversationId, long from, long to);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feed {Channel}: conversation {ConversationId} has nothing after {Delivered} (grain's last: {LastSequence}); gap abandoned")]
    private partial void LogUnfillableGap(string channel, string conversationId, long delivered, long lastSequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feed {Channel}: reading the gap of {ConversationId} back failed; retrying shortly")]
    private partial void LogGapReadFailed(Exception exception, string channel, string conversationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feed {Channel}: too many pushes held for {ConversationId} before its start was known; dropped (they will be read back)")]
    private partial void LogHeldTooMany(string channel, string conversationId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Feed {Channel}: entries for {ConversationId} arrived after the connection closed")]
    private partial void LogDroppedAfterStop(string channel, string conversationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feed {Channel}: delivery stopped")]
    private partial void LogPumpFailed(Exception exception, string channel);
}
