using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ContactGrains.Protos.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace ContactGrains.Client;

/// <summary>
/// An agent desktop's connection: the agent's live stream, turned into typed events and a current
/// state (<see cref="State"/>), and the agent's actions.
/// </summary>
/// <remarks>
/// <para><b>Events.</b> <see cref="ReadEventsAsync"/> starts with a <see cref="AgentDeskEvent.Synced"/>
/// and then gives every change in order. Conversation entries come in sequence with no gap and no
/// duplicate: a gap is filled from the transcript before the entries are passed on.</para>
/// <para><b>Trouble.</b> A stream that breaks (a silo died or shut down) is reopened, on the next
/// address, with backoff, within the server's grace period, so the agent keeps its offers and
/// conversations; the new stream starts with a sync. A stream replaced by another desktop of the same
/// agent (ABORTED) is not reopened, or two desktops would take the agent from each other. A refusal,
/// or no stream within the grace period, fails the connection: readers and
/// <see cref="Completion"/> then throw <see cref="ConnectionFailedException"/>.</para>
/// <para>Thread-safe.</para>
/// </remarks>
public sealed class AgentConnection : IAsyncDisposable
{
    private static readonly TimeSpan DefaultGracePeriod = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StableStream = TimeSpan.FromSeconds(30);

    private readonly AgentConnectionOptions _options;
    private readonly SiloEndpoints<AgentService.AgentServiceClient> _silos;
    private readonly Lock _lock = new();
    private readonly AgentDeskState _state = new();
    private readonly List<EventReader> _readers = [];
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _firstSync = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _run;
    private ConnectionFailedException? _failure;
    private bool _synced;
    private long _messageIds;

    private AgentConnection(AgentConnectionOptions options)
    {
        if (!AgentClient.IsValidAgentId(options.AgentId))
        {
            throw new ArgumentException($"Agent id '{options.AgentId}' is not {AgentClient.AgentIdRule}.", nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.EventBufferCapacity, 1);
        _options = options;
        _silos = new SiloEndpoints<AgentService.AgentServiceClient>(options.Addresses, options.GrpcChannels, channel => AgentClient.Create(channel, options.AgentId, options.Token));
        _run = Task.Run(RunAsync);
    }

    /// <summary>The agent this desktop works for.</summary>
    public string AgentId => _options.AgentId;

    /// <summary>The address of the silo in use (or tried next).</summary>
    public string Address => _silos.Current;

    /// <summary>Streams opened so far.</summary>
    public int Streams { get; private set; }

    /// <summary>Completes when the connection stops: normally when disposed, with <see cref="ConnectionFailedException"/> when it gave up.</summary>
    public Task Completion => _completion.Task;

    /// <summary>The unary API on the silo in use, for calls this class does not wrap.</summary>
    public AgentService.AgentServiceClient Unary => _silos.Client;

    /// <summary>
    /// Connects and waits for the agent's first sync. Throws <see cref="ConnectionFailedException"/> if
    /// the server refuses (e.g. INVALID_ARGUMENT for a missing or invalid profile at first sign-in) or
    /// cannot be reached within the reconnect policy.
    /// </summary>
    public static async Task<AgentConnection> ConnectAsync(AgentConnectionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var connection = new AgentConnection(options);
        try
        {
            await connection._firstSync.Task.WaitAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <paramref name="read"/> on the current state, under the connection's lock (do not call the connection from it).</summary>
    public T State<T>(Func<AgentDeskState, T> read)
    {
        lock (_lock)
        {
            return read(_state);
        }
    }

    /// <summary>
    /// The desktop's events: first a <see cref="AgentDeskEvent.Synced"/> with the current state, then
    /// every change, in order. A reader more than <see cref="AgentConnectionOptions.EventBufferCapacity"/>
    /// events behind gets another Synced instead of the events it missed. Ends when the connection is
    /// disposed; throws <see cref="ConnectionFailedException"/> when it failed.
    /// </summary>
    public async IAsyncEnumerable<AgentDeskEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var reader = new EventReader(_options.EventBufferCapacity);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_closing.IsCancellationRequested, this);
            if (_failure is { } failure)
            {
                throw new ConnectionFailedException(failure.Message, failure.Status);
            }

            _readers.Add(reader);
            reader.Behind = true; // its first event is the state so far
        }

        try
        {
            while (true)
            {
                while (reader.Buffer.Reader.TryRead(out var next))
                {
                    yield return next;
                }

                AgentDeskEvent? catchUp = null;
                lock (_lock)
                {
                    if (reader.Behind && reader.Buffer.Reader.Count == 0 && _synced)
                    {
                        reader.Behind = false;
                        catchUp = new AgentDeskEvent.Synced(_state.ToSync());
                    }
                }

                if (catchUp is not null)
                {
                    yield return catchUp;
                    continue;
                }

                if (!await reader.Buffer.Reader.WaitToReadAsync(cancellationToken))
                {
                    yield break;
                }
            }
        }
        finally
        {
            lock (_lock)
            {
                _readers.Remove(reader);
            }
        }
    }

    /// <summary>Sets the agent's presence.</summary>
    public Task<AgentStatus> SetPresenceAsync(Presence presence, CancellationToken cancellationToken = default) =>
        CallAsync(client => client.SetPresenceAsync(new SetPresenceRequest { Presence = presence }, deadline: Deadline(), cancellationToken: cancellationToken));

    /// <summary>The agent's status, without changing it.</summary>
    public Task<AgentStatus> GetStatusAsync(CancellationToken cancellationToken = default) =>
        CallAsync(client => client.GetStatusAsync(new GetStatusRequest(), deadline: Deadline(), cancellationToken: cancellationToken));

    /// <summary>Accepts an offer; the conversation is the agent's when this returns.</summary>
    public async Task<Assignment> AcceptAsync(string offerId, CancellationToken cancellationToken = default)
    {
        var assignment = await CallAsync(client => client.AcceptOfferAsync(new AcceptOfferRequest { OfferId = offerId }, deadline: Deadline(), cancellationToken: cancellationToken));
        lock (_lock)
        {
            _state.Apply(assignment);
        }

        return assignment;
    }

    /// <summary>Declines an offer; it goes to the next agent.</summary>
    public async Task DeclineAsync(string offerId, CancellationToken cancellationToken = default)
    {
        await CallAsync(client => client.DeclineOfferAsync(new DeclineOfferRequest { OfferId = offerId }, deadline: Deadline(), cancellationToken: cancellationToken));
        lock (_lock)
        {
            _state.Withdraw(offerId);
        }
    }

    /// <summary>
    /// Sends the agent's message to the customer; returns its timeline entry. A call that failed as
    /// UNAVAILABLE is tried again (up to 3 times) with the same message id, so it is stored once.
    /// </summary>
    /// <param name="conversationId">One of the agent's conversations.</param>
    /// <param name="text">The message.</param>
    /// <param name="messageId">The desktop's id for it (default: a new one).</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <param name="draftId">The copilot draft this message sends, as is or edited (<see cref="AgentDeskState.DraftOf"/>).</param>
    public async Task<TimelineEntry> SendAsync(string conversationId, string text, string? messageId = null, CancellationToken cancellationToken = default, string? draftId = null)
    {
        var request = new AgentMessageRequest
        {
            ConversationId = conversationId,
            Text = text,
            MessageId = messageId ?? $"{AgentId}-{Guid.NewGuid():N}-{Interlocked.Increment(ref _messageIds)}",
            DraftId = draftId ?? "",
        };
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var response = await CallAsync(client => client.SendMessageAsync(request, deadline: Deadline(), cancellationToken: cancellationToken));
                lock (_lock)
                {
                    _state.Add(conversationId, [response.Entry]);
                    if (_state.DraftOf(conversationId) is { } used)
                    {
                        // Sent with it or without it, the draft is done with (the server counts it so).
                        _state.ForgetDraft(conversationId, used.DraftId);
                    }
                }

                return response.Entry;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && attempt < 3 && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(_options.Reconnect.DelayBefore(attempt, Random.Shared.NextDouble()), cancellationToken);
            }
        }
    }

    /// <summary>Discards the bot's draft reply in a conversation (a no-op if it is no longer current).</summary>
    public async Task DiscardDraftAsync(string conversationId, string draftId, CancellationToken cancellationToken = default)
    {
        await CallAsync(client => client.DiscardDraftAsync(new DiscardDraftRequest { ConversationId = conversationId, DraftId = draftId },
            deadline: Deadline(), cancellationToken: cancellationToken));
        lock (_lock)
        {
            _state.ForgetDraft(conversationId, draftId);
        }
    }

    /// <summary>One page of a conversation's transcript (the agent's conversations only).</summary>
    public Task<AgentTranscriptResponse> GetTranscriptAsync(string conversationId, ulong afterSequence = 0, uint maxEntries = 0, CancellationToken cancellationToken = default) =>
        CallAsync(client => client.GetTranscriptAsync(
            new AgentTranscriptRequest { ConversationId = conversationId, AfterSequence = afterSequence, MaxEntries = maxEntries },
            deadline: Deadline(),
            cancellationToken: cancellationToken));

    /// <summary>Transfers a conversation to a queue (empty language: the conversation's).</summary>
    public Task TransferToQueueAsync(string conversationId, string skill, string language = "", string note = "", CancellationToken cancellationToken = default) =>
        LeaveAsync(
            conversationId,
            ConversationEndReason.Transferred,
            client => client.TransferAsync(
                new TransferRequest { ConversationId = conversationId, Queue = new QueueAddress { Skill = skill, Language = language }, Note = note },
                deadline: Deadline(),
                cancellationToken: cancellationToken));

    /// <summary>Transfers a conversation to another available agent.</summary>
    public Task TransferToAgentAsync(string conversationId, string agentId, string note = "", CancellationToken cancellationToken = default) =>
        LeaveAsync(
            conversationId,
            ConversationEndReason.Transferred,
            client => client.TransferAsync(
                new TransferRequest { ConversationId = conversationId, AgentId = agentId, Note = note }, deadline: Deadline(), cancellationToken: cancellationToken));

    /// <summary>Resolves a conversation with a wrap-up code ("refund-issued", "info-given").</summary>
    public Task ResolveAsync(string conversationId, string wrapUpCode, string note = "", CancellationToken cancellationToken = default) =>
        LeaveAsync(
            conversationId,
            ConversationEndReason.Resolved,
            client => client.ResolveAsync(
                new ResolveRequest { ConversationId = conversationId, WrapUpCode = wrapUpCode, Note = note }, deadline: Deadline(), cancellationToken: cancellationToken));

    /// <summary>Hands a conversation back to the bot.</summary>
    public Task HandBackAsync(string conversationId, string note = "", CancellationToken cancellationToken = default) =>
        LeaveAsync(
            conversationId,
            ConversationEndReason.HandedBack,
            client => client.HandBackToBotAsync(new HandBackRequest { ConversationId = conversationId, Note = note }, deadline: Deadline(), cancellationToken: cancellationToken));

    /// <summary>Live figures of every queue (empty skill), or of one.</summary>
    public async Task<IReadOnlyList<QueueStats>> GetQueueStatsAsync(string skill = "", string language = "", CancellationToken cancellationToken = default) =>
        (await CallAsync(client => client.GetQueueStatsAsync(
            new GetQueueStatsRequest { Queue = new QueueAddress { Skill = skill, Language = language } }, deadline: Deadline(), cancellationToken: cancellationToken))).Queues;

    /// <summary>Ends the stream (the agent keeps its work for the grace period) and the readers.</summary>
    public async ValueTask DisposeAsync()
    {
        List<EventReader> readers;
        lock (_lock)
        {
            if (_closing.IsCancellationRequested)
            {
                return;
            }

            _closing.Cancel();
            readers = [.. _readers];
        }

        await _run.ConfigureAwait(false);
        foreach (var reader in readers)
        {
            reader.Buffer.Writer.TryComplete();
        }

        _firstSync.TrySetException(new ObjectDisposedException(nameof(AgentConnection)));
        _completion.TrySetResult();
        _silos.Dispose();
    }

    private async Task LeaveAsync<T>(string conversationId, ConversationEndReason reason, Func<AgentService.AgentServiceClient, AsyncUnaryCall<T>> call)
    {
        await CallAsync(call);

        // Nothing is pushed for the agent's own transfer or hand-back; a resolve's notice may follow and is then ignored.
        lock (_lock)
        {
            if (_state.End(conversationId))
            {
                Publish(new AgentDeskEvent.ConversationEnded(conversationId, reason, ""));
            }
        }
    }

    private async Task<T> CallAsync<T>(Func<AgentService.AgentServiceClient, AsyncUnaryCall<T>> call)
    {
        ObjectDisposedException.ThrowIf(_closing.IsCancellationRequested, this);
        return await call(Unary);
    }

    private async Task RunAsync()
    {
        var attempt = 0;
        DateTime? graceEnds = null;
        Status status = default;
        var resendProfile = false;
        while (!_closing.IsCancellationRequested)
        {
            var index = _silos.Index;
            bool synced;
            lock (_lock)
            {
                synced = _synced;
            }

            using var call = _silos.ClientAt(index).Connect(
                new ConnectRequest { Profile = synced && !resendProfile ? null : _options.Profile }, cancellationToken: _closing.Token);
            Streams++;
            var opened = DateTime.UtcNow;
            var heard = false;
            try
            {
                while (await call.ResponseStream.MoveNext(_closing.Token))
                {
                    if (!heard)
                    {
                        heard = true;
                        attempt = 0;
                        graceEnds = null;
                        Publish(new AgentDeskEvent.ConnectionChanged(new ConnectionStateChange(ConnectionState.Connected, Address, 0, null)), locked: false);
                    }

                    await HandleAsync(call.ResponseStream.Current);
                }

                status = call.GetStatus();
            }
            catch (RpcException ex)
            {
                status = ex.Status;
            }
            catch (OperationCanceledException) when (_closing.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException or HttpRequestException)
            {
                status = new Status(StatusCode.Unavailable, ex.Message);
            }

            if (_closing.IsCancellationRequested)
            {
                return;
            }

            if (heard && DateTime.UtcNow - opened >= StableStream)
            {
                attempt = 0;
            }

            if (status.StatusCode == StatusCode.Aborted)
            {
                Fail($"Another desktop connected as agent '{AgentId}', so this one stopped (reconnecting would take the agent back): {status.Detail}", status);
                return;
            }

            // A stream opened without the profile is refused when the cluster lost the agent (a development
            // silo restarted with in-memory storage): that is a first sign-in again, so send the profile, once.
            if (status.StatusCode == StatusCode.FailedPrecondition && synced && !resendProfile && _options.Profile is not null)
            {
                resendProfile = true;
                continue;
            }

            resendProfile = false;
            if (!ConnectionFailedException.IsTransient(status.StatusCode))
            {
                Fail($"The silo at {_silos.AddressAt(index)} refused agent '{AgentId}': {status.StatusCode} \"{status.Detail}\".", status);
                return;
            }

            attempt++;
            var grace = State(s => s.Settings.DisconnectGracePeriodSeconds) is > 0 and var seconds ? TimeSpan.FromSeconds(seconds) : DefaultGracePeriod;
            graceEnds ??= DateTime.UtcNow + grace;
            if (attempt > _options.Reconnect.MaxAttempts || (synced && DateTime.UtcNow >= graceEnds))
            {
                Fail(
                    $"Agent '{AgentId}' could not reconnect ({attempt - 1} attempts); the last, to {_silos.AddressAt(index)}, ended with {status.StatusCode} \"{status.Detail}\".",
                    status);
                return;
            }

            _silos.MoveNext(index);
            Publish(new AgentDeskEvent.ConnectionChanged(new ConnectionStateChange(ConnectionState.Reconnecting, Address, attempt, status)), locked: false);
            try
            {
                var pause = _options.Reconnect.DelayBefore(attempt, Random.Shared.NextDouble());
                if (synced && graceEnds - DateTime.UtcNow is { } left && left < pause)
                {
                    pause = left > TimeSpan.Zero ? left : TimeSpan.Zero;
                }

                await Task.Delay(pause, _closing.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task HandleAsync(AgentEvent received)
    {
        switch (received.EventCase)
        {
            case AgentEvent.EventOneofCase.Sync:
                lock (_lock)
                {
                    _state.Apply(received.Sync);
                    _synced = true;
                    Publish(new AgentDeskEvent.Synced(received.Sync));
                }

                _firstSync.TrySetResult();
                break;
            case AgentEvent.EventOneofCase.Offer:
                lock (_lock)
                {
                    _state.Apply(received.Offer);
                    Publish(new AgentDeskEvent.OfferReceived(received.Offer));
                }

                break;
            case AgentEvent.EventOneofCase.OfferWithdrawn:
                lock (_lock)
                {
                    _state.Withdraw(received.OfferWithdrawn.OfferId);
                    Publish(new AgentDeskEvent.OfferWithdrawn(received.OfferWithdrawn.OfferId, received.OfferWithdrawn.Reason));
                }

                break;
            case AgentEvent.EventOneofCase.Assigned:
                lock (_lock)
                {
                    _state.Apply(received.Assigned);
                    Publish(new AgentDeskEvent.Assigned(received.Assigned));
                }

                break;
            case AgentEvent.EventOneofCase.Entries:
                await ReceiveEntriesAsync(received.Entries);
                break;
            case AgentEvent.EventOneofCase.Notice:
                var notice = received.Notice;
                lock (_lock)
                {
                    if (_state.End(notice.ConversationId))
                    {
                        Publish(new AgentDeskEvent.ConversationEnded(notice.ConversationId, ToReason(notice.Kind), notice.Detail));
                    }
                }

                break;
            case AgentEvent.EventOneofCase.Status:
                lock (_lock)
                {
                    _state.Apply(received.Status);
                    Publish(new AgentDeskEvent.StatusChanged(received.Status));
                }

                break;
        }
    }

    /// <summary>Passes on new entries in sequence; a gap before them is filled from the transcript first.</summary>
    private async Task ReceiveEntriesAsync(ConversationEntries pushed)
    {
        var conversationId = pushed.ConversationId;
        var first = pushed.Entries.Count > 0 ? pushed.Entries.Min(e => e.Sequence) : 0;
        var known = State(s => s.ContiguousSequence(conversationId));
        var missing = new List<TimelineEntry>();
        if (known > 0 && first > known + 1)
        {
            try
            {
                var after = known;
                while (after + 1 < first)
                {
                    var page = await GetTranscriptAsync(conversationId, after, 0, _closing.Token);
                    missing.AddRange(page.Entries.Where(e => e.Sequence < first));
                    if (page.Entries.Count == 0)
                    {
                        break;
                    }

                    after = page.Entries[^1].Sequence;
                }
            }
            catch (RpcException)
            {
                // The conversation left the agent meanwhile, or the silo is gone: the next sync says which.
            }
        }

        lock (_lock)
        {
            if (_state.FindAssignment(conversationId) is null && !_state.Offers.Any(o => o.Context?.ConversationId == conversationId))
            {
                _state.Add(conversationId, pushed.Entries); // not (yet) the agent's on this desktop: kept, not announced
                if (pushed.Draft is { } early)
                {
                    _state.Apply(conversationId, early);
                }

                return;
            }

            var added = _state.Add(conversationId, missing.Concat(pushed.Entries));
            if (pushed.Draft is { } draft)
            {
                _state.Apply(conversationId, draft);
            }

            if (added.Count > 0 || pushed.Draft is not null)
            {
                Publish(new AgentDeskEvent.EntriesReceived(conversationId, added, pushed.Draft));
            }
        }
    }

    private static ConversationEndReason ToReason(NoticeKind kind) => kind switch
    {
        NoticeKind.Resolved => ConversationEndReason.Resolved,
        NoticeKind.ReturnedToQueue => ConversationEndReason.ReturnedToQueue,
        NoticeKind.TakenOver => ConversationEndReason.TakenOver,
        _ => ConversationEndReason.CustomerLeft,
    };

    /// <summary>Hands an event to every reader; one that is full is marked behind and gets a sync when it catches up.</summary>
    private void Publish(AgentDeskEvent desktopEvent, bool locked = true)
    {
        if (!locked)
        {
            lock (_lock)
            {
                Publish(desktopEvent);
            }

            return;
        }

        foreach (var reader in _readers)
        {
            if (desktopEvent is AgentDeskEvent.Synced)
            {
                reader.Behind = false; // a sync replaces everything: nothing missed before it matters
            }

            if (!reader.Behind && !reader.Buffer.Writer.TryWrite(desktopEvent))
            {
                reader.Behind = true;
            }
        }
    }

    private void Fail(string message, Status status)
    {
        var failure = new ConnectionFailedException(message, status);
        List<EventReader> readers;
        lock (_lock)
        {
            _failure = failure;
            Publish(new AgentDeskEvent.ConnectionChanged(new ConnectionStateChange(ConnectionState.Failed, Address, 0, status)));
            readers = [.. _readers];
        }

        foreach (var reader in readers)
        {
            reader.Buffer.Writer.TryComplete(failure);
        }

        _firstSync.TrySetException(failure);
        _completion.TrySetException(failure);
    }

    private DateTime Deadline() => DateTime.UtcNow + _options.CallTimeout;

    private sealed class EventReader(int capacity)
    {
        public Channel<AgentDeskEvent> Buffer { get; } = Channel.CreateBounded<AgentDeskEvent>(
            new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = false, FullMode = BoundedChannelFullMode.Wait });

        /// <summary>Dropped events since its buffer was full; it is owed a sync.</summary>
        public bool Behind { get; set; }
    }
}
