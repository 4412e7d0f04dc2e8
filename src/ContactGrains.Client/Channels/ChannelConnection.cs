using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ContactGrains.Protos.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace ContactGrains.Client;

/// <summary>
/// An adapter's connection to ContactGrains: one multiplexed <c>Connect</c> stream carrying any
/// number of conversations, kept alive across broken streams and silo restarts.
/// </summary>
/// <remarks>
/// <para><b>Sending.</b> <see cref="SendAsync(InboundMessage, CancellationToken)"/> writes a message and
/// waits for its ack. A message whose stream broke before the ack is sent again, with the same id, on
/// the next stream; the cluster stores it once (a resend may be acknowledged as DUPLICATE). A refusal
/// the cluster marks as retryable (UNAVAILABLE, ABORTED) is retried with backoff.</para>
/// <para><b>Reading.</b> <see cref="ReadConversationAsync"/> and <see cref="ReadAllAsync"/> return each
/// conversation's entries in sequence, with no gap and no duplicate, across reconnections: a new
/// stream resumes every conversation a reader follows from the last entry that reader received.</para>
/// <para><b>Trouble.</b> After a broken stream the connection tries the next address, with the backoff
/// of <see cref="ChannelConnectionOptions.Reconnect"/>. A refusal (a status other than unavailable,
/// internal, unknown, deadline or aborted), or too many failed attempts in a row, fails the connection:
/// every pending send and every reader then throws <see cref="ConnectionFailedException"/>.
/// Readers never hold more than <see cref="ChannelConnectionOptions.ReadBufferCapacity"/> entries: a
/// reader that falls further behind gets the rest again once it has caught up, and meanwhile never
/// holds up acks or other readers.</para>
/// <para>Thread-safe: any number of sends and readers at once.</para>
/// </remarks>
public sealed class ChannelConnection : IAsyncDisposable
{
    private static readonly TimeSpan RetryRefusedResumeAfter = TimeSpan.FromSeconds(1);

    /// <summary>A stream that lived this long counts as a success, so its end starts a fresh series of attempts.</summary>
    private static readonly TimeSpan StableStream = TimeSpan.FromSeconds(30);

    private readonly ChannelConnectionOptions _options;
    private readonly SiloEndpoints<ChannelService.ChannelServiceClient> _silos;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, PendingFrame> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ulong> _resumesInFlight = new(StringComparer.Ordinal);
    private readonly List<EntrySubscription> _subscriptions = [];
    private readonly List<(string ConversationId, ulong After)> _gaps = [];
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _run;
    private readonly Task _sweep;
    private LiveStream? _stream;
    private ConnectionFailedException? _failure;
    private long _resumeIds;
    private ConnectionStateChange _state;

    private ChannelConnection(ChannelConnectionOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Channel);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ReadBufferCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SendAttempts, 1);
        _options = options;
        _silos = new SiloEndpoints<ChannelService.ChannelServiceClient>(options.Addresses, options.GrpcChannels, channel => ChannelClient.Create(channel, options.Channel, options.ApiKey));
        _state = new ConnectionStateChange(ConnectionState.Connecting, Address, 0, null);
        _run = Task.Run(RunAsync);
        _sweep = Task.Run(SweepAsync);
    }

    /// <summary>The channel this connection speaks for.</summary>
    public string Channel => _options.Channel;

    /// <summary>The address of the silo in use (or tried next).</summary>
    public string Address => _silos.Current;

    /// <summary>The latest state change.</summary>
    public ConnectionStateChange State => Volatile.Read(ref _state);

    /// <summary>Streams opened so far (1 until the first reconnection).</summary>
    public int Streams { get; private set; }

    /// <summary>The unary API on the silo in use, for calls this class does not wrap.</summary>
    public ChannelService.ChannelServiceClient Unary => _silos.Client;

    /// <summary>
    /// Opens a connection. It starts connecting at once and returns without waiting: a silo that is
    /// down shows on the first send or read, after the reconnect policy's attempts.
    /// </summary>
    public static ChannelConnection Open(ChannelConnectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new ChannelConnection(options);
    }

    /// <summary>Opens a connection to the silos at <paramref name="addresses"/> as <paramref name="channel"/>, with the default options.</summary>
    public static ChannelConnection Open(string channel, params string[] addresses) =>
        Open(new ChannelConnectionOptions { Channel = channel, Addresses = addresses });

    /// <summary>
    /// Sends one customer message and waits for its ack. Returns the ack whether accepted, duplicate or
    /// rejected (see <see cref="MessageAck.EnsureStored"/>); throws only when no ack can come:
    /// <see cref="ConnectionFailedException"/>, <see cref="TimeoutException"/> after
    /// <see cref="ChannelConnectionOptions.AckTimeout"/>, or <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The message has no id.</exception>
    /// <exception cref="InvalidOperationException">A message with the same id is already waiting for its ack on this connection.</exception>
    public async Task<MessageAck> SendAsync(InboundMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentException.ThrowIfNullOrEmpty(message.MessageId, nameof(message) + "." + nameof(message.MessageId));

        // One deadline for every attempt, enforced by the sweep rather than a timer per message.
        var deadline = Stopwatch.GetTimestamp() + (long)(_options.AckTimeout.TotalSeconds * Stopwatch.Frequency);
        var frame = new ChannelUpstream { Message = message };
        var writes = 0;
        for (var attempt = 1; ; attempt++)
        {
            var pending = new PendingFrame(frame, null, deadline);
            lock (_lock)
            {
                ThrowIfUnusable();
                if (!_pending.TryAdd(message.MessageId, pending))
                {
                    throw new InvalidOperationException($"Message '{message.MessageId}' is already waiting for its ack on this connection.");
                }

                // No stream now: the next one sends it with the others still waiting.
                _stream?.Outbound.Writer.TryWrite(pending);
            }

            Ack ack;
            try
            {
                ack = await pending.Ack.Task.WaitAsync(cancellationToken);
            }
            finally
            {
                lock (_lock)
                {
                    if (_pending.TryGetValue(message.MessageId, out var current) && ReferenceEquals(current, pending))
                    {
                        _pending.Remove(message.MessageId);
                    }
                }
            }

            writes += pending.Writes;
            var pause = _options.Reconnect.DelayBefore(attempt, Random.Shared.NextDouble());
            if (ack.Status == AckStatus.Rejected && ack.RetryAfterMs > 0)
            {
                // Over a rate limit: the server says when the same message will be taken.
                pause = TimeSpan.FromMilliseconds(ack.RetryAfterMs);
            }

            if (ack.Status == AckStatus.Rejected && IsRetryableRefusal(ack) && attempt < _options.SendAttempts
                && Stopwatch.GetTimestamp() + (long)(pause.TotalSeconds * Stopwatch.Frequency) < deadline)
            {
                await Task.Delay(pause, cancellationToken);
                continue;
            }

            return MessageAck.From(ack, Math.Max(writes, 1));
        }
    }

    /// <summary>Sends one customer message (see <see cref="SendAsync(InboundMessage, CancellationToken)"/>).</summary>
    /// <param name="messageId">The adapter's id for it, unique per channel: a resend with the same id is stored once.</param>
    /// <param name="conversation">The conversation, by its id or by the adapter's thread id.</param>
    /// <param name="text">What the customer wrote.</param>
    /// <param name="customer">Who the customer is; needed when the message may start a conversation.</param>
    /// <param name="cancellationToken">Stops waiting (the message may still be stored).</param>
    public Task<MessageAck> SendAsync(
        string messageId, ConversationAddress conversation, string text, CustomerIdentity? customer = null, CancellationToken cancellationToken = default) =>
        SendAsync(new InboundMessage { MessageId = messageId, Conversation = conversation, Text = text, Customer = customer }, cancellationToken);

    /// <summary>
    /// The entries of one conversation after <paramref name="afterSequence"/> (0: from its start), then
    /// its new entries as they happen, in sequence with no gap and no duplicate, across reconnections.
    /// Ends after the conversation's CLOSED entry. Throws <see cref="RpcException"/> if the cluster
    /// refuses to resume it (NOT_FOUND: no such conversation on this channel; OUT_OF_RANGE:
    /// <paramref name="afterSequence"/> is beyond its last entry).
    /// </summary>
    public IAsyncEnumerable<TimelineEntry> ReadConversationAsync(string conversationId, ulong afterSequence = 0, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(conversationId);
        return ReadAsync(new EntrySubscription(conversationId, afterSequence, _options.ReadBufferCapacity), cancellationToken);
    }

    /// <summary>
    /// Every entry this connection receives once the enumeration has started (the reader registers on
    /// the first <c>MoveNextAsync</c>, not when this method is called: start reading before sending),
    /// of every conversation it carries (those it sent messages for or reads), in sequence per
    /// conversation with no gap and no duplicate, across reconnections. A conversation starts at its
    /// first entry that arrives after that; a conversation whose message was acknowledged but whose
    /// entries had not arrived when a stream broke is read again from its start.
    /// </summary>
    public IAsyncEnumerable<TimelineEntry> ReadAllAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(new EntrySubscription(null, 0, _options.ReadBufferCapacity), cancellationToken);

    /// <summary>Starts a conversation for the adapter's thread id without a message (unary).</summary>
    public async Task<StartConversationResponse> StartConversationAsync(
        string externalThreadId, CustomerIdentity customer, CancellationToken cancellationToken = default) =>
        await Unary.StartConversationAsync(
            new StartConversationRequest { ExternalThreadId = externalThreadId, Customer = customer }, deadline: Deadline(), cancellationToken: cancellationToken);

    /// <summary>
    /// Sends a message with the unary call, which returns the entries it produced (for webhook-style
    /// adapters). Not resent after a failure: call again with the same id.
    /// </summary>
    public async Task<SendMessageResponse> PostMessageAsync(InboundMessage message, CancellationToken cancellationToken = default) =>
        await Unary.SendMessageAsync(new SendMessageRequest { Message = message }, deadline: Deadline(), cancellationToken: cancellationToken);

    /// <summary>One page of a conversation's transcript: at most <paramref name="maxEntries"/> (0: the server's 500) after <paramref name="afterSequence"/>.</summary>
    public async Task<GetTranscriptResponse> GetTranscriptAsync(
        ConversationAddress conversation, ulong afterSequence = 0, uint maxEntries = 0, CancellationToken cancellationToken = default) =>
        await Unary.GetTranscriptAsync(
            new GetTranscriptRequest { Conversation = conversation, AfterSequence = afterSequence, MaxEntries = maxEntries },
            deadline: Deadline(),
            cancellationToken: cancellationToken);

    /// <summary>The whole transcript after <paramref name="afterSequence"/>, page by page.</summary>
    public async IAsyncEnumerable<TimelineEntry> ReadTranscriptAsync(
        ConversationAddress conversation, ulong afterSequence = 0, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var page = await GetTranscriptAsync(conversation, afterSequence, 0, cancellationToken);
            foreach (var entry in page.Entries)
            {
                yield return entry;
                afterSequence = entry.Sequence;
            }

            if (page.Entries.Count == 0 || afterSequence >= page.LastSequence)
            {
                yield break;
            }

            conversation = ConversationAddress.ForId(page.ConversationId);
        }
    }

    /// <summary>Closes a conversation (the customer left); its readers end after the CLOSED entry.</summary>
    public async Task<ConversationView> CloseConversationAsync(
        ConversationAddress conversation, string reason = "", CancellationToken cancellationToken = default) =>
        (await Unary.CloseConversationAsync(
            new CloseConversationRequest { Conversation = conversation, Reason = reason }, deadline: Deadline(), cancellationToken: cancellationToken)).Conversation;

    /// <summary>
    /// The customer's rating (1 to 5) of a conversation that asked for one (a RATING_REQUESTED entry).
    /// Throws <see cref="RpcException"/>: FAILED_PRECONDITION when it asked for none or was rated otherwise.
    /// </summary>
    public async Task RateConversationAsync(ConversationAddress conversation, uint rating, CancellationToken cancellationToken = default) =>
        await Unary.RateConversationAsync(
            new RateConversationRequest { Conversation = conversation, Rating = rating }, deadline: Deadline(), cancellationToken: cancellationToken);

    /// <summary>A conversation's state, owner and ledger.</summary>
    public async Task<ConversationView> GetConversationAsync(ConversationAddress conversation, CancellationToken cancellationToken = default) =>
        await Unary.GetConversationAsync(new GetConversationRequest { Conversation = conversation }, deadline: Deadline(), cancellationToken: cancellationToken);

    /// <summary>Ends the stream. Pending sends throw <see cref="ObjectDisposedException"/>; readers end.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            if (_closing.IsCancellationRequested)
            {
                return;
            }

            _closing.Cancel();
        }

        await _run.ConfigureAwait(false);
        await _sweep.ConfigureAwait(false);
        List<EntrySubscription> readers;
        List<PendingFrame> pending;
        lock (_lock)
        {
            readers = [.. _subscriptions];
            pending = [.. _pending.Values];
            _pending.Clear();
        }

        var disposed = new ObjectDisposedException(nameof(ChannelConnection), "The connection was disposed before the message was acknowledged.");
        foreach (var frame in pending)
        {
            frame.Ack.TrySetException(disposed);
        }

        foreach (var reader in readers)
        {
            reader.Complete();
        }

        Report(ConnectionState.Closed, 0, null);
        _silos.Dispose();

        _closing.Dispose();
    }

    private async IAsyncEnumerable<TimelineEntry> ReadAsync(EntrySubscription subscription, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            ThrowIfUnusable();
            _subscriptions.Add(subscription);
        }

        try
        {
            if (subscription.ConversationId is { } followed)
            {
                // Ask for the history and for the conversation's future entries on this connection.
                RequestResume(followed, subscription.DeliveredOf(followed), force: true);
            }

            var resumes = new List<(string ConversationId, ulong After)>();
            while (true)
            {
                while (subscription.Reader.TryRead(out var entry))
                {
                    yield return entry;
                }

                subscription.CatchUp(resumes);
                foreach (var (conversationId, after) in resumes)
                {
                    RequestResume(conversationId, after, force: true);
                }

                resumes.Clear();
                if (!await subscription.Reader.WaitToReadAsync(cancellationToken))
                {
                    yield break;
                }
            }
        }
        finally
        {
            lock (_lock)
            {
                _subscriptions.Remove(subscription);
            }
        }
    }

    private async Task RunAsync()
    {
        var attempt = 0;
        while (!_closing.IsCancellationRequested)
        {
            var index = _silos.Index;
            var call = _silos.ClientAt(index).Connect(cancellationToken: _closing.Token);
            var stream = new LiveStream(call, ++Streams);
            var opened = DateTime.UtcNow;
            var heard = false;
            Task? writing = null;
            Status status;
            try
            {
                await call.ResponseHeadersAsync; // the silo accepted the stream
                Report(ConnectionState.Connected, 0, null);
                writing = WriteLoopAsync(stream);
                Replay(stream);
                while (await call.ResponseStream.MoveNext(_closing.Token))
                {
                    heard = true;
                    Dispatch(call.ResponseStream.Current);
                }

                status = call.GetStatus();
            }
            catch (RpcException ex)
            {
                status = ex.Status;
            }
            catch (OperationCanceledException) when (_closing.IsCancellationRequested)
            {
                status = Status.DefaultCancelled;
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException or HttpRequestException)
            {
                status = new Status(StatusCode.Unavailable, ex.Message);
            }
            finally
            {
                lock (_lock)
                {
                    if (ReferenceEquals(_stream, stream))
                    {
                        _stream = null;
                    }

                    _resumesInFlight.Clear();
                }

                stream.Outbound.Writer.TryComplete();
                call.Dispose();
                if (writing is not null)
                {
                    await writing;
                }
            }

            if (_closing.IsCancellationRequested)
            {
                return;
            }

            if (stream.EndedByWriter && status.StatusCode == StatusCode.Cancelled)
            {
                // The reader heard the write loop end a stream that broke under it ("call disposed"),
                // not the silo refusing the stream: reconnect like any broken stream.
                status = new Status(StatusCode.Unavailable, "The stream broke while a frame was being written.");
            }

            if (heard || DateTime.UtcNow - opened >= StableStream)
            {
                attempt = 0;
            }

            if (!IsTransient(status.StatusCode))
            {
                Fail($"The silo at {_silos.AddressAt(index)} refused the channel stream: {status.StatusCode} \"{status.Detail}\".", status);
                return;
            }

            attempt++;
            if (attempt > _options.Reconnect.MaxAttempts)
            {
                Fail(
                    $"No silo kept a channel stream open after {_options.Reconnect.MaxAttempts} attempts in a row; the last, to {_silos.AddressAt(index)}, ended with {status.StatusCode} \"{status.Detail}\".",
                    status);
                return;
            }

            _silos.MoveNext(index);
            Report(ConnectionState.Reconnecting, attempt, status);
            try
            {
                await Task.Delay(_options.Reconnect.DelayBefore(attempt, Random.Shared.NextDouble()), _closing.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// On a new stream: resume every conversation a reader follows, then resend every message still
    /// waiting for its ack, in the order first sent. Done under the lock that sends take, and before
    /// the stream is made current, so no new message can overtake an older one of its conversation.
    /// </summary>
    private void Replay(LiveStream stream)
    {
        var points = new List<(string ConversationId, ulong After)>();
        lock (_lock)
        {
            foreach (var subscription in _subscriptions)
            {
                subscription.ResumePoints(points);
            }

            // Stale resumes of the old stream are superseded by these.
            foreach (var id in _pending.Where(p => p.Value.Resume is not null).Select(p => p.Key).ToList())
            {
                _pending.Remove(id);
            }

            var unacknowledged = _pending.Values.OrderBy(p => p.Order).ToList();
            foreach (var group in points.GroupBy(p => p.ConversationId, StringComparer.Ordinal))
            {
                stream.Outbound.Writer.TryWrite(NewResume(group.Key, group.Min(p => p.After)));
            }

            foreach (var pending in unacknowledged)
            {
                stream.Outbound.Writer.TryWrite(pending);
            }

            _stream = stream;
        }
    }

    /// <summary>The stream's only writer (gRPC allows one write at a time): frames in the order queued, each once per stream.</summary>
    private static async Task WriteLoopAsync(LiveStream stream)
    {
        await Task.Yield();
        try
        {
            while (await stream.Outbound.Reader.WaitToReadAsync())
            {
                while (stream.Outbound.Reader.TryRead(out var pending))
                {
                    if (pending.WrittenOn == stream.Generation || pending.Ack.Task.IsCompleted)
                    {
                        continue;
                    }

                    pending.WrittenOn = stream.Generation;
                    pending.Writes++;
                    await stream.Call.RequestStream.WriteAsync(pending.Frame, CancellationToken.None);
                }
            }
        }
        catch (Exception ex) when (ex is RpcException or IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            // The stream is broken or ending; the next stream sends what is left. A call that already
            // has its status (e.g. the silo refused the stream) is left to its reader, which reports
            // that status; disposing it would turn a refusal into "call disposed" (CANCELLED).
            // Otherwise ending the call makes sure its reader notices too.
            if (!HasStatus(stream.Call))
            {
                stream.EndedByWriter = true;
                stream.Call.Dispose();
            }
        }
    }

    private static bool HasStatus(AsyncDuplexStreamingCall<ChannelUpstream, ChannelDownstream> call)
    {
        try
        {
            call.GetStatus();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false; // still running
        }
    }

    /// <summary>Fails the messages whose ack is overdue, about four times per ack timeout.</summary>
    private async Task SweepAsync()
    {
        var period = TimeSpan.FromTicks(Math.Clamp(_options.AckTimeout.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(5).Ticks));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(_closing.Token))
            {
                var now = Stopwatch.GetTimestamp();
                List<PendingFrame>? overdue = null;
                lock (_lock)
                {
                    foreach (var pending in _pending.Values)
                    {
                        if (pending.Resume is null && pending.Deadline < now)
                        {
                            (overdue ??= []).Add(pending);
                        }
                    }
                }

                foreach (var pending in overdue ?? [])
                {
                    pending.Ack.TrySetException(new TimeoutException(
                        $"Message '{pending.Frame.Message.MessageId}' got no ack within {_options.AckTimeout.TotalSeconds:0.#} s (connection: {State.State} to {Address})."));
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    private void Dispatch(ChannelDownstream frame)
    {
        if (frame.Ack is { } ack)
        {
            PendingFrame? pending;
            lock (_lock)
            {
                _pending.Remove(ack.CorrelationId, out pending);
                if (pending is { Resume: null } && ack.ConversationId.Length > 0)
                {
                    foreach (var reader in _subscriptions)
                    {
                        reader.NoteAcknowledged(ack.ConversationId);
                    }
                }
            }

            if (pending is null)
            {
                return; // the ack of a frame written twice (before and after a reconnect): answered already
            }

            if (pending.Resume is { } resume)
            {
                OnResumeAcknowledged(resume, ack);
                return;
            }

            pending.Ack.TrySetResult(ack);
            return;
        }

        if (frame.Entry is { } entry)
        {
            // Only this stream's reader runs here, so one list serves every entry.
            _gaps.Clear();
            lock (_lock)
            {
                foreach (var subscription in _subscriptions)
                {
                    subscription.Offer(entry, _gaps);
                }
            }

            foreach (var (conversationId, after) in _gaps)
            {
                RequestResume(conversationId, after, force: false);
            }
        }
    }

    private void OnResumeAcknowledged((string ConversationId, ulong After) resume, Ack ack)
    {
        lock (_lock)
        {
            if (_resumesInFlight.TryGetValue(resume.ConversationId, out var after) && after == resume.After)
            {
                _resumesInFlight.Remove(resume.ConversationId);
            }
        }

        if (ack.Status != AckStatus.Rejected)
        {
            return;
        }

        if (IsRetryableRefusal(ack))
        {
            _ = Task.Delay(RetryRefusedResumeAfter, _closing.Token)
                .ContinueWith(_ => RequestResume(resume.ConversationId, resume.After, force: true), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            return;
        }

        // The conversation cannot be followed (unknown, or not this channel's): its readers end with the reason.
        var refusal = new RpcException(new Status((StatusCode)ack.Code, ack.Detail));
        lock (_lock)
        {
            foreach (var subscription in _subscriptions.Where(s => string.Equals(s.ConversationId, resume.ConversationId, StringComparison.Ordinal)))
            {
                subscription.Complete(refusal);
            }
        }
    }

    /// <summary>
    /// Asks the cluster to deliver a conversation's entries after <paramref name="after"/> on this
    /// connection. Unless forced, skipped when a resume from that point or earlier is already on its way.
    /// </summary>
    private void RequestResume(string conversationId, ulong after, bool force)
    {
        lock (_lock)
        {
            if (_closing.IsCancellationRequested || _failure is not null)
            {
                return;
            }

            if (!force && _resumesInFlight.TryGetValue(conversationId, out var inFlight) && inFlight <= after)
            {
                return;
            }

            // No stream now: the next one resumes every followed conversation anyway.
            _stream?.Outbound.Writer.TryWrite(NewResume(conversationId, after));
        }
    }

    /// <summary>A resume frame, registered as in flight (call under the lock).</summary>
    private PendingFrame NewResume(string conversationId, ulong after)
    {
        _resumesInFlight[conversationId] = after;
        var requestId = "resume-" + (++_resumeIds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var pending = new PendingFrame(
            new ChannelUpstream { Resume = new ResumeRequest { Conversation = ConversationAddress.ForId(conversationId), AfterSequence = after, RequestId = requestId } },
            (conversationId, after),
            long.MaxValue);
        _pending[requestId] = pending;
        return pending;
    }

    private void Fail(string message, Status status)
    {
        var failure = new ConnectionFailedException(message, status);
        List<PendingFrame> pending;
        List<EntrySubscription> readers;
        lock (_lock)
        {
            _failure = failure;
            pending = [.. _pending.Values];
            _pending.Clear();
            readers = [.. _subscriptions];
        }

        Report(ConnectionState.Failed, 0, status);
        foreach (var frame in pending)
        {
            frame.Ack.TrySetException(failure);
        }

        foreach (var reader in readers)
        {
            reader.Complete(failure);
        }
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_closing.IsCancellationRequested, this);
        if (_failure is { } failure)
        {
            throw new ConnectionFailedException(failure.Message, failure.Status);
        }
    }

    private void Report(ConnectionState state, int attempt, Status? status)
    {
        var change = new ConnectionStateChange(state, Address, attempt, status);
        Volatile.Write(ref _state, change);
        _options.OnStateChange?.Invoke(change);
    }

    private DateTime Deadline() => DateTime.UtcNow + _options.CallTimeout;

    /// <summary>A stream that ended like this may work again on another try (a channel stream is never replaced, so ABORTED is a cut too).</summary>
    private static bool IsTransient(StatusCode code) => ConnectionFailedException.IsTransient(code) || code == StatusCode.Aborted;

    /// <summary>The ack codes the channel API says to retry with the same id.</summary>
    private static bool IsRetryableRefusal(Ack ack) =>
        ack.Code is (int)StatusCode.Unavailable or (int)StatusCode.Aborted
        || (ack.Code == (int)StatusCode.ResourceExhausted && ack.RetryAfterMs > 0);

    /// <summary>One stream and its outbound queue, drained by its one writer loop.</summary>
    private sealed record LiveStream(AsyncDuplexStreamingCall<ChannelUpstream, ChannelDownstream> Call, int Generation)
    {
        public Channel<PendingFrame> Outbound { get; } = System.Threading.Channels.Channel.CreateUnbounded<PendingFrame>(new UnboundedChannelOptions { SingleReader = true });

        /// <summary>The write loop ended the call because the stream broke under it.</summary>
        public volatile bool EndedByWriter;
    }

    /// <summary>A frame waiting for its ack: sent again on every new stream until it gets one.</summary>
    private sealed class PendingFrame(ChannelUpstream frame, (string ConversationId, ulong After)? resume, long deadline)
    {
        private static long _created;

        public ChannelUpstream Frame { get; } = frame;

        /// <summary>For resume frames: the conversation and the point it resumes after.</summary>
        public (string ConversationId, ulong After)? Resume { get; } = resume;

        /// <summary>When a message's ack is overdue (<see cref="Stopwatch"/> ticks).</summary>
        public long Deadline { get; } = deadline;

        /// <summary>When the frame was created, relative to the others: resends keep this order.</summary>
        public long Order { get; } = Interlocked.Increment(ref _created);

        public TaskCompletionSource<Ack> Ack { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The stream generation this frame was last written on (written by that stream's writer loop only).</summary>
        public int WrittenOn { get; set; }

        public int Writes { get; set; }
    }
}
