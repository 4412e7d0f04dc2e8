using System.Collections.Concurrent;
using System.Diagnostics;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Net.Client;

namespace ContactGrains.LoadTest;

/// <summary>
/// The streams of one channel run and what they counted, shared by the closed loop, the open loop
/// and soak: several <see cref="ChannelConnection"/>s (one Connect stream each), conversation n on
/// stream n mod streams, each with a reader that checks every conversation's entries arrive in order
/// with no gap.
/// </summary>
internal sealed class ChannelRun : IAsyncDisposable
{
    private static readonly string[] Questions =
    [
        "Where is my refund?", "How do I reset my password?", "I want to cancel my order",
        "Can I get a copy of my invoice?", "Je voudrais changer mon adresse de livraison",
        "When is my payment due?", "My card was charged twice", "Quels sont vos horaires d'ouverture ?",
    ];

    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private readonly RunStream[] _streams;
    private readonly CancellationToken _deadline;
    private int _acked;
    private int _resent;
    private int _duplicates;
    private int _reconnections;
    private long _sent;
    private long _lastSentTimestamp;
    private long _openLoopStart;

    private ChannelRun(GrpcChannel grpc, int streams, int turns, int readBufferCapacity, TimeSpan ackTimeout, CancellationToken deadline)
    {
        _deadline = deadline;
        _streams = new RunStream[streams];
        for (var s = 0; s < streams; s++)
        {
            var connection = ChannelConnection.Open(new ChannelConnectionOptions
            {
                Channel = "loadtest",
                GrpcChannels = [grpc],

                // The run's own deadline bounds every wait.
                AckTimeout = ackTimeout,
                ReadBufferCapacity = Math.Max(readBufferCapacity, 1),
                OnStateChange = change =>
                {
                    if (change.State == ConnectionState.Reconnecting)
                    {
                        Interlocked.Increment(ref _reconnections);
                    }
                },
            });

            // Subscribes before the first message is sent (the reader runs synchronously up to its first wait).
            var reader = new EntryCheck(Problems, 1 + (2 * turns));
            _streams[s] = new RunStream(connection, reader, reader.ReadAsync(connection, deadline));
        }
    }

    public int Acked => Volatile.Read(ref _acked);

    public int Resent => Volatile.Read(ref _resent);

    public int Duplicates => Volatile.Read(ref _duplicates);

    public int Reconnections => Volatile.Read(ref _reconnections);

    public ConcurrentQueue<string> Problems { get; } = new();

    /// <summary>
    /// Opens <paramref name="streams"/> connections for conversations of <paramref name="turns"/> turns.
    /// <paramref name="readBufferCapacity"/>: entries each stream's reader may hold, enough that none is
    /// dropped and read again (which would add load of its own).
    /// </summary>
    public static ChannelRun Open(GrpcChannel grpc, int streams, int turns, int readBufferCapacity, TimeSpan ackTimeout, CancellationToken deadline) =>
        new(grpc, streams, turns, readBufferCapacity, ackTimeout, deadline);

    /// <summary>
    /// Closed loop, like customers: every conversation is in flight at once and asks its next question
    /// once the previous one is acknowledged. Ack latency is from <c>SendAsync</c> to its ack.
    /// </summary>
    public Task ClosedLoopAsync(int conversations, int turns, LatencyHistogram ackLatency)
    {
        async Task ConverseAsync(long conversation)
        {
            for (var turn = 0; turn < turns; turn++)
            {
                var started = Stopwatch.GetTimestamp();
                if (!await SendAsync(conversation, turn))
                {
                    return;
                }

                ackLatency.RecordSince(started);
            }
        }

        return Task.WhenAll(Enumerable.Range(0, conversations).Select(c => ConverseAsync(c)));
    }

    /// <summary>
    /// Open loop: issues <paramref name="messages"/> on <paramref name="schedule"/>, whether or not
    /// earlier ones were acknowledged, until the deadline. A conversation's turn waits for the
    /// previous turn's ack; its latency counts from the intended send time into
    /// <paramref name="fromIntended"/> (so that wait is not omitted) and from the actual send into
    /// <paramref name="fromSent"/>. Returns the number of messages issued.
    /// </summary>
    public async Task<long> OpenLoopAsync(ArrivalSchedule schedule, long messages, LatencyHistogram fromIntended, LatencyHistogram fromSent)
    {
        var start = _openLoopStart = Stopwatch.GetTimestamp();
        var ticksToTimestamp = Stopwatch.Frequency / (double)TimeSpan.TicksPerSecond;
        var lastTurns = new Task<bool>?[schedule.OpenConversations];

        // Counts turns in flight instead of keeping every finished conversation's task: a soak's memory stays flat.
        var inFlight = new InFlight();

        async Task<bool> TurnAsync(Task<bool>? previous, long conversation, int turn, long intended)
        {
            try
            {
                if (previous is not null && !await previous)
                {
                    return false; // the conversation broke off: counted as unacknowledged
                }

                var sent = Stopwatch.GetTimestamp();
                NoteSent(sent);
                if (!await SendAsync(conversation, turn))
                {
                    return false;
                }

                var acked = Stopwatch.GetTimestamp();
                fromIntended.Record(intended, acked);
                fromSent.Record(sent, acked);
                return true;
            }
            finally
            {
                inFlight.Leave();
            }
        }

        long issued = 0;
        while (issued < messages && !_deadline.IsCancellationRequested)
        {
            var due = Math.Min(messages, schedule.DueBy(Stopwatch.GetElapsedTime(start)));
            for (; issued < due; issued++)
            {
                var (conversation, turn) = schedule.MessageAt(issued);
                var slot = schedule.SlotOf(issued);
                var intended = start + (long)(schedule.DueAt(issued).Ticks * ticksToTimestamp);
                inFlight.Enter();
                lastTurns[slot] = TurnAsync(turn == 0 ? null : lastTurns[slot], conversation, turn, intended);
            }

            if (issued < messages)
            {
                var wait = schedule.DueAt(issued) - Stopwatch.GetElapsedTime(start);
                if (wait > TimeSpan.Zero)
                {
                    try
                    {
                        // Rounded up to whole milliseconds: Task.Delay truncates, and a 0 ms delay would spin the loop.
                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)), _deadline);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }
            }
        }

        inFlight.Leave();
        await inFlight.AllLeft;
        return issued;
    }

    /// <summary>
    /// The open loop's rate messages actually went out at, first to last (0 before two were sent): below the
    /// requested rate when the generator could not keep up or turns waited for slow acks.
    /// </summary>
    public double AchievedSendRate()
    {
        var sent = Interlocked.Read(ref _sent);
        var seconds = Stopwatch.GetElapsedTime(_openLoopStart, Interlocked.Read(ref _lastSentTimestamp)).TotalSeconds;
        return sent > 1 && seconds > 0 ? (sent - 1) / seconds : 0;
    }

    /// <summary>
    /// Waits for every entry the stored messages should have produced (start, question, answer) or
    /// the deadline, then files what is missing. <paramref name="everyConversationComplete"/>: every
    /// conversation was meant to ask all its turns (not so when a soak's schedule ends).
    /// </summary>
    public async Task FinishAsync(long plannedMessages, bool everyConversationComplete)
    {
        foreach (var stream in _streams)
        {
            stream.Reader.Expect(stream.ExpectedEntries);
        }

        await Task.WhenAll(_streams.Select(s => s.Reading));
        var expected = _streams.Sum(s => s.ExpectedEntries);
        var received = _streams.Sum(s => s.Reader.Received);
        if (Acked < plannedMessages || received < expected)
        {
            Problems.Enqueue(_deadline.IsCancellationRequested
                ? $"stopped at the time limit with {Acked}/{plannedMessages} acks and {received}/{expected} entries"
                : $"ended with {Acked}/{plannedMessages} acks and {received}/{expected} entries");
        }

        if (everyConversationComplete)
        {
            foreach (var stream in _streams)
            {
                stream.Reader.ReportIncomplete();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var stream in _streams)
        {
            await stream.Connection.DisposeAsync();
        }
    }

    /// <summary>Sends one turn and counts its ack; false when no ack came (time limit, lost connection).</summary>
    private async Task<bool> SendAsync(long conversation, int turn)
    {
        var stream = _streams[conversation % _streams.Length];
        var thread = $"{_run}-{conversation}";
        MessageAck ack;
        try
        {
            // Unique across streams and runs, as adapters' message ids are.
            ack = await stream.Connection.SendAsync(
                new InboundMessage
                {
                    MessageId = $"{thread}/{turn}",
                    Conversation = ConversationAddress.ForThread(thread),
                    Customer = new CustomerIdentity { ExternalCustomerId = thread },
                    Text = Questions[(conversation + turn) % Questions.Length],
                },
                _deadline);
        }
        catch (OperationCanceledException) when (_deadline.IsCancellationRequested)
        {
            return false; // counted once for the run by FinishAsync
        }
        catch (Exception ex) when (ex is TimeoutException or ConnectionFailedException)
        {
            Problems.Enqueue($"{thread}/{turn}: {ex.Message}");
            return false;
        }

        Interlocked.Increment(ref _acked);
        if (ack.Attempts > 1)
        {
            Interlocked.Increment(ref _resent);
        }

        if (ack.Status == AckStatus.Duplicate)
        {
            Interlocked.Increment(ref _duplicates); // resent after a reconnection, stored once
        }
        else if (ack.Status != AckStatus.Accepted)
        {
            Problems.Enqueue($"{ack.MessageId}: {ack.Status} {ack.Code} {ack.Detail}");
            return true;
        }

        // A stored question brings the question and the bot's answer, and the first also the conversation's start.
        Interlocked.Add(ref stream.ExpectedEntries, turn == 0 ? 3 : 2);
        return true;
    }

    private void NoteSent(long timestamp)
    {
        Interlocked.Increment(ref _sent);

        // Sends from many tasks: keep the latest.
        var last = Interlocked.Read(ref _lastSentTimestamp);
        while (timestamp > last)
        {
            var seen = Interlocked.CompareExchange(ref _lastSentTimestamp, timestamp, last);
            if (seen == last)
            {
                break;
            }

            last = seen;
        }
    }

    private sealed class RunStream(ChannelConnection connection, EntryCheck reader, Task reading)
    {
        public int ExpectedEntries;

        public ChannelConnection Connection { get; } = connection;

        public EntryCheck Reader { get; } = reader;

        public Task Reading { get; } = reading;
    }

    /// <summary>
    /// One in the open loop's count per turn issued, and one for the dispatcher until it is done:
    /// <see cref="AllLeft"/> completes when the count reaches zero.
    /// </summary>
    private sealed class InFlight
    {
        private readonly TaskCompletionSource _allLeft = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _count = 1;

        public Task AllLeft => _allLeft.Task;

        public void Enter() => Interlocked.Increment(ref _count);

        public void Leave()
        {
            if (Interlocked.Decrement(ref _count) == 0)
            {
                _allLeft.TrySetResult();
            }
        }
    }

    /// <summary>Checks each conversation's entries as the connection's reader passes them on: in sequence, no gap, no repeat.</summary>
    private sealed class EntryCheck(ConcurrentQueue<string> problems, int entriesPerConversation)
    {
        // Only conversations still open: a complete one is dropped, so a soak's memory stays flat. An
        // entry after that starts over at "after 0" and is filed as a problem.
        private readonly Dictionary<string, (ulong Last, int Count)> _conversations = new(StringComparer.Ordinal);
        private readonly CancellationTokenSource _done = new();
        private int _received;
        private int _expected = int.MaxValue;

        public int Received => Volatile.Read(ref _received);

        public async Task ReadAsync(ChannelConnection connection, CancellationToken deadline)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(deadline, _done.Token);
            try
            {
                await foreach (var entry in connection.ReadAllAsync(stop.Token))
                {
                    _conversations.TryGetValue(entry.ConversationId, out var seen);
                    if (entry.Sequence != seen.Last + 1)
                    {
                        problems.Enqueue($"conversation {entry.ConversationId}: entry {entry.Sequence} after {seen.Last}");
                    }

                    if (seen.Count + 1 == entriesPerConversation)
                    {
                        _conversations.Remove(entry.ConversationId);
                    }
                    else
                    {
                        _conversations[entry.ConversationId] = (entry.Sequence, seen.Count + 1);
                    }

                    if (Interlocked.Increment(ref _received) >= Volatile.Read(ref _expected))
                    {
                        return;
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The time limit, or every expected entry arrived: what arrived is checked.
            }
            catch (ConnectionFailedException)
            {
                // Counted by FinishAsync: fewer entries than expected.
            }
        }

        /// <summary>Sets how many entries to wait for, once every message has its ack; stops the reader if they are in.</summary>
        public void Expect(int entries)
        {
            Volatile.Write(ref _expected, entries);
            if (Received >= entries)
            {
                _done.Cancel();
            }
        }

        /// <summary>After the reader ended: files every conversation that did not get all its entries.</summary>
        public void ReportIncomplete()
        {
            foreach (var (conversation, seen) in _conversations)
            {
                problems.Enqueue($"conversation {conversation}: {seen.Count} entries, not {entriesPerConversation}");
            }
        }
    }
}
