using System.Collections.Concurrent;
using System.Diagnostics;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.Cluster.Tests;

/// <summary>One event a desk read, stamped with the test's clock and the number of the stream it came after (1: the first).</summary>
internal sealed record DeskEvent(TimeSpan At, int Stream, AgentDeskEvent Event);

/// <summary>
/// An agent desktop for a cluster: an <see cref="AgentConnection"/> to the silos the test chooses,
/// with the reconnect policy it chooses (the library's own reconnect within the grace period, or
/// none: the desktop never comes back). Its state (offers, assignments, every entry of the agent's
/// conversations) is the library's; this class records every event it reads, numbered by stream.
/// </summary>
internal sealed class AgentDesk : IAsyncDisposable
{
    /// <summary>
    /// For a desktop that must come back after its silo is killed: the next address at once, then
    /// attempts up to 2 s apart; the library stops them when the grace period (from the sync) is over.
    /// </summary>
    public static readonly ReconnectPolicy SiloKillPolicy = new()
    {
        MaxAttempts = 30,
        InitialDelay = TimeSpan.FromMilliseconds(100),
        MaxDelay = TimeSpan.FromSeconds(2),
    };

    /// <summary>Pause before a unary call that failed with UNAVAILABLE (a silo just died) is tried again.</summary>
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private readonly Lock _lock = new();
    private readonly Func<TimeSpan> _now;
    private readonly List<DeskEvent> _events = [];
    private readonly CancellationTokenSource _stopReading = new();
    private AgentConnection? _connection;
    private Task _reader = Task.CompletedTask;

    public AgentDesk(string agentId, AgentProfile profile, Func<TimeSpan> now)
    {
        AgentId = agentId;
        Profile = profile;
        _now = now;
    }

    public string AgentId { get; }

    /// <summary>Sent with the first stream only; the library reconnects with the stored profile.</summary>
    public AgentProfile Profile { get; }

    /// <summary>What this desk read and did, stamped with the test's clock.</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    public AgentConnection Connection => _connection ?? throw new InvalidOperationException($"Desk {AgentId} never connected.");

    /// <summary>Every event read so far, in order (the first: the state at the first sync).</summary>
    public IReadOnlyList<DeskEvent> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>
    /// Connects to <paramref name="silos"/> (the first first; after a broken stream the library moves
    /// to the next, as <paramref name="reconnect"/> allows) with the profile, waits for the first
    /// sync, and starts reading the events.
    /// </summary>
    public async Task ConnectAsync(IReadOnlyList<SiloProcess> silos, ReconnectPolicy reconnect, TimeSpan timeout)
    {
        Note($"connecting to {string.Join(", ", silos.Select(s => $"{s.Name} ({s.Address})"))} with the profile; reconnect: {reconnect.MaxAttempts} attempts");
        using var patience = new CancellationTokenSource(timeout);
        _connection = await AgentConnection.ConnectAsync(
            new AgentConnectionOptions
            {
                AgentId = AgentId,
                Profile = Profile,
                Addresses = [.. silos.Select(s => s.Address)],
                Reconnect = reconnect,
                EventBufferCapacity = 4096,
            },
            patience.Token);
        _reader = ReadAsync(_connection);
    }

    /// <summary>Waits for an event that matches; after <paramref name="timeout"/>, fails saying what was awaited.</summary>
    public async Task<DeskEvent> WaitForAsync(Func<DeskEvent, bool> match, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (Events.FirstOrDefault(match) is { } found)
            {
                return found;
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"Still waiting after {timeout.TotalSeconds:0} s for: {what}.");
            }

            await Task.Delay(PollInterval);
        }
    }

    /// <summary>A unary call, tried again while it fails with UNAVAILABLE (a silo just died), until <paramref name="timeout"/>.</summary>
    public async Task<T> RetryUnavailableAsync<T>(Func<AgentConnection, Task<T>> call, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await call(Connection);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && deadline.Elapsed + RetryPause < timeout)
            {
                Note($"a call failed with UNAVAILABLE ({ex.Status.Detail}); retrying");
                await Task.Delay(RetryPause);
            }
        }
    }

    public async Task<Assignment> AcceptAsync(Offer offer, TimeSpan timeout)
    {
        var assignment = await RetryUnavailableAsync(c => c.AcceptAsync(offer.OfferId), timeout);
        Note($"accepted {offer.OfferId} ({assignment.ConversationId})");
        return assignment;
    }

    /// <summary>A message to the customer (the library keeps its entry: the server does not push the agent's own messages back).</summary>
    public async Task<TimelineEntry> SayAsync(string conversationId, string messageId, string text, TimeSpan timeout)
    {
        var entry = await RetryUnavailableAsync(c => c.SendAsync(conversationId, text, messageId), timeout);
        Note($"said #{entry.Sequence} in {conversationId}: {text}");
        return entry;
    }

    public IReadOnlyList<Offer> PendingOffers() => Connection.State(s => s.Offers);

    public IReadOnlyList<Assignment> Assignments() => Connection.State(s => s.Assignments);

    /// <summary>Every entry of a conversation this desk knows, by sequence.</summary>
    public IReadOnlyList<TimelineEntry> EntriesOf(string conversationId) => Connection.State(s => s.EntriesOf(conversationId));

    public void Note(string what) => Log.Enqueue($"{_now().TotalSeconds:0.000}s {AgentId}: {what}");

    private async Task ReadAsync(AgentConnection connection)
    {
        var stream = 1; // the reader starts after the first stream's sync
        try
        {
            await foreach (var deskEvent in connection.ReadEventsAsync(_stopReading.Token))
            {
                if (deskEvent is AgentDeskEvent.ConnectionChanged { Change.State: ConnectionState.Connected })
                {
                    stream++;
                }

                lock (_lock)
                {
                    _events.Add(new DeskEvent(_now(), stream, deskEvent));
                }

                Note($"stream {stream}: {Describe(deskEvent)}");
            }

            Note("events ended");
        }
        catch (OperationCanceledException) when (_stopReading.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (Exception ex)
        {
            Note($"events ended: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private static string Describe(AgentDeskEvent e) => e switch
    {
        AgentDeskEvent.Synced { Sync: var s } =>
            $"sync ({s.Status?.Presence}, connected {s.Status?.Connected}, offers [{string.Join(' ', s.Offers.Select(o => o.Context?.ConversationId))}], "
            + $"conversations [{string.Join(' ', s.Assignments.Select(a => $"{a.ConversationId} up to #{a.Context?.LastSequence}"))}])",
        AgentDeskEvent.OfferReceived { Offer: var o } =>
            $"offer {o.OfferId} of {o.Context?.ConversationId} from {o.Queue}, priority {o.Priority}, reason {o.Context?.HandoffReasonCode}",
        AgentDeskEvent.OfferWithdrawn w => $"offer {w.OfferId} withdrawn ({w.Reason})",
        AgentDeskEvent.Assigned a => $"assigned {a.Assignment.ConversationId}",
        AgentDeskEvent.EntriesReceived r => $"entries of {r.ConversationId}: "
            + string.Join(", ", r.Entries.Select(x => $"#{x.Sequence} {x.Message?.Text ?? x.Status?.Kind.ToString()}")),
        AgentDeskEvent.ConversationEnded c => $"ended {c.ConversationId} ({c.Reason}): {c.Detail}",
        AgentDeskEvent.StatusChanged { Status: var s } => $"status {s.Presence}, connected {s.Connected}, {s.Assignments} conversations: {s.Reason}",
        AgentDeskEvent.ConnectionChanged { Change: var c } =>
            $"connection {c.State} {c.Address}{(c.Attempt > 0 ? $" attempt {c.Attempt}" : "")}{(c.Status is { } status ? $" ({status.StatusCode}: {status.Detail})" : "")}",
        _ => e.ToString(),
    };

    public async ValueTask DisposeAsync()
    {
        await _stopReading.CancelAsync();
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        await _reader;
        _stopReading.Dispose();
    }
}
