using System.Collections.Concurrent;
using System.Diagnostics;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace ContactGrains.Cluster.Tests;

/// <summary>
/// An agent desktop for a cluster: one Connect stream at a time (a <see cref="DeskStream"/>) to one
/// silo. It does not reconnect by itself: the test decides when and where, as a desktop's
/// reconnect policy would. Offers, assignments and every entry of the agent's conversations it
/// learnt (from offers, assignments, syncs, pushes and the agent's own messages) are kept across
/// streams, the latest sync replacing offers and assignments as the API says.
/// </summary>
internal sealed class AgentDesk : IAsyncDisposable
{
    /// <summary>Pause between two attempts to open a stream, so a silo that just died is not hammered.</summary>
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(250);

    /// <summary>An attempt with no event by then is abandoned and tried again (a call lost with a dead silo waits for Orleans' response timeout).</summary>
    private static readonly TimeSpan AttemptLimit = TimeSpan.FromSeconds(15);

    private readonly Lock _lock = new();
    private readonly Func<TimeSpan> _now;
    private readonly List<DeskStream> _streams = [];
    private readonly Dictionary<string, Offer> _offers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Assignment> _assignments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedDictionary<ulong, TimelineEntry>> _entries = new(StringComparer.Ordinal);

    public AgentDesk(string agentId, AgentProfile profile, Func<TimeSpan> now)
    {
        AgentId = agentId;
        Profile = profile;
        _now = now;
    }

    public string AgentId { get; }

    /// <summary>Sent with the first stream only; later streams reconnect with the stored profile.</summary>
    public AgentProfile Profile { get; }

    /// <summary>What happened to this desk's streams and what they received, stamped with the test's clock.</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    /// <summary>Every offer received on any stream (withdrawn ones too), in arrival order.</summary>
    public ConcurrentQueue<Offer> OffersReceived { get; } = new();

    public DeskStream Current
    {
        get
        {
            lock (_lock)
            {
                return _streams.Count > 0 ? _streams[^1] : throw new InvalidOperationException($"Desk {AgentId} never connected.");
            }
        }
    }

    public IReadOnlyList<DeskStream> Streams
    {
        get
        {
            lock (_lock)
            {
                return [.. _streams];
            }
        }
    }

    /// <summary>The agent API on the current stream's silo.</summary>
    public AgentService.AgentServiceClient Client => Current.Client;

    /// <summary>
    /// Opens a stream to <paramref name="silo"/> (with the profile the first time) and waits for its
    /// first event. A stream that ends before sending one (the agent grain is unreachable for a
    /// moment after a crash: UNAVAILABLE) is retried after a pause, until <paramref name="timeout"/>.
    /// </summary>
    public async Task<DeskStream> ConnectAsync(SiloProcess silo, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            DeskStream stream;
            lock (_lock)
            {
                var first = _streams.Count == 0;
                stream = new DeskStream(_streams.Count + 1, silo.Address, AgentClient.Create(silo.Channel, AgentId), first ? Profile : null, this);
                _streams.Add(stream);
            }

            Note($"stream {stream.Generation} opening to {silo.Name} ({silo.Address}){(stream.Generation == 1 ? " with the profile" : ", profile omitted")}");
            var left = timeout - deadline.Elapsed;
            var wait = left < AttemptLimit ? left : AttemptLimit;
            var opened = await Task.WhenAny(stream.FirstEvent, stream.Ended, Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero));
            if (opened == stream.FirstEvent)
            {
                return stream;
            }

            await stream.DisposeAsync();
            if (deadline.Elapsed + RetryPause >= timeout)
            {
                throw new TimeoutException($"Desk {AgentId} could not open a stream to {silo.Name} within {timeout.TotalSeconds:0} s; the last attempt: "
                    + (stream.Ended.IsCompleted ? $"{stream.Ended.Result.StatusCode}: {stream.Ended.Result.Detail}" : "no event, not ended"));
            }

            await Task.Delay(RetryPause);
        }
    }

    /// <summary>A unary agent call, retried while it fails with UNAVAILABLE (a silo just died), until <paramref name="timeout"/>.</summary>
    public async Task<T> CallAsync<T>(Func<AgentService.AgentServiceClient, AsyncUnaryCall<T>> call, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await call(Client);
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
        var assignment = await CallAsync(c => c.AcceptOfferAsync(new AcceptOfferRequest { OfferId = offer.OfferId }), timeout);
        lock (_lock)
        {
            _offers.Remove(offer.OfferId);
            AddAssignment(assignment);
        }

        Note($"accepted {offer.OfferId} ({assignment.ConversationId})");
        return assignment;
    }

    /// <summary>A message to the customer; its entry (the server does not push the agent's own messages back) is kept too.</summary>
    public async Task<TimelineEntry> SayAsync(string conversationId, string messageId, string text, TimeSpan timeout)
    {
        var response = await CallAsync(c => c.SendMessageAsync(new AgentMessageRequest { ConversationId = conversationId, MessageId = messageId, Text = text }), timeout);
        lock (_lock)
        {
            AddEntries(conversationId, [response.Entry]);
        }

        Note($"said #{response.Entry.Sequence} in {conversationId}: {text}");
        return response.Entry;
    }

    public IReadOnlyList<Offer> PendingOffers()
    {
        lock (_lock)
        {
            return [.. _offers.Values];
        }
    }

    public IReadOnlyList<Assignment> Assignments()
    {
        lock (_lock)
        {
            return [.. _assignments.Values];
        }
    }

    /// <summary>Every entry of a conversation this desk learnt, by sequence.</summary>
    public IReadOnlyList<TimelineEntry> EntriesOf(string conversationId)
    {
        lock (_lock)
        {
            return _entries.TryGetValue(conversationId, out var entries) ? [.. entries.Values] : [];
        }
    }

    public void Note(string what) => Log.Enqueue($"{_now().TotalSeconds:0.000}s {AgentId}: {what}");

    /// <summary>Called by a stream's reader for each event, in arrival order.</summary>
    internal void Apply(DeskStream stream, AgentEvent agentEvent)
    {
        lock (_lock)
        {
            switch (agentEvent.EventCase)
            {
                case AgentEvent.EventOneofCase.Sync:
                    _offers.Clear();
                    _assignments.Clear();
                    foreach (var offer in agentEvent.Sync.Offers)
                    {
                        AddOffer(offer);
                    }

                    foreach (var assignment in agentEvent.Sync.Assignments)
                    {
                        AddAssignment(assignment);
                    }

                    break;
                case AgentEvent.EventOneofCase.Offer:
                    OffersReceived.Enqueue(agentEvent.Offer);
                    AddOffer(agentEvent.Offer);
                    break;
                case AgentEvent.EventOneofCase.OfferWithdrawn:
                    _offers.Remove(agentEvent.OfferWithdrawn.OfferId);
                    break;
                case AgentEvent.EventOneofCase.Assigned:
                    _offers.Remove(_offers.Values.FirstOrDefault(o => o.Context.ConversationId == agentEvent.Assigned.ConversationId)?.OfferId ?? "");
                    AddAssignment(agentEvent.Assigned);
                    break;
                case AgentEvent.EventOneofCase.Entries:
                    AddEntries(agentEvent.Entries.ConversationId, agentEvent.Entries.Entries);
                    break;
                case AgentEvent.EventOneofCase.Notice:
                    _assignments.Remove(agentEvent.Notice.ConversationId);
                    break;
            }
        }

        Note($"stream {stream.Generation}: {Describe(agentEvent)}");
    }

    private static string Describe(AgentEvent e) => e.EventCase switch
    {
        AgentEvent.EventOneofCase.Sync => $"sync ({e.Sync.Status.Presence}, connected {e.Sync.Status.Connected}, offers [{string.Join(' ', e.Sync.Offers.Select(o => o.Context.ConversationId))}], "
            + $"conversations [{string.Join(' ', e.Sync.Assignments.Select(a => $"{a.ConversationId} up to #{a.Context.LastSequence}"))}])",
        AgentEvent.EventOneofCase.Offer => $"offer {e.Offer.OfferId} of {e.Offer.Context.ConversationId} from {e.Offer.Queue}, priority {e.Offer.Priority}, reason {e.Offer.Context.HandoffReasonCode}",
        AgentEvent.EventOneofCase.OfferWithdrawn => $"offer {e.OfferWithdrawn.OfferId} withdrawn ({e.OfferWithdrawn.Reason})",
        AgentEvent.EventOneofCase.Assigned => $"assigned {e.Assigned.ConversationId}",
        AgentEvent.EventOneofCase.Entries => $"entries of {e.Entries.ConversationId}: "
            + string.Join(", ", e.Entries.Entries.Select(x => $"#{x.Sequence} {x.Message?.Text ?? x.Status?.Kind.ToString()}")),
        AgentEvent.EventOneofCase.Notice => $"notice {e.Notice.Kind} for {e.Notice.ConversationId}: {e.Notice.Detail}",
        AgentEvent.EventOneofCase.Status => $"status {e.Status.Presence}, connected {e.Status.Connected}, {e.Status.Assignments} conversations: {e.Status.Reason}",
        _ => e.EventCase.ToString(),
    };

    private void AddOffer(Offer offer)
    {
        _offers[offer.OfferId] = offer;
        AddEntries(offer.Context.ConversationId, offer.Context.LastEntries);
    }

    private void AddAssignment(Assignment assignment)
    {
        _assignments[assignment.ConversationId] = assignment;
        AddEntries(assignment.ConversationId, assignment.Context.LastEntries);
    }

    private void AddEntries(string conversationId, IEnumerable<TimelineEntry> entries)
    {
        if (!_entries.TryGetValue(conversationId, out var known))
        {
            _entries[conversationId] = known = [];
        }

        foreach (var entry in entries)
        {
            known[entry.Sequence] = entry;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var stream in Streams)
        {
            await stream.DisposeAsync();
        }
    }
}

/// <summary>One Connect stream of an <see cref="AgentDesk"/>: its events in arrival order and how it ended.</summary>
internal sealed class DeskStream : IAsyncDisposable
{
    private readonly AsyncServerStreamingCall<AgentEvent> _call;
    private readonly CancellationTokenSource _cancel = new();
    private readonly TaskCompletionSource _firstEvent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Status> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _reader;
    private int _disposed;

    public DeskStream(int generation, string address, AgentService.AgentServiceClient client, AgentProfile? profile, AgentDesk desk)
    {
        Generation = generation;
        Address = address;
        Client = client;
        _call = client.Connect(new ConnectRequest { Profile = profile }, cancellationToken: _cancel.Token);
        _reader = Task.Run(() => ReadAsync(desk));
    }

    /// <summary>1 for the desk's first stream, +1 for each later one (also failed attempts).</summary>
    public int Generation { get; }

    public string Address { get; }

    public AgentService.AgentServiceClient Client { get; }

    /// <summary>Every event of this stream, in arrival order.</summary>
    public ConcurrentQueue<AgentEvent> Events { get; } = new();

    public Task FirstEvent => _firstEvent.Task;

    /// <summary>Completes with the stream's status when it ended.</summary>
    public Task<Status> Ended => _ended.Task;

    private async Task ReadAsync(AgentDesk desk)
    {
        Status status;
        try
        {
            await foreach (var agentEvent in _call.ResponseStream.ReadAllAsync())
            {
                Events.Enqueue(agentEvent);
                desk.Apply(this, agentEvent);
                _firstEvent.TrySetResult();
            }

            status = _call.GetStatus();
        }
        catch (RpcException ex)
        {
            status = ex.Status;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            status = new Status(StatusCode.Unknown, $"{ex.GetType().Name}: {ex.Message}");
        }

        desk.Note($"stream {Generation} to {Address} ended: {status.StatusCode} {status.Detail}");
        _ended.TrySetResult(status);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _cancel.CancelAsync();
        await _reader;
        _call.Dispose();
        _cancel.Dispose();
    }
}
